"""Redaction spans and the redacted rendition's state, as typed SQL functions.

A span silences ``[start_seconds, end_seconds)`` of one channel (agent, customer) or of both.
Spans of the same channel that overlap or touch are merged into one, so the list a DPO
reviews never shows the same second twice. Every change of the spans queues the recording's
redacted rendition again (:func:`queue_render`): its row is also the render job, claimed,
leased and fenced like an ingest job; ``generation`` tells a render of outdated spans from
the current one. When the last span goes, the rendition goes too (shredded).

The caller owns connections and transactions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final, Literal

from storage.db import Connection, Pool
from storage.fieldcrypt import FieldCipher
from storage.sealing import PlainColumn
from storage.vault import shred_headers

Channel = Literal["both", "agent", "customer"]
RenditionStatus = Literal["none", "pending", "ready", "failed"]
NOTIFY_WORKERS: Final = "SELECT pg_notify('callrec_ingest', '')"

SELECT_SPANS: Final = """
SELECT id, start_seconds, end_seconds, channel, reason_encrypted, created_by
FROM redactions WHERE recording_id = $1 ORDER BY start_seconds, channel, id
"""
SELECT_CUTS: Final = """
SELECT start_seconds, end_seconds, channel
FROM redactions WHERE recording_id = $1 ORDER BY start_seconds, channel, id
"""
LOCK_RECORDING: Final = """
SELECT measured_duration_seconds, channels, channel_layout, status FROM recordings
WHERE id = $1 FOR UPDATE
"""
# the spans of this channel that overlap or touch [$3, $4]
TOUCHING: Final = """
DELETE FROM redactions WHERE recording_id = $1 AND channel = $2
    AND start_seconds <= $4 AND end_seconds >= $3
