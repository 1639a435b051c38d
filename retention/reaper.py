"""The orphan reaper: payloads nobody can read any more leave the object store too.

Two kinds of orphan exist, both already unreadable (their key header is gone or was never
written), so reaping them is tidiness and storage cost, not secrecy:

* **pending deletions**: the erasure engine or the ingest worker shredded the header but
  the store refused the delete (``pending_object_deletions``); they are retried here until
  the store agrees;
* **unreferenced objects**: a payload whose header row was never committed: a crashed
  upload, a transaction rolled back after the bytes were written, a temporary file of an
  interrupted write. Only objects older than a grace period are taken, so an upload still
  being written (a two-hour call takes a while) is never mistaken for one.

It also forgets scheduler runs older than the audit log's retention period.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from common.logs import log_failure
from retention.erasure import ErasureReport, delete_payloads
from storage.db import Pool
from storage.objects import ObjectStore, StoredObject
from storage.vault import pending_deletions, unreferenced

log = logging.getLogger(__name__)

GRACE: Final = timedelta(days=1)
BATCH: Final = 1000
PRUNE_RUNS: Final = "DELETE FROM scheduler_runs WHERE started_at < $1"


@dataclass
class ReapReport:
    """What one run of the reaper did."""

    pending: ErasureReport
    orphans: ErasureReport
    runs_pruned: int = 0

    def summary(self) -> str:
        """One line for the scheduler's outcome."""
        return (
            f"pending deleted {self.pending.objects_deleted}, still pending "
            f"{self.pending.objects_pending}; orphans deleted {self.orphans.objects_deleted}, "
            f"failed {self.orphans.objects_pending}; scheduler runs pruned {self.runs_pruned}"
        )


class OrphanReaper:
    """Delete pending and unreferenced payloads; prune old scheduler runs."""

    def __init__(
        self, pool: Pool, store: ObjectStore, *, keep_runs_days: int, grace: timedelta = GRACE
    ) -> None:
        self.pool = pool
        self.store = store
        self.keep_runs = timedelta(days=keep_runs_days)
        self.grace = grace

    async def run(self, now: datetime | None = None) -> ReapReport:
        """One pass over the pending list and the whole store."""
        now = now or datetime.now(UTC)
        report = ReapReport(ErasureReport(), ErasureReport())
        after = ""
        while keys := await pending_deletions(self.pool, after, BATCH):
            await delete_payloads(self.pool, self.store, keys, report.pending)
            after = keys[-1]
        async for batch in _batches(self.store.list(), BATCH):
            old = [item.key for item in batch if item.modified_at < now - self.grace]
            if old:
                orphans = await unreferenced(self.pool, old)
                await delete_payloads(self.pool, self.store, orphans, report.orphans)
        if report.orphans.objects_deleted:
            log.warning("reaped %d unreferenced objects", report.orphans.objects_deleted)
        status = await self.pool.execute(PRUNE_RUNS, now - self.keep_runs)
        report.runs_pruned = int(status.split()[-1])
        return report


async def delete_payloads_now(pool: Pool, store: ObjectStore, keys: list[str]) -> int:
    """Delete queued payloads at once; returns how many the store refused (the reaper retries)."""
    report = ErasureReport()
    await delete_payloads(pool, store, keys, report)
    return report.objects_pending


async def delete_after_commit(pool: Pool, store: ObjectStore, keys: list[str]) -> None:
    """Delete the payloads a committed transaction shredded, now if possible. Never raises:
    the commit stands, and whatever the store or the database refuses stays queued for the
    reaper (ingest, renders, transcriptions and span removals all end this way)."""
    if not keys:
        return
    try:
        refused = await delete_payloads_now(pool, store, keys)
    except Exception as exc:  # the database went away: the queue rows keep the keys
        log_failure(log, "deleting shredded payloads left to the reaper", exc)
        return
    if refused:
        log.warning("the store refused deleting %d payload(s); the reaper retries", refused)


async def _batches(
    items: AsyncIterator[StoredObject], size: int
) -> AsyncIterator[list[StoredObject]]:
    batch: list[StoredObject] = []
    async for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
