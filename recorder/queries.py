"""SQL for recordings and the ingest queue, as typed functions: ingest (the webhook) and the
worker's job life (claim, lease, process, finish, retry, fail). The caller owns connections
and transactions; staff reads are :mod:`recorder.catalog`."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final

from recorder.metadata import CallMetadata
from storage.db import Connection, Pool
from storage.vault import SealedObject, insert_sealed

INSERT_RECORDING: Final = """
INSERT INTO recordings (id, external_id, started_at, declared_duration_seconds, answered_by,
    caller_number, direction, service_line, channel_layout, notice_played, customer_id,
    customer_link, audio_url, incoming_object_id, received_sha256, fetch_auth,
    answered_by_user_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
    COALESCE((SELECT id FROM users WHERE username = $5),
             (SELECT id FROM users WHERE extension = $5)))
ON CONFLICT (external_id) DO NOTHING
RETURNING id
"""
SELECT_BY_EXTERNAL_ID: Final = "SELECT id, status FROM recordings WHERE external_id = $1"
INSERT_SIGNATURE: Final = """
INSERT INTO webhook_signatures (digest) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true
"""
PURGE_SIGNATURES: Final = (
    "DELETE FROM webhook_signatures WHERE seen_at < now() - interval '15 minutes'"
)
INSERT_JOB: Final = "INSERT INTO ingest_jobs (recording_id) VALUES ($1)"
NOTIFY_WORKERS: Final = "SELECT pg_notify('callrec_ingest', '')"
SELECT_STATUS: Final = "SELECT status, error FROM recordings WHERE id = $1"
CLAIM_JOB: Final = """
UPDATE ingest_jobs j SET attempts = j.attempts + 1, leased_until = now() + $1::interval
WHERE j.recording_id = (
    SELECT q.recording_id FROM ingest_jobs q JOIN recordings c ON c.id = q.recording_id
    WHERE q.run_after <= now() AND (q.leased_until IS NULL OR q.leased_until < now())
        AND ($2 OR NOT (q.long_call OR c.declared_duration_seconds > $3))
    ORDER BY q.run_after
    FOR UPDATE OF q SKIP LOCKED
    LIMIT 1
)
RETURNING j.recording_id, j.attempts
"""
RENEW_LEASE: Final = """
UPDATE ingest_jobs SET leased_until = now() + $3::interval
WHERE recording_id = $1 AND attempts = $2
RETURNING true
"""
HOLD_JOB: Final = """
SELECT true FROM ingest_jobs WHERE recording_id = $1 AND attempts = $2 FOR UPDATE
"""
START_RECORDING: Final = """
UPDATE recordings SET status = 'processing', updated_at = now() WHERE id = $1
RETURNING incoming_object_id, audio_url, fetch_auth, declared_duration_seconds, caller_number,
    channel_layout
"""
SET_INCOMING: Final = """
UPDATE recordings SET incoming_object_id = $2, received_sha256 = $3, audio_url = NULL,
    updated_at = now()
WHERE id = $1
"""
FINISH_RECORDING: Final = """
UPDATE recordings SET
    status = 'ready', audio_object_id = $2, measured_duration_seconds = $3, channels = $4,
    audio_format = $5, waveform = $6, audio_sha256 = $7, duration_mismatch = $8,
    incoming_object_id = CASE WHEN $9 THEN incoming_object_id END,
    customer_id = COALESCE(customer_id, $10),
    customer_link = CASE WHEN customer_id IS NULL AND $10::uuid IS NOT NULL THEN 'auto_phone'
                         ELSE customer_link END,
    error = NULL, updated_at = now()
WHERE id = $1
"""
DELETE_JOB: Final = "DELETE FROM ingest_jobs WHERE recording_id = $1"
RETRY_JOB: Final = """
UPDATE ingest_jobs SET run_after = now() + $2::interval, leased_until = NULL, last_error = $3
WHERE recording_id = $1
"""
REQUEUE_JOB: Final = """
UPDATE ingest_jobs SET leased_until = NULL, long_call = long_call OR $2 WHERE recording_id = $1
"""
# status changes while a job is held; never out of 'ready' or 'failed' (belt and braces)
SET_PENDING_STATUS: Final = """
UPDATE recordings SET status = $3, error = $2, updated_at = now()
WHERE id = $1 AND status IN ('received', 'processing')
"""


class DuplicateRecording(Exception):
    """The telephony system already delivered this call."""


class ReplayedRequest(Exception):
    """The same signed request was seen before, and its recording no longer exists."""


async def accept_recording(
    pool: Pool,
    meta: CallMetadata,
    sealed: SealedObject | None,
    signature: bytes,
    *,
    fetch_auth: str | None = None,
) -> uuid.UUID:
    """Insert the recording, its incoming object and its ingest job in one transaction.

    Raises :class:`DuplicateRecording` (nothing written) when ``external_id`` exists, and
    :class:`ReplayedRequest` when the signature was already used for a recording now gone.
    """
    recording_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        if sealed is not None:
            await insert_sealed(conn, sealed)
        inserted = await conn.fetchval(
            INSERT_RECORDING,
            recording_id,
            meta.external_id,
            meta.started_at,
            meta.duration_seconds,
            meta.answered_by,
            meta.caller_number,
            meta.direction,
            meta.service_line,
            meta.channel_layout,
            meta.notice_played,
            meta.customer_id,
            "webhook" if meta.customer_id is not None else None,
            meta.audio_url,
            sealed.id if sealed is not None else None,
            sealed.plaintext_sha256 if sealed is not None else None,
            fetch_auth,
        )
        if inserted is None:
            raise DuplicateRecording(meta.external_id)
        if not await conn.fetchval(INSERT_SIGNATURE, hashlib.sha256(signature).digest()):
            raise ReplayedRequest
        await conn.execute(INSERT_JOB, recording_id)
        await conn.execute(NOTIFY_WORKERS)
    return recording_id


async def find_by_external_id(conn: Connection | Pool, external_id: str) -> tuple[uuid.UUID, str]:
    """The id and status of an already delivered call."""
    row = await conn.fetchrow(SELECT_BY_EXTERNAL_ID, external_id)
    if row is None:
        raise LookupError(external_id)
    return row["id"], row["status"]


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker now leases; ``attempt`` is the lease's fencing token."""

    recording_id: uuid.UUID
    attempt: int


