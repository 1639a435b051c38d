"""The tamper-evident audit log: who did what to whose data, when, why, and how it ended.

Append-only twice over: a database trigger refuses UPDATE, DELETE and TRUNCATE, and every
row is chained to the one before it: ``hash = SHA-256(canonical JSON of the row, including
prev_hash)``. Rows are appended under a transaction-scoped advisory lock, so ``seq`` runs
1, 2, 3 … without gaps and the chain has one head. :func:`verify_chain` walks the chain and
names each altered, removed or reordered row. Someone who can rewrite the whole table and
recompute every hash defeats any chain; against that, keep the head hash that
``callrec audit verify`` prints somewhere else (the scheduled verification logs it).

Entries hold ids, usernames, actions and purposes, never the personal data itself (no phone
numbers, names or henkilötunnus in ``details``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg

from common.logs import request_id_var
from storage.db import Connection, Pool

AUDIT_LOCK: Final = 0x6361_6C6C_6175_6474  # "callaudt": one writer at a time extends the chain
GENESIS: Final = bytes(32)
DetailValue = str | int | bool | None

SELECT_CHECKPOINT: Final = "SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"
SELECT_PRUNE_POINT: Final = """
SELECT seq, hash, at FROM audit_log WHERE at < $1 ORDER BY seq DESC LIMIT 1
"""
INSERT_CHECKPOINT: Final = "INSERT INTO audit_checkpoints (seq, hash, at) VALUES ($1, $2, $3)"
DELETE_PRUNED: Final = "DELETE FROM audit_log WHERE seq <= $1"
# The head is the newest row, or after a prune of every row the checkpoint that replaced them.
SELECT_HEAD: Final = """
(SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1)
UNION ALL (SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1)
ORDER BY seq DESC LIMIT 1
"""
INSERT_ENTRY: Final = """
INSERT INTO audit_log (seq, at, actor_id, actor, action, object_type, object_id, purpose,
                       outcome, request_id, details, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""
SELECT_CHAIN: Final = """
SELECT seq, at, actor_id, actor, action, object_type, object_id, purpose, outcome, request_id,
       details, prev_hash, hash
FROM audit_log ORDER BY seq
"""


@dataclass(frozen=True)
class Actor:
    """Who acted: a staff account, or the system itself (``id`` None) for scheduled work."""

    id: uuid.UUID | None
    name: str | None


SYSTEM: Final = Actor(None, "system")


OUTCOMES: Final = ("ok", "refused", "failed")


@dataclass(frozen=True)
class AuditEvent:
    """One thing that happened to personal data or to access itself."""

    action: str  # e.g. recording.play, recording.download, auth.login, access.refused
    outcome: str  # ok | refused | failed
    actor: Actor
    object_type: str | None = None
    object_id: str | None = None
    purpose: str | None = None
    details: Mapping[str, DetailValue] = field(default_factory=dict)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(fields: Mapping[str, object]) -> bytes:
    """SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of a row's fields."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).digest()


COLUMNS: Final = (
    "seq",
    "at",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "purpose",
    "outcome",
    "request_id",
    "details",
    "prev_hash",
)


def _hashed_fields(row: Mapping[str, object]) -> dict[str, object]:
    """The row's columns (all but ``hash``) as JSON-ready values, the input of its hash."""
    fields = {name: row[name] for name in COLUMNS}
    at, actor_id, prev_hash = fields["at"], fields["actor_id"], fields["prev_hash"]
    assert isinstance(at, datetime)
    assert isinstance(prev_hash, bytes)
    fields["at"] = _timestamp(at)
    fields["actor_id"] = None if actor_id is None else str(actor_id)
    fields["prev_hash"] = prev_hash.hex()
    return fields


async def record(db: Connection | Pool, event: AuditEvent) -> int:
    """Append ``event`` to the chain and return its sequence number.

    Given a connection inside a transaction, the entry commits or rolls back with the change
    it describes; given a pool, it commits on its own.
    """
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            return await record(conn, event)
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK)
        head = await db.fetchrow(SELECT_HEAD)
        seq = 1 if head is None else head["seq"] + 1
        prev_hash = GENESIS if head is None else bytes(head["hash"])
        row: dict[str, object] = {
            "seq": seq,
            "at": datetime.now(UTC),
            "actor_id": event.actor.id,
            "actor": event.actor.name,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "purpose": event.purpose,
            "outcome": event.outcome,
            "request_id": request_id_var.get(),
            "details": dict(event.details),
            "prev_hash": prev_hash,
        }
        digest = entry_hash(_hashed_fields(row))
        await db.execute(INSERT_ENTRY, *(row[name] for name in COLUMNS), digest)
        return seq


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found."""

    entries: int
    head_seq: int
    head_hash: bytes
    problems: list[str]

    @property
    def intact(self) -> bool:
        """True when every row is where and what it was written as."""
        return not self.problems


async def verify_chain(
    conn: Connection,
    *,
    on_progress: Callable[[int], None] | None = None,
    max_problems: int = 100,
) -> ChainReport:
    """Walk the whole chain in order and describe every break.

    * a row whose own hash does not match its fields was **altered**;
    * a gap in ``seq`` means rows were **removed**;
    * a row whose ``prev_hash`` is not the hash of the row before it was **reordered**, or
      the row before it was removed or replaced.
    """
    problems: list[str] = []
    expected_seq, prev_hash, entries = 1, GENESIS, 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        checkpoint = await conn.fetchrow(SELECT_CHECKPOINT)
        if checkpoint is not None:  # rows up to here were pruned by retention, on purpose
            expected_seq, prev_hash = checkpoint["seq"] + 1, bytes(checkpoint["hash"])
        async for row in conn.cursor(SELECT_CHAIN, prefetch=2000):
            entries += 1
            seq = row["seq"]
            if seq != expected_seq:
                problems.append(f"rows {expected_seq}..{seq - 1} are missing (removed)")
            if entry_hash(_hashed_fields(dict(row.items()))) != bytes(row["hash"]):
                problems.append(f"row {seq} was altered: its hash does not match its contents")
            if bytes(row["prev_hash"]) != prev_hash:
                problems.append(
                    f"row {seq} does not follow row {seq - 1}: reordered, or the row before "
                    "it was removed or replaced"
                )
            expected_seq, prev_hash = seq + 1, bytes(row["hash"])
            if on_progress is not None and entries % 100_000 == 0:
                on_progress(entries)
            if len(problems) >= max_problems:
                problems.append("… stopped after too many problems")
                break
    return ChainReport(entries, expected_seq - 1, prev_hash, problems)


VERIFIED: Final = "audit.verify"
LAST_VERIFICATION: Final = """
SELECT at, outcome, details FROM audit_log WHERE action = 'audit.verify' ORDER BY seq DESC LIMIT 1
"""


@dataclass(frozen=True)
class Verification:
    """When the chain was last walked and what was found."""

    at: datetime
    intact: bool
    entries: int
    head_seq: int
    problems: int


async def record_verification(db: Connection | Pool, report: ChainReport) -> int:
    """Write the outcome of a walk of the chain into the chain itself, so the last
    verification (scheduled or ``callrec audit verify``) is on record for a supervisor."""
    return await record(
        db,
        AuditEvent(
            VERIFIED,
            "ok" if report.intact else "failed",
            SYSTEM,
            details={
                "entries": report.entries,
                "head_seq": report.head_seq,
                "head_hash": report.head_hash.hex(),
                "problems": len(report.problems),
            },
        ),
    )


async def last_verification(db: Connection | Pool) -> Verification | None:
    """The newest recorded verification, or None when the chain was never verified."""
    row = await db.fetchrow(LAST_VERIFICATION)
    if row is None:
        return None
    details = row["details"]
    return Verification(
        at=row["at"],
        intact=row["outcome"] == "ok",
        entries=int(details.get("entries", 0)),
        head_seq=int(details.get("head_seq", 0)),
        problems=int(details.get("problems", 0)),
    )


async def prune_audit_log(conn: Connection, before: datetime) -> int:
    """Delete the entries older than ``before`` (the audit log's retention period) and return
    how many went. A checkpoint keeps the hash of the last one deleted, so the rest of the
    chain still verifies; the append-only trigger allows a DELETE only behind a checkpoint
    and only in a transaction that says it prunes."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK)
        point = await conn.fetchrow(SELECT_PRUNE_POINT, before)
        if point is None:
            return 0
        await conn.execute(INSERT_CHECKPOINT, point["seq"], point["hash"], point["at"])
        await conn.execute("SET LOCAL callrec.audit_prune = 'on'")
        status: str = await conn.execute(DELETE_PRUNED, point["seq"])
    return int(status.split()[-1])


ENTRY_COLUMNS: Final = (
    "seq, at, actor_id, actor, action, object_type, object_id, purpose, outcome, request_id,"
    " details, hash"
)
FILTER_COLUMNS: Final = ("actor", "action", "object_type", "object_id", "outcome")


@dataclass(frozen=True)
class AuditEntry:
    """One stored entry as the data protection officer reads it."""

    seq: int
    at: datetime
    actor_id: uuid.UUID | None
    actor: str | None
    action: str
    object_type: str | None
    object_id: str | None
    purpose: str | None
    outcome: str
    request_id: str | None
    details: Any
    hash: bytes


@dataclass(frozen=True)
class AuditQuery:
    """Which entries to list: exact values of :data:`FILTER_COLUMNS`, a time window, a cursor."""

    equals: Mapping[str, str] = field(default_factory=dict)
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None


async def list_entries(db: Connection | Pool, query: AuditQuery, limit: int) -> list[AuditEntry]:
    """Entries matching ``query``, newest first (highest ``seq``), at most ``limit``."""
    clauses: list[str] = []
    args: list[object] = []
    conditions: list[tuple[str, object]] = [
        (f"{column} = ${{}}", query.equals[column])
        for column in FILTER_COLUMNS
        if column in query.equals
    ]
    conditions += [
        (template, value)
        for template, value in (
            ("at >= ${}", query.since),
            ("at < ${}", query.until),
            ("seq < ${}", query.before_seq),
        )
        if value is not None
    ]
    for template, value in conditions:
        args.append(value)
        clauses.append(template.format(len(args)))
    args.append(limit)
    sql = (
        f"SELECT {ENTRY_COLUMNS} FROM audit_log"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + f" ORDER BY seq DESC LIMIT ${len(args)}"
    )
    rows = await db.fetch(sql, *args)
    return [AuditEntry(**{**dict(row), "hash": bytes(row["hash"])}) for row in rows]


ABOUT_OBJECTS: Final = """
SELECT seq, at, action, purpose, outcome, actor_id FROM audit_log
WHERE object_type = $1 AND object_id = ANY($2::text[]) ORDER BY seq
"""
# The byte ranges that successful answers about an object began to send, by where they start.
RANGES_SENT: Final = """
SELECT (details->>'start')::bigint AS start, (details->>'end')::bigint AS stop
FROM audit_log
WHERE object_type = $1 AND object_id = $2 AND action = $3
  AND outcome = 'ok' AND details ? 'start' AND at >= $4
ORDER BY start
"""
BY_ACTOR: Final = """
SELECT seq, at, action, object_type, purpose, outcome FROM audit_log WHERE actor_id = $1
ORDER BY seq
"""


@dataclass(frozen=True)
class ReadOfYou:
    """An entry about one of a data subject's objects (who acted is an id, resolved above)."""

    seq: int
    at: datetime
    action: str
    purpose: str | None
    outcome: str
    actor_id: uuid.UUID | None


@dataclass(frozen=True)
class ActionOfYours:
    """An entry a staff member made, as their own access export lists it."""

    seq: int
    at: datetime
    action: str
    object_type: str | None
    purpose: str | None
    outcome: str


async def entries_about(
    db: Connection | Pool, object_type: str, object_ids: list[str]
) -> list[ReadOfYou]:
    """Entries about these objects, oldest first."""
    rows = await db.fetch(ABOUT_OBJECTS, object_type, object_ids)
    return [ReadOfYou(**dict(row)) for row in rows]


async def entries_by(db: Connection | Pool, actor_id: uuid.UUID) -> list[ActionOfYours]:
    """Entries this account made, oldest first."""
    return [ActionOfYours(**dict(row)) for row in await db.fetch(BY_ACTOR, actor_id)]


async def ranges_sent(
    db: Connection | Pool, object_type: str, object_id: str, action: str, since: datetime
) -> list[tuple[int, int]]:
    """``(start, end)`` of each byte range that a successful ``action`` on the object began
    to send since ``since``, by start: how far a resumed download already reached."""
    rows = await db.fetch(RANGES_SENT, object_type, object_id, action, since)
    return [(row["start"], row["stop"]) for row in rows]
