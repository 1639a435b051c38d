"""Recordings as staff see them: typed lookups, filtered listing, training release, review.

The access API talks to the recordings table only through these functions. Filters are
combined from fixed SQL fragments (never from input text) and paged by keyset on
``(started_at, id)``, newest first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

import asyncpg

from accounts.users import extension_of
from storage.db import Connection, Pool
from storage.fieldcrypt import FieldCipher
from storage.sealing import PlainColumn

COLUMNS: Final = """
id, status, started_at, declared_duration_seconds, measured_duration_seconds, answered_by,
answered_by_user_id, caller_number, direction, service_line, channel_layout, notice_played,
customer_id, customer_link, audio_object_id, audio_format, channels, duration_mismatch, error,
training_released_at, training_release_reason_encrypted, created_at,
training_redaction_reviewed
"""
SELECT_RECORDING: Final = f"SELECT {COLUMNS} FROM recordings WHERE id = $1"
SELECT_WAVEFORM: Final = "SELECT waveform FROM recordings WHERE id = $1"
SET_TRAINING_RELEASE: Final = """
UPDATE recordings SET training_released_at = CASE WHEN $2 THEN now() END,
    training_released_by = CASE WHEN $2 THEN $3::uuid END,
    training_release_reason_encrypted = CASE WHEN $2 THEN $4::bytea END,
    training_release_reason = NULL,
    training_redaction_reviewed = CASE WHEN $2 THEN $5::boolean END, updated_at = now()
WHERE id = $1 AND status = 'ready'
RETURNING id
"""
LINK_CUSTOMER: Final = """
UPDATE recordings SET customer_id = $2, customer_link = 'manual', updated_at = now()
WHERE id = $1 RETURNING id
"""
UNMATCHED_AGENTS: Final = """
SELECT answered_by, count(*) AS calls, max(started_at) AS last_call
FROM recordings WHERE answered_by_user_id IS NULL
GROUP BY answered_by ORDER BY answered_by LIMIT 500
"""
NOTICE_MISSING: Final = """
SELECT id, started_at, created_at FROM recordings
WHERE NOT notice_played AND (created_at, id) < ($1, $2)
ORDER BY created_at DESC, id DESC LIMIT $3
"""
CALL_FIGURES: Final = """
SELECT count(*) AS recordings,
       count(*) FILTER (WHERE NOT notice_played) AS without_notice,
       count(*) FILTER (WHERE answered_by_user_id IS NULL) AS unmatched_agent_calls,
       count(DISTINCT answered_by) FILTER (WHERE answered_by_user_id IS NULL) AS unmatched_agents
FROM recordings
"""
# A data subject's recordings, by how the request names them (ready ones, oldest first).
SUBJECT_RECORDINGS: Final = """
SELECT r.id, r.started_at, r.declared_duration_seconds, r.measured_duration_seconds,
       r.direction, r.caller_number, r.answered_by, r.service_line, r.channel_layout,
       r.notice_played, r.audio_object_id, r.audio_format