@dataclass(frozen=True)
class StartedRecording:
    """What the worker needs of a recording it starts processing."""

    incoming_object_id: uuid.UUID | None
    audio_url: str | None
    fetch_auth: str | None
    declared_duration_seconds: Decimal
    caller_number: str | None
    channel_layout: str


@dataclass(frozen=True)
class Rendition:
    """The stored rendition and what the audio pipeline measured."""

    audio_object_id: uuid.UUID
    duration_seconds: Decimal
    channels: int
    audio_format: str
    waveform: dict[str, Any]
    audio_sha256: bytes
    duration_mismatch: bool


async def status_of(
    db: Connection | Pool, recording_id: uuid.UUID
) -> tuple[str, str | None] | None:
    """The recording's ingest status and error, if there is such a recording."""
    row = await db.fetchrow(SELECT_STATUS, recording_id)
    return None if row is None else (row["status"], row["error"])


async def claim_job(
    pool: Pool, lease: timedelta, *, long_ok: bool, long_call: timedelta
) -> ClaimedJob | None:
    """Lease the next due job (a long call only if ``long_ok``); None when none is due."""
    row = await pool.fetchrow(CLAIM_JOB, lease, long_ok, long_call.total_seconds())
    return None if row is None else ClaimedJob(row["recording_id"], row["attempts"])


async def hold_job(conn: Connection, recording_id: uuid.UUID, attempt: int) -> bool:
    """Lock the job row in the caller's transaction; False when another attempt has it."""
    return bool(await conn.fetchval(HOLD_JOB, recording_id, attempt))


async def renew_lease(pool: Pool, recording_id: uuid.UUID, attempt: int, lease: timedelta) -> bool:
    """Extend this attempt's lease; False when another worker holds the job now."""
    return bool(await pool.fetchval(RENEW_LEASE, recording_id, attempt, lease))


async def start_recording(pool: Pool, recording_id: uuid.UUID) -> StartedRecording | None:
    """Mark the recording ``processing``; None when it was erased while queued."""
    row = await pool.fetchrow(START_RECORDING, recording_id)
    return None if row is None else StartedRecording(**dict(row))


async def set_incoming(
    conn: Connection, recording_id: uuid.UUID, object_id: uuid.UUID, sha256: bytes
) -> None:
    """The fetched audio is stored: it replaces the URL as the recording's upload."""
    await conn.execute(SET_INCOMING, recording_id, object_id, sha256)


async def finish_recording(
    conn: Connection,
    recording_id: uuid.UUID,
    rendition: Rendition,
    *,
    keep_incoming: bool,
    customer_id: uuid.UUID | None,
) -> None:
    """Mark the recording ``ready`` with its rendition; link ``customer_id`` unless linked."""
    await conn.execute(
        FINISH_RECORDING,
        recording_id,
        rendition.audio_object_id,
        rendition.duration_seconds,
        rendition.channels,
        rendition.audio_format,
        rendition.waveform,
        rendition.audio_sha256,
        rendition.duration_mismatch,
        keep_incoming,
        customer_id,
    )


async def delete_job(db: Connection | Pool, recording_id: uuid.UUID) -> None:
    """The job is done (or its recording is gone)."""
    await db.execute(DELETE_JOB, recording_id)


async def retry_job(
    conn: Connection, recording_id: uuid.UUID, delay: timedelta, error_type: str
) -> None:
    """Run the job again after ``delay``; ``error_type`` names what failed (no message text)."""
    await conn.execute(RETRY_JOB, recording_id, delay, error_type)


async def requeue_job(conn: Connection, recording_id: uuid.UUID, *, long_call: bool) -> None:
    """Give the job back at once (to a long-call slot when ``long_call``)."""
    await conn.execute(REQUEUE_JOB, recording_id, long_call)


async def queue_recording(conn: Connection, recording_id: uuid.UUID, error: str | None) -> None:
    """The recording waits again (``received``), with the reason it will be tried again."""
    await conn.execute(SET_PENDING_STATUS, recording_id, error, "received")


async def fail_recording(conn: Connection, recording_id: uuid.UUID, reason: str) -> None:
    """The recording failed for good, with a reason a person can act on."""
    await conn.execute(SET_PENDING_STATUS, recording_id, reason, "failed")


async def purge_signatures(pool: Pool) -> None:
    """Forget webhook signatures older than the replay window (and some)."""
    await pool.execute(PURGE_SIGNATURES)
