"""The erasure engine: one path for subject erasure, retention sweeps and manual deletion.

For every item it decides and says why: a legal hold keeps it; a duty to keep (an active
lease needs the customer's core data) keeps that part; everything else is erased. Erasing
a recording is crypto-shredding: its key headers are deleted in the same transaction as
the row (from then on no copy of the payload, backups included, can be decrypted), a
tombstone without personal data is left, and then every version of every object is
deleted from the store. A payload whose delete fails stays listed in
``pending_object_deletions`` for the reaper; it is unreadable already.

Each batch runs under one advisory lock that placing a hold takes too, so a hold placed
while a sweep runs is either seen by the sweep or waits for it: never half of each.

The recordings table belongs to ``recorder``, a room above this one: the engine reaches it
through the :class:`Recordings` protocol, which ``recorder.erasure`` implements and the
composition root (or a room above recorder) hands in.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Protocol

from register.erasure import (
    ERASED,
    active_lease,
    anonymise_customer,
    contact_log_of,
    customers_of_contacts,
    delete_contact_entries,
    delete_customer,
    forget_contacts_and_history,
    in_past_leases,
)
from storage.db import Connection, Pool
from storage.objects import ObjectStore, ObjectStoreError
from storage.vault import forget_deleted, shred_headers

ERASURE_LOCK: Final = 0x63616C6C_7265_6331  # "callrec1": erasure and holds serialise here
BATCH: Final = 500
DELETE_CONCURRENCY: Final = 32

# $1 = recording ids; $2, $3 = the linked ones and their customers (a customer's hold keeps
# all of the customer's recordings).
HELD_RECORDINGS: Final = """
SELECT i.recording_id AS id, min(h.id::text) AS hold_id
FROM legal_hold_recordings i JOIN legal_holds h ON h.id = i.hold_id
WHERE i.recording_id = ANY($1) AND h.released_at IS NULL GROUP BY i.recording_id
UNION ALL
SELECT r.id, min(h.id::text)
FROM unnest($2::uuid[], $3::uuid[]) AS r (id, customer_id)
JOIN legal_holds h ON h.customer_id = r.customer_id
WHERE h.released_at IS NULL GROUP BY r.id
"""
INSERT_TOMBSTONES: Final = """
INSERT INTO tombstones (id, kind, reason, request_id, objects)
SELECT id, $2, $3, $4, n FROM unnest($1::uuid[], $5::int[]) AS t (id, n)
ON CONFLICT (id) DO NOTHING
"""
CUSTOMER_HOLD: Final = """
SELECT id FROM legal_holds WHERE customer_id = $1 AND released_at IS NULL ORDER BY placed_at LIMIT 1
"""
HELD_CUSTOMERS: Final = """
SELECT DISTINCT customer_id FROM legal_holds WHERE customer_id = ANY($1) AND released_at IS NULL
"""


class Recordings(Protocol):
    """The recordings table as erasure needs it (implemented by ``recorder.erasure``)."""

    async def customers_of(
        self, conn: Connection, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        """The customer each of these recordings is linked to (unlinked ones left out)."""
        ...

    async def of_customer(self, conn: Connection, customer_id: uuid.UUID) -> list[uuid.UUID]:
        """Ids of every recording linked to the customer."""
        ...

    async def delete(
        self, conn: Connection, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Delete these recordings; for each one deleted, its payloads' sealed object ids."""
        ...

    async def delete_dependents(
        self, conn: Connection, ids: Sequence[uuid.UUID]
    ) -> list[tuple[str, uuid.UUID]]:
        """Delete the rows that belong to these recordings (notes, collection items); each
        as ``(kind, id)`` for the report."""
        ...

    async def related(self, conn: Connection, ids: Sequence[uuid.UUID]) -> dict[str, int]:
        """How many rows of each kind go with these recordings (redaction spans …), counted
        for the report before :meth:`delete` takes them."""
        ...


@dataclass(frozen=True)
class Decision:
    """What happened to one item and why (no personal data: ids and reasons only)."""

    kind: str  # recording | customer | contact | export | annotation | collection_item
    item_id: uuid.UUID
    action: str  # erased | kept | anonymised | kept_core
    reason: str

    def as_json(self) -> dict[str, str]:
        """For the request's report and the dry-run listing."""
        return {
            "kind": self.kind,
            "id": str(self.item_id),
            "action": self.action,
            "reason": self.reason,
        }