FROM recordings r WHERE r.status = 'ready' AND {where} ORDER BY r.started_at, r.id
"""
SUBJECT_IS: Final = {
    "customer": "r.customer_id = $1::uuid",
    "phone": "r.caller_number = $1",
    "staff": "r.answered_by = ANY($1::text[])",  # the username or the account's extension
}
BY_CALLER: Final = "SELECT id FROM recordings WHERE caller_number = $1"
LinkOutcome = Literal["linked", "no_recording", "no_customer"]


@dataclass(frozen=True)
class SubjectRecording:
    """A recording as an access export lists it (the columns of ``SUBJECT_RECORDINGS``)."""

    id: uuid.UUID
    started_at: datetime
    declared_duration_seconds: Decimal
    measured_duration_seconds: Decimal | None
    direction: str
    caller_number: str | None
    answered_by: str
    service_line: str | None
    channel_layout: str
    notice_played: bool
    audio_object_id: uuid.UUID
    audio_format: str | None


@dataclass(frozen=True)
class UnmatchedAgent:
    """An ``answered_by`` value that matches no staff account, and how often it occurs."""

    answered_by: str
    calls: int
    last_call: datetime


@dataclass(frozen=True)
class UnnoticedCall:
    """A call recorded although the caller was not told (ids and dates only)."""

    id: uuid.UUID
    started_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class CallFigures:
    """Counts over every recording held, for the compliance evidence.

    ``without_notice``: the telephony system's ``notice_played`` was false, so the caller
    was not told before recording began. An unmatched agent is an ``answered_by`` value
    that matched no staff account at ingest (nor later, by the administrator).
    """

    recordings: int
    without_notice: int
    unmatched_agent_calls: int
    unmatched_agents: int


@dataclass(frozen=True)
class Recording:
    """One call recording and what ingest learnt about it."""

    id: uuid.UUID
    status: str
    started_at: datetime
    declared_duration_seconds: Decimal
    measured_duration_seconds: Decimal | None
    answered_by: str
    answered_by_user_id: uuid.UUID | None
    caller_number: str | None
    direction: str
    service_line: str | None
    channel_layout: str
    notice_played: bool
    customer_id: uuid.UUID | None
    customer_link: str | None
    audio_object_id: uuid.UUID | None
    audio_format: str | None
    channels: int | None
    duration_mismatch: bool
    error: str | None
    training_released_at: datetime | None
    training_release_reason_encrypted: bytes | None  # sealed: open with release_reason()
    created_at: datetime
    training_redaction_reviewed: bool | None = None  # the DPO confirmed the spans at release

    @property
    def released_for_training(self) -> bool:
        """Whether the data protection officer has released the call for training."""
        return self.training_released_at is not None

    @property
    def duration_seconds(self) -> float:
        """The measured duration once known, else the declared one."""
        return float(self.measured_duration_seconds or self.declared_duration_seconds)


_FIELDS: Final = tuple(f.name for f in fields(Recording))


PLAIN_RELEASE_REASONS: Final = PlainColumn(
    "recordings", ("id",), "training_release_reason", "training_release_reason_encrypted"
)
release_context: Final = PLAIN_RELEASE_REASONS.context


def release_reason(cipher: FieldCipher, recording: Recording) -> str | None:
    """Why the call was released for training (free text about people, sealed); None when
    it is not released."""
    sealed = recording.training_release_reason_encrypted
    return None if sealed is None else cipher.decrypt(sealed, release_context(recording.id))


def _recording(row: Any) -> Recording:
    return Recording(**{name: row[name] for name in _FIELDS})


@dataclass(frozen=True)
class IdsFrom:
    """Narrow a list to the recording ids another room's query selects (the transcripts'
    keyword index): ``sql`` names its arguments ``${}``, numbered here in order of ``args``.
    The other room owns that SQL; this room only places it in ``id IN (…)``."""

    sql: str
    args: tuple[object, ...]


@dataclass(frozen=True)
class RecordingFilter:
    """What a list or search narrows to; every field optional."""

    customer_id: uuid.UUID | None = None
    answered_by: str | None = None
    caller_number: str | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None
    released_for_training: bool = False
    unlinked: bool = False  # no customer yet: the calls waiting for manual linking
    among: IdsFrom | None = None


_CONDITIONS: Final = (
    ("customer_id", "customer_id = ${}"),
    ("answered_by", "answered_by = ${}"),
    ("caller_number", "caller_number = ${}"),
    ("started_from", "started_at >= ${}"),
    ("started_before", "started_at < ${}"),
)


async def get_recording(db: Connection | Pool, recording_id: uuid.UUID) -> Recording | None:
    """The recording with this id, if any."""
    row = await db.fetchrow(SELECT_RECORDING, recording_id)
    return None if row is None else _recording(row)


async def list_recordings(
    db: Connection | Pool,
    where: RecordingFilter,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Recording]:
    """Recordings matching ``where``, newest first, continuing after ``after``."""
    clauses: list[str] = []
    args: list[object] = []
    for name, template in _CONDITIONS:
        value = getattr(where, name)
        if value is not None:
            args.append(value)
            clauses.append(template.format(len(args)))
    if where.released_for_training:
        clauses.append("training_released_at IS NOT NULL")
    if where.unlinked:
        clauses.append("customer_id IS NULL")
    if where.among is not None:
        first = len(args) + 1
        args.extend(where.among.args)
        numbers = range(first, first + len(where.among.args))
        clauses.append(f"id IN ({where.among.sql.format(*numbers)})")
    if after is not None:
        args.extend(after)
        clauses.append(f"(started_at, id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    sql = (
        f"SELECT {COLUMNS} FROM recordings"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + f" ORDER BY started_at DESC, id DESC LIMIT ${len(args)}"
    )
    return [_recording(row) for row in await db.fetch(sql, *args)]


async def get_waveform(db: Connection | Pool, recording_id: uuid.UUID) -> dict[str, Any] | None:
    """The stored peaks document (see ``recorder.worker.waveform_document``)."""
    waveform: dict[str, Any] | None = await db.fetchval(SELECT_WAVEFORM, recording_id)
    return waveform


async def set_training_release(
    db: Connection | Pool,
    cipher: FieldCipher,
    recording_id: uuid.UUID,
    *,
    released: bool,
    by: uuid.UUID,
    reason: str,
    redaction_reviewed: bool | None = None,
) -> bool:
    """Release (or withdraw) a ready recording for training; False if none was changed.

    ``redaction_reviewed``: the DPO confirmed the call's redaction spans (None: it has none).
    """
    sealed = cipher.encrypt(reason, release_context(recording_id)) if released else None
    changed = await db.fetchval(
        SET_TRAINING_RELEASE, recording_id, released, by, sealed, redaction_reviewed
    )
    return changed is not None


async def link_customer(
    conn: Connection, recording_id: uuid.UUID, customer_id: uuid.UUID
) -> LinkOutcome:
    """Link the call to the customer by hand; say which of the two does not exist, if one."""
    try:  # the customer is register's: its foreign key says whether one exists
        async with conn.transaction():  # a savepoint: a refused link leaves the caller's intact
            linked = await conn.fetchval(LINK_CUSTOMER, recording_id, customer_id)
    except asyncpg.ForeignKeyViolationError:
        return "no_customer"
    return "linked" if linked is not None else "no_recording"


async def unmatched_agents(db: Connection | Pool) -> list[UnmatchedAgent]:
    """Agent names from the telephony system that match no account (at most 500)."""
    return [UnmatchedAgent(**dict(row)) for row in await db.fetch(UNMATCHED_AGENTS)]


async def call_figures(db: Connection | Pool) -> CallFigures:
    """How many calls lack the recording notice or a known agent."""
    row = await db.fetchrow(CALL_FIGURES)
    assert row is not None
    return CallFigures(**dict(row))


async def notice_missing(
    db: Connection | Pool, before: tuple[datetime, uuid.UUID], limit: int
) -> list[UnnoticedCall]:
    """Calls recorded without the recording notice, newest first, created before ``before``."""
    rows = await db.fetch(NOTICE_MISSING, before[0], before[1], limit)
    return [UnnoticedCall(**dict(row)) for row in rows]


async def recordings_of_subject(
    db: Connection | Pool, subject_kind: str, key: str
) -> list[SubjectRecording]:
    """The ready recordings of a data subject named by ``subject_kind`` (customer, phone or
    staff) and ``key`` (customer id, E.164 number or username), oldest first."""
    named: str | list[str] = key
    if subject_kind == "staff":
        extension = await extension_of(db, key)
        named = [key] if extension is None else [key, extension]
    rows = await db.fetch(SUBJECT_RECORDINGS.format(where=SUBJECT_IS[subject_kind]), named)
    return [SubjectRecording(**dict(row)) for row in rows]


async def recordings_by_caller(db: Connection | Pool, number: str) -> list[uuid.UUID]:
    """Ids of every recording (whatever its status) from the E.164 ``number``."""
    return [row["id"] for row in await db.fetch(BY_CALLER, number)]


READY_SINCE: Final = """
SELECT id FROM recordings WHERE status = 'ready' AND started_at >= $1 AND id > $2
ORDER BY id LIMIT $3
"""


async def ready_since(
    db: Connection | Pool, since: datetime, after: uuid.UUID, limit: int
) -> list[uuid.UUID]:
    """Ids of ready recordings started at or after ``since``, a page in id order after
    ``after`` (``callrec transcripts queue`` walks them)."""
    return [row["id"] for row in await db.fetch(READY_SINCE, since, after, limit)]
