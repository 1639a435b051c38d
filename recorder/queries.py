"""SQL for recordings and the ingest queue; the caller owns connections and transactions."""

from __future__ import annotations

import hashlib
import uuid
from typing import Final

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