@dataclass
class ErasureReport:
    """Every decision of one erasure run, and the object payloads deleted."""

    decisions: list[Decision] = field(default_factory=list)
    objects_deleted: int = 0
    objects_pending: int = 0
    # rows erased with the recordings, by kind (``redaction``: spans); no decision of their own
    related: Counter[str] = field(default_factory=Counter)

    def add(self, part: ErasureReport) -> None:
        """Take in a part's decisions, payload counts and related rows (a sweep adds up its
        pages; the related rows are what say transcripts and spans went with the calls)."""
        self.decisions.extend(part.decisions)
        self.objects_deleted += part.objects_deleted
        self.objects_pending += part.objects_pending
        self.related.update(part.related)

    def counts(self) -> dict[str, int]:
        """``{"recording.erased": 12, "recording.kept": 1, "redaction.erased": 3, …}``."""
        counted = Counter(f"{d.kind}.{d.action}" for d in self.decisions)
        counted.update({f"{kind}.erased": n for kind, n in self.related.items() if n})
        return dict(counted)

    def as_json(self, *, limit: int = 1000) -> dict[str, Any]:
        """The report as stored with a subject request (the first ``limit`` decisions)."""
        return {
            "counts": self.counts(),
            "objects_deleted": self.objects_deleted,
            "objects_pending": self.objects_pending,
            "decisions": [d.as_json() for d in self.decisions[:limit]],
            "truncated": len(self.decisions) > limit,
        }


@dataclass(frozen=True)
class Why:
    """The reason an erasure run was started, kept on tombstones."""

    reason: str  # retention:<category> | subject_request | manual
    request_id: uuid.UUID | None = None


class ErasureEngine:
    """Decide and erase; ``dry_run`` decides without changing anything."""

    def __init__(
        self, pool: Pool, store: ObjectStore, recordings: Recordings, *, dry_run: bool = False
    ) -> None:
        self.pool = pool
        self.store = store
        self.recordings = recordings
        self.dry_run = dry_run

    async def erase_recordings(
        self, ids: Sequence[uuid.UUID], why: Why, report: ErasureReport | None = None
    ) -> ErasureReport:
        """Erase the recordings in batches, keeping held ones; returns the report."""
        report = report if report is not None else ErasureReport()
        for start in range(0, len(ids), BATCH):
            await self._erase_batch(list(ids[start : start + BATCH]), why, report)
        return report

    async def _erase_batch(self, ids: list[uuid.UUID], why: Why, report: ErasureReport) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ERASURE_LOCK)
            customers = await self.recordings.customers_of(conn, ids)
            held = await holds_on(conn, ids, customers)
            report.decisions.extend(
                Decision("recording", rid, "kept", f"legal hold {hold}")
                for rid, hold in held.items()
            )
            doomed = [rid for rid in ids if rid not in held]
            report.related.update(await self.recordings.related(conn, doomed))
            if self.dry_run:
                report.decisions.extend(
                    Decision("recording", rid, "erased", why.reason) for rid in doomed
                )
                return
            dependents = await self.recordings.delete_dependents(conn, doomed)
            erased = await self.recordings.delete(conn, doomed)
            keys = await shred_headers(
                conn, [oid for objects in erased.values() for oid in objects]
            )
            await leave_tombstones(
                conn, "recording", why, erased, [len(objects) for objects in erased.values()]
            )
        report.decisions.extend(Decision("recording", rid, "erased", why.reason) for rid in erased)
        report.decisions.extend(Decision(kind, i, "erased", why.reason) for kind, i in dependents)
        await delete_payloads(self.pool, self.store, keys, report)

    async def erase_customer(
        self, customer_id: uuid.UUID, why: Why, today: date, report: ErasureReport | None = None
    ) -> ErasureReport:
        """Erase a customer: their recordings (held ones kept), their contact log and change
        history; the core record is kept while a lease is active, anonymised where other
        records (past leases) still refer to it, and deleted otherwise."""
        report = report if report is not None else ErasureReport()
        async with self.pool.acquire() as conn:
            hold = await conn.fetchval(CUSTOMER_HOLD, customer_id)
            recording_ids = await self.recordings.of_customer(conn, customer_id)
        if hold is not None:
            report.decisions.append(Decision("customer", customer_id, "kept", f"legal hold {hold}"))
            report.decisions.extend(
                Decision("recording", rid, "kept", f"legal hold {hold}") for rid in recording_ids
            )
            return report
        await self.erase_recordings(recording_ids, why, report)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ERASURE_LOCK)
            await self._erase_customer_rows(conn, customer_id, why, today, report)
        return report

    async def _erase_customer_rows(
        self,
        conn: Connection,
        customer_id: uuid.UUID,
        why: Why,
        today: date,
        report: ErasureReport,
    ) -> None:
        lease = await active_lease(conn, customer_id, today)
        referenced = await in_past_leases(conn, customer_id)
        if self.dry_run:
            entries = await contact_log_of(conn, customer_id)
        else:
            entries = await forget_contacts_and_history(conn, customer_id)
        report.decisions.extend(Decision("contact", e, "erased", why.reason) for e in entries)
        if lease is not None:
            report.decisions.append(
                Decision(
                    "customer", customer_id, "kept_core", "an active lease needs the core data"
                )
            )
            return
        action = "anonymised" if referenced else "erased"
        reason = "past leases refer to the customer" if referenced else why.reason
        report.decisions.append(Decision("customer", customer_id, action, reason))
        if self.dry_run:
            return
        if referenced:
            await anonymise_customer(conn, customer_id, ERASED)
        else:
            await delete_customer(conn, customer_id)
        await leave_tombstones(conn, "customer", why, [customer_id])

    async def erase_contacts(self, ids: Sequence[uuid.UUID], why: Why) -> ErasureReport:
        """Erase contact-log entries (retention); entries of held customers are kept."""
        report = ErasureReport()
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ERASURE_LOCK)
            customers = await customers_of_contacts(conn, ids)
            holding = await _held_customers(conn, set(customers.values()))
            held = {entry for entry, customer in customers.items() if customer in holding}
            doomed = [i for i in ids if i not in held]
            if not self.dry_run:
                await delete_contact_entries(conn, doomed)
                await leave_tombstones(conn, "contact", Why(why.reason), doomed)
        report.decisions.extend(Decision("contact", i, "kept", "legal hold") for i in held)
        report.decisions.extend(Decision("contact", i, "erased", why.reason) for i in doomed)
        return report