RETURNING id, start_seconds, end_seconds, reason_encrypted
"""
INSERT_SPAN: Final = """
INSERT INTO redactions (id, recording_id, start_seconds, end_seconds, channel,
    reason_encrypted, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
DELETE_SPAN: Final = """
DELETE FROM redactions WHERE id = $2 AND recording_id = $1
RETURNING start_seconds, end_seconds, channel
"""
SPAN_COUNT: Final = "SELECT count(*) FROM redactions WHERE recording_id = $1"
QUEUE_RENDER: Final = """
INSERT INTO redacted_renditions (recording_id, status) VALUES ($1, 'pending')
ON CONFLICT (recording_id) DO UPDATE SET status = 'pending', generation =
    redacted_renditions.generation + 1, failures = 0, run_after = now(), leased_until = NULL,
    error = NULL, updated_at = now()
"""
DROP_RENDITION: Final = """
DELETE FROM redacted_renditions WHERE recording_id = $1 RETURNING audio_object_id
"""
SELECT_RENDITION: Final = """
SELECT status, audio_object_id, waveform FROM redacted_renditions WHERE recording_id = $1
"""
HAS_SPANS: Final = "SELECT EXISTS (SELECT 1 FROM redactions WHERE recording_id = $1)"

CLAIM_RENDER: Final = """
UPDATE redacted_renditions r SET attempts = r.attempts + 1,
    leased_until = now() + $1::interval
WHERE r.recording_id = (
    SELECT q.recording_id FROM redacted_renditions q
    WHERE q.status = 'pending' AND q.run_after <= now()
        AND (q.leased_until IS NULL OR q.leased_until < now())
    ORDER BY q.run_after
    FOR UPDATE SKIP LOCKED
    LIMIT 1
)
RETURNING r.recording_id, r.attempts AS attempt, r.generation, r.failures
"""
RENEW_RENDER: Final = """
UPDATE redacted_renditions SET leased_until = now() + $3::interval
WHERE recording_id = $1 AND attempts = $2 AND status = 'pending'
RETURNING true
"""
HOLD_RENDER: Final = """
SELECT audio_object_id FROM redacted_renditions
WHERE recording_id = $1 AND attempts = $2 AND generation = $3 AND status = 'pending'
FOR UPDATE
"""
FINISH_RENDER: Final = """
UPDATE redacted_renditions SET status = 'ready', audio_object_id = $2, waveform = $3,
    leased_until = NULL, error = NULL, updated_at = now()
WHERE recording_id = $1
"""
RETRY_RENDER: Final = """
UPDATE redacted_renditions SET failures = failures + 1, leased_until = NULL,
    run_after = now() + $3::interval, error = $2, updated_at = now()
WHERE recording_id = $1
"""
FAIL_RENDER: Final = """
UPDATE redacted_renditions SET status = 'failed', leased_until = NULL, error = $2,
    updated_at = now()
WHERE recording_id = $1
"""
RENDER_SOURCE: Final = """
SELECT r.audio_object_id, r.channels, r.channel_layout FROM recordings r
WHERE r.id = $1 AND r.status = 'ready'
"""


PLAIN_REASONS: Final = PlainColumn("redactions", ("id",), "reason", "reason_encrypted")
context: Final = PLAIN_REASONS.context


@dataclass(frozen=True)
class Cut:
    """What a render silences: a span's time and channel (its reason stays sealed)."""

    start_seconds: Decimal
    end_seconds: Decimal
    channel: Channel


@dataclass(frozen=True)
class Span(Cut):
    """One redaction span; ``reason`` is the DPO's free text (personal data), sealed per row
    with the field cipher and opened only for the DPO's list."""

    id: uuid.UUID
    reason: str
    created_by: uuid.UUID | None = None

    def as_json(self) -> dict[str, Any]:
        """The span as the API lists it."""
        return {
            "id": str(self.id),
            "start_seconds": float(self.start_seconds),
            "end_seconds": float(self.end_seconds),
            "channel": self.channel,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CallShape:
    """What decides which spans a recording can take: its length and its channels."""

    duration_seconds: Decimal | None
    channels: int | None
    channel_layout: str
    status: str

    @property
    def per_channel(self) -> bool:
        """Agent and customer are told apart only in a stereo call with a known layout."""
        return self.channels == 2 and self.channel_layout in ("agent-left", "agent-right")


@dataclass(frozen=True)
class Added:
    """The span as stored, and the ids of the spans it absorbed (merged into it)."""

    span: Span
    merged: list[uuid.UUID]


async def lock_recording(conn: Connection, recording_id: uuid.UUID) -> CallShape | None:
    """Lock the recording row (span changes of one call take turns); None if there is none."""
    row = await conn.fetchrow(LOCK_RECORDING, recording_id)
    if row is None:
        return None
    return CallShape(
        row["measured_duration_seconds"], row["channels"], row["channel_layout"], row["status"]
    )


def _reason(cipher: FieldCipher, row: Any) -> str:
    return cipher.decrypt(row["reason_encrypted"], context(row["id"]))


async def spans_of(
    db: Connection | Pool, cipher: FieldCipher, recording_id: uuid.UUID
) -> list[Span]:
    """The recording's spans in time order, their reasons opened."""
    rows = await db.fetch(SELECT_SPANS, recording_id)
    return [
        Span(
            start_seconds=row["start_seconds"],
            end_seconds=row["end_seconds"],
            channel=row["channel"],
            id=row["id"],
            reason=_reason(cipher, row),
            created_by=row["created_by"],
        )
        for row in rows
    ]


async def cuts_of(db: Connection | Pool, recording_id: uuid.UUID) -> list[Cut]:
    """What the renderer silences, in time order (no reason: the worker has no cipher)."""
    return [Cut(**dict(row)) for row in await db.fetch(SELECT_CUTS, recording_id)]


async def add_span(
    conn: Connection,
    cipher: FieldCipher,
    recording_id: uuid.UUID,
    start: Decimal,
    end: Decimal,
    channel: Channel,
    reason: str,
    by: uuid.UUID,
) -> Added:
    """Store a span, merging the spans of the same channel it overlaps or touches.

    The merged span covers them all and keeps every reason, in time order, one per line.
    """
    absorbed = await conn.fetch(TOUCHING, recording_id, channel, start, end)
    reasons = [(row["start_seconds"], _reason(cipher, row)) for row in absorbed]
    reasons.append((start, reason))
    for row in absorbed:
        start, end = min(start, row["start_seconds"]), max(end, row["end_seconds"])
    unique: list[str] = []
    for _, text in sorted(reasons, key=lambda item: item[0]):
        if text not in unique:
            unique.append(text)
    span = Span(
        start_seconds=start,
        end_seconds=end,
        channel=channel,
        id=uuid.uuid4(),
        reason="\n".join(unique),
        created_by=by,
    )
    await conn.execute(
        INSERT_SPAN,
        span.id,
        recording_id,
        span.start_seconds,
        span.end_seconds,
        channel,
        cipher.encrypt(span.reason, context(span.id)),
        by,
    )
    await queue_render(conn, recording_id)
    return Added(span, [row["id"] for row in absorbed])


async def remove_span(
    conn: Connection, recording_id: uuid.UUID, span_id: uuid.UUID
) -> tuple[dict[str, str] | None, list[str]]:
    """Delete a span; returns what it covered (None: no such span) and the payload keys of a
    rendition shredded because no span is left (delete them after the commit)."""
    row = await conn.fetchrow(DELETE_SPAN, recording_id, span_id)
    if row is None:
        return None, []
    covered = {
        "start": str(row["start_seconds"]),
        "end": str(row["end_seconds"]),
        "channel": row["channel"],
    }
    if await conn.fetchval(SPAN_COUNT, recording_id):
        await queue_render(conn, recording_id)
        return covered, []
    return covered, await drop_rendition(conn, recording_id)


async def queue_render(conn: Connection, recording_id: uuid.UUID) -> None:
    """The spans changed: (re-)render the redacted rendition; wake the workers."""
    await conn.execute(QUEUE_RENDER, recording_id)
    await conn.execute(NOTIFY_WORKERS)


async def drop_rendition(conn: Connection, recording_id: uuid.UUID) -> list[str]:
    """Forget the rendition and shred its object; the payload keys to delete after commit."""
    object_id = await conn.fetchval(DROP_RENDITION, recording_id)
    return await shred_headers(conn, [object_id]) if object_id is not None else []


@dataclass(frozen=True)
class RedactedRendition:
    """The redacted rendition's state; ``audio_object_id`` set once one was rendered."""

    status: RenditionStatus
    audio_object_id: uuid.UUID | None = None
    waveform: dict[str, Any] | None = None


async def rendition_of(db: Connection | Pool, recording_id: uuid.UUID) -> RedactedRendition:
    """The redacted rendition's state (``none`` when the recording has no spans)."""
    row = await db.fetchrow(SELECT_RENDITION, recording_id)
    if row is None:
        return RedactedRendition("none")
    return RedactedRendition(row["status"], row["audio_object_id"], row["waveform"])


# --- the render job ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedRender:
    """A render this worker leases: ``attempt`` fences the lease, ``generation`` the spans."""

    recording_id: uuid.UUID
    attempt: int
    generation: int
    failures: int


@dataclass(frozen=True)
class RenderSource:
    """The original rendition to render from and how its channels are laid out."""

    audio_object_id: uuid.UUID
    channels: int
    channel_layout: str


async def claim_render(pool: Pool, lease: timedelta) -> ClaimedRender | None:
    """Lease the next due render; None when none is due."""
    row = await pool.fetchrow(CLAIM_RENDER, lease)
    return None if row is None else ClaimedRender(**dict(row))


async def renew_render(pool: Pool, job: ClaimedRender, lease: timedelta) -> bool:
    """Extend this attempt's lease; False when another worker holds the render now."""
    return bool(await pool.fetchval(RENEW_RENDER, job.recording_id, job.attempt, lease))


async def render_source(db: Connection | Pool, recording_id: uuid.UUID) -> RenderSource | None:
    """The ready original rendition (None once it is erased)."""
    row = await db.fetchrow(RENDER_SOURCE, recording_id)
    if row is None or row["audio_object_id"] is None:
        return None
    return RenderSource(row["audio_object_id"], row["channels"], row["channel_layout"])


async def hold_render(conn: Connection, job: ClaimedRender) -> tuple[bool, uuid.UUID | None]:
    """Lock the render row if this attempt still holds this generation: (held, old object)."""
    row = await conn.fetchrow(HOLD_RENDER, job.recording_id, job.attempt, job.generation)
    return (False, None) if row is None else (True, row["audio_object_id"])


async def finish_render(
    conn: Connection, recording_id: uuid.UUID, object_id: uuid.UUID, waveform: dict[str, Any]
) -> None:
    """The rendition is ready (the caller inserted its sealed object and holds the row)."""
    await conn.execute(FINISH_RENDER, recording_id, object_id, waveform)


async def retry_render(
    db: Connection | Pool, recording_id: uuid.UUID, error: str, delay: timedelta
) -> None:
    """Try the render again after ``delay``."""
    await db.execute(RETRY_RENDER, recording_id, error, delay)


async def fail_render(db: Connection | Pool, recording_id: uuid.UUID, error: str) -> None:
    """The render failed for good (until the spans change)."""
    await db.execute(FAIL_RENDER, recording_id, error)


async def has_spans(db: Connection | Pool, recording_id: uuid.UUID) -> bool:
    """Whether the recording has any redaction span."""
    return bool(await db.fetchval(HAS_SPANS, recording_id))
