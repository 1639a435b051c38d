"""The transcripts and transcript_terms tables, as typed functions (this room owns them).

A ``transcripts`` row is both the job and the header of one recording's transcript: it is
claimed with ``FOR UPDATE SKIP LOCKED``, leased, and fenced by ``attempts`` like an ingest
job, so a worker whose lease ran out cannot commit over the next one's work.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from storage.db import Connection, Pool

NOTIFY_CHANNEL: Final = "callrec_transcribe"
QUEUE: Final = """
INSERT INTO transcripts (recording_id) VALUES ($1) ON CONFLICT (recording_id) DO NOTHING
"""
NOTIFY: Final = f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"
CLAIM: Final = """
UPDATE transcripts t SET attempts = t.attempts + 1, leased_until = now() + $1::interval
WHERE t.recording_id = (
    SELECT q.recording_id FROM transcripts q
    WHERE q.status = 'pending' AND q.run_after <= now()
        AND (q.leased_until IS NULL OR q.leased_until < now())
    ORDER BY q.run_after
    FOR UPDATE SKIP LOCKED
    LIMIT 1
)
RETURNING t.recording_id, t.attempts AS attempt, t.failures
"""
RENEW: Final = """
UPDATE transcripts SET leased_until = now() + $3::interval
WHERE recording_id = $1 AND attempts = $2 AND status = 'pending'
RETURNING true
"""
RELEASE: Final = """
UPDATE transcripts SET leased_until = NULL
WHERE recording_id = $1 AND attempts = $2 AND status = 'pending'
"""
HOLD: Final = """
SELECT object_id FROM transcripts
WHERE recording_id = $1 AND attempts = $2 AND status = 'pending'
FOR UPDATE
"""
# Outside the queue (an import): queue the row if need be, lock it, and say what it held.
TAKE: Final = """
INSERT INTO transcripts (recording_id) VALUES ($1)
ON CONFLICT (recording_id) DO UPDATE SET updated_at = now()
RETURNING object_id
"""
FINISH: Final = """
UPDATE transcripts SET status = 'ready', object_id = $2, language = $3, model = $4,
    leased_until = NULL, error = NULL, updated_at = now()
WHERE recording_id = $1
"""
DELETE_TERMS: Final = "DELETE FROM transcript_terms WHERE recording_id = $1"
INSERT_TERMS: Final = """
INSERT INTO transcript_terms (token, recording_id)
SELECT token, $2 FROM unnest($1::bytea[]) AS token
"""
RETRY: Final = """
UPDATE transcripts SET failures = failures + 1, leased_until = NULL,
    run_after = now() + $3::interval, error = $2, updated_at = now()
WHERE recording_id = $1
"""
FAIL: Final = """
UPDATE transcripts SET status = 'failed', leased_until = NULL, error = $2, updated_at = now()
WHERE recording_id = $1
"""
SELECT_HEADER: Final = """
SELECT recording_id, status, object_id, language, model, error FROM transcripts
WHERE recording_id = $1
"""
SELECT_HEADERS: Final = """
SELECT recording_id, status, object_id, language, model, error FROM transcripts
WHERE recording_id = ANY($1)
"""
# First, on its own: a job committing meanwhile is waited for, so its new object is shredded
# too; a job committing after finds its row gone and discards its object.
DELETE_OF_RECORDINGS: Final = """
DELETE FROM transcripts WHERE recording_id = ANY($1) RETURNING recording_id, object_id
"""
DELETE_TERMS_OF_RECORDINGS: Final = """
DELETE FROM transcript_terms WHERE recording_id = ANY($1)
"""
COUNT_OF_RECORDINGS: Final = """
SELECT (SELECT count(*) FROM transcripts WHERE recording_id = ANY($1) AND object_id IS NOT NULL),
       (SELECT count(*) FROM transcript_terms WHERE recording_id = ANY($1))
"""
# The calls whose index holds every one of the tokens: a template for recorder.catalog's
# ``IdsFrom`` (its ``{}`` are the argument numbers the list query gives the tokens), one
# self-join per token. A plain join (no GROUP BY) is pulled up into the list query, so the
# planner can walk the newest calls and probe the index for a common word, or start from
# the few index rows of a rare one; it decides by the token's statistics.
MATCHING_FIRST: Final = "SELECT t0.recording_id FROM transcript_terms t0{} WHERE t0.token = ${{}}"
MATCHING_NEXT: Final = " AND t{0}.token = ${{}} AND t{0}.recording_id = t0.recording_id"
MATCHING_NONE: Final = "SELECT NULL::uuid WHERE false"
# Plans made for the tokens given, never one cached for all: terms are spread like words
# (Zipf), so a plan fit for a rare token is ~100x too slow for a common one, and a cached
# generic plan knows neither. Set in the list query's transaction.
CUSTOM_PLANS: Final = "SET LOCAL plan_cache_mode = force_custom_plan"
TERMS_OF: Final = "SELECT count(*) FROM transcript_terms WHERE recording_id = $1"
BY_STATUS: Final = "SELECT status, count(*) AS n FROM transcripts GROUP BY status"


@dataclass(frozen=True)
class Claimed:
    """A transcription this worker leases; ``attempt`` fences the lease."""

    recording_id: uuid.UUID
    attempt: int
    failures: int


@dataclass(frozen=True)
class Header:
    """What the database knows of a transcript: its state and the sealed object's id."""

    recording_id: uuid.UUID
    status: str  # pending | ready | failed
    object_id: uuid.UUID | None
    language: str | None
    model: str | None
    error: str | None


async def queue(conn: Connection, recording_id: uuid.UUID) -> None:
    """Ask for a transcript of this recording (in the caller's transaction); wakes workers."""
    await conn.execute(QUEUE, recording_id)
    await conn.execute(NOTIFY)