async def holds_on(
    db: Connection | Pool, ids: Sequence[uuid.UUID], customers: Mapping[uuid.UUID, uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The unreleased hold keeping each held recording among ``ids``: one naming the recording
    or its customer (``customers``: recording → linked customer, unlinked ones left out)."""
    rows = await db.fetch(HELD_RECORDINGS, list(ids), list(customers), list(customers.values()))
    return {row["id"]: row["hold_id"] for row in rows}


async def leave_tombstones(
    db: Connection | Pool,
    kind: str,
    why: Why,
    ids: Iterable[uuid.UUID],
    objects: Sequence[int] | None = None,
) -> None:
    """The proof, without personal data, that these items of ``kind`` (recording, customer,
    contact, export) were erased and why; ``objects`` counts each one's deleted payloads.
    Written in the caller's transaction, so the proof commits with the erasure."""
    items = list(ids)
    counts = list(objects) if objects is not None else [0] * len(items)
    await db.execute(INSERT_TOMBSTONES, items, kind, why.reason, why.request_id, counts)


async def _held_customers(conn: Connection, customer_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The customers among these that an unreleased legal hold names."""
    if not customer_ids:
        return set()
    rows = await conn.fetch(HELD_CUSTOMERS, list(customer_ids))
    return {row["customer_id"] for row in rows}


async def delete_payloads(
    pool: Pool, store: ObjectStore, keys: list[str], report: ErasureReport
) -> None:
    """Delete the (already unreadable) payloads, every version; failures stay pending."""
    limit = asyncio.Semaphore(DELETE_CONCURRENCY)

    async def delete(key: str) -> str | None:
        async with limit:
            try:
                await store.delete(key)
            except (ObjectStoreError, OSError):  # the filesystem store's unlink can raise
                return None
            return key

    done = [key for key in await asyncio.gather(*map(delete, keys)) if key is not None]
    report.objects_deleted += len(done)
    report.objects_pending += len(keys) - len(done)
    if done:
        await forget_deleted(pool, done)