QUEUE_MANY: Final = """
INSERT INTO transcripts (recording_id) SELECT unnest($1::uuid[])
ON CONFLICT (recording_id) DO NOTHING
"""


async def queue_many(pool: Pool, ids: Sequence[uuid.UUID]) -> int:
    """Ask for transcripts of these recordings (those without one yet); how many were queued.
    Wakes the workers."""
    async with pool.acquire() as conn, conn.transaction():
        status = await conn.execute(QUEUE_MANY, list(ids))
        await conn.execute(NOTIFY)
    return int(status.rsplit(" ", 1)[1])


async def claim(pool: Pool, lease: timedelta) -> Claimed | None:
    """Lease the next due transcription; None when none is due."""
    row = await pool.fetchrow(CLAIM, lease)
    return None if row is None else Claimed(**dict(row))


async def renew(pool: Pool, job: Claimed, lease: timedelta) -> bool:
    """Extend this attempt's lease; False when another worker holds the job now."""
    return bool(await pool.fetchval(RENEW, job.recording_id, job.attempt, lease))


async def release(pool: Pool, job: Claimed) -> None:
    """Give the job back at once (a stopping worker), if this attempt still holds it."""
    await pool.execute(RELEASE, job.recording_id, job.attempt)


async def hold(conn: Connection, job: Claimed) -> tuple[bool, uuid.UUID | None]:
    """Lock the row if this attempt still holds the job: (held, the old transcript object)."""
    row = await conn.fetchrow(HOLD, job.recording_id, job.attempt)
    return (False, None) if row is None else (True, row["object_id"])


async def take(conn: Connection, recording_id: uuid.UUID) -> uuid.UUID | None:
    """Lock a recording's transcript row, made if need be, whatever its state (for a
    transcript saved outside the queue); the object it pointed at, to shred."""
    old: uuid.UUID | None = await conn.fetchval(TAKE, recording_id)
    return old


async def finish(
    conn: Connection,
    recording_id: uuid.UUID,
    object_id: uuid.UUID,
    language: str,
    model: str,
    tokens: Sequence[bytes],
) -> None:
    """The transcript is ready and its terms indexed (the caller holds the row and inserted
    the sealed object)."""
    await conn.execute(FINISH, recording_id, object_id, language, model)
    await conn.execute(DELETE_TERMS, recording_id)
    await conn.execute(INSERT_TERMS, list(tokens), recording_id)


async def retry(
    db: Connection | Pool, recording_id: uuid.UUID, error: str, delay: timedelta
) -> None:
    """Try the transcription again after ``delay``."""
    await db.execute(RETRY, recording_id, error, delay)


async def fail(db: Connection | Pool, recording_id: uuid.UUID, error: str) -> None:
    """The transcription failed for good."""
    await db.execute(FAIL, recording_id, error)


async def header_of(db: Connection | Pool, recording_id: uuid.UUID) -> Header | None:
    """The transcript header of one recording; None when none was ever asked for."""
    row = await db.fetchrow(SELECT_HEADER, recording_id)
    return None if row is None else Header(**dict(row))


async def headers_of(db: Connection | Pool, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Header]:
    """The transcript headers of these recordings, by recording id, in one query."""
    return {
        row["recording_id"]: Header(**dict(row))
        for row in await db.fetch(SELECT_HEADERS, list(ids))
    }


async def term_count(db: Connection | Pool, recording_id: uuid.UUID) -> int:
    """How many index rows one recording has (tests and the benchmark's size figure)."""
    return int(await db.fetchval(TERMS_OF, recording_id))


async def counts_by_status(db: Connection | Pool) -> dict[str, int]:
    """How many transcripts there are in each state (the privacy notice says whether any
    are kept; the compliance evidence shows the figures)."""
    found = {row["status"]: int(row["n"]) for row in await db.fetch(BY_STATUS)}
    return {status: found.get(status, 0) for status in ("ready", "pending", "failed")}


class TranscriptRows:
    """This room's part of erasing recordings (``recorder.erasure.RecordingPart``)."""

    async def related(self, conn: Connection, ids: Sequence[uuid.UUID]) -> dict[str, int]:
        """What goes with these recordings: transcripts and index rows, for the report."""
        row = await conn.fetchrow(COUNT_OF_RECORDINGS, list(ids))
        assert row is not None  # two counts always come back
        return {"transcript": int(row[0]), "transcript_term": int(row[1])}

    async def delete(
        self, conn: Connection, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Delete the transcripts and index rows of these recordings; the transcripts'
        sealed object ids by recording, for the caller to shred in the same transaction."""
        rows = await conn.fetch(DELETE_OF_RECORDINGS, list(ids))
        await conn.execute(DELETE_TERMS_OF_RECORDINGS, list(ids))
        return {r["recording_id"]: [r["object_id"]] for r in rows if r["object_id"] is not None}


TRANSCRIPTS: Final = TranscriptRows()


def matching_all(tokens: Sequence[bytes]) -> tuple[str, tuple[object, ...]]:
    """The SQL template and arguments selecting the calls that hold every token (for
    ``recorder.catalog.IdsFrom``); run it on a :func:`searching` connection."""
    distinct = sorted(set(tokens))
    if not distinct:
        return MATCHING_NONE, ()
    others = range(1, len(distinct))
    tables = "".join(f", transcript_terms t{n}" for n in others)
    joins = "".join(MATCHING_NEXT.format(n) for n in others)
    return MATCHING_FIRST.format(tables) + joins, tuple(distinct)


@asynccontextmanager
async def searching(pool: Pool) -> AsyncIterator[Connection]:
    """A connection, in a transaction, whose plans are made for the tokens searched."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(CUSTOM_PLANS)
        yield conn
