"""The job scheduler: apscheduler fires the jobs, PostgreSQL decides who runs them.

Every worker (and ``serve`` in embedded mode) runs a scheduler, so any number of replicas
may fire the same job at the same moment. Two things make a tick run exactly once:

* the tick is a number every node computes alike: whole intervals since a fixed anchor,
  so the hourly job's tick at 14:00 is the same number on every machine;
* a node runs a tick only if it takes the job's session advisory lock
  (``pg_try_advisory_lock``; a job still running from the previous tick keeps it) **and**
  inserts the ``scheduler_runs (job, tick)`` row first (``ON CONFLICT DO NOTHING``).

The lock alone would let a second node run the tick again the moment the first one
finishes; the row alone would let two long runs of successive ticks overlap. Together they
give once per tick and never two at a time. The row also keeps when the run started,
where, when it finished and its outcome: the proof that retention ran. A row without
``finished_at`` is a run that was interrupted (the process stopped mid-job).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from common.logs import log_failure
from common.metrics import Metrics
from storage.db import Pool

log = logging.getLogger(__name__)

ANCHOR: Final = datetime(2000, 1, 1, tzinfo=UTC)  # ticks count whole intervals from here
LOCK_NAMESPACE: Final = 0x63616C6C  # "call"; the two-key lock space, apart from ERASURE_LOCK
LOCK: Final = "SELECT pg_try_advisory_lock($1, hashtext($2))"
UNLOCK: Final = "SELECT pg_advisory_unlock($1, hashtext($2))"
CLAIM: Final = """
INSERT INTO scheduler_runs (job, tick, node) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING RETURNING tick
"""
FINISH: Final = """
UPDATE scheduler_runs SET finished_at = now(), outcome = $3 WHERE job = $1 AND tick = $2
"""
LAST_RUNS: Final = """
SELECT job,
       max(finished_at) FILTER (WHERE outcome NOT LIKE 'error:%') AS last_success,
       max(started_at) AS last_started,
       (array_agg(outcome ORDER BY started_at DESC))[1] AS last_outcome
FROM scheduler_runs GROUP BY job
"""
MAX_OUTCOME: Final = 2000
STOP_GRACE_SECONDS: Final = 10.0


@dataclass(frozen=True)
class ScheduledJob:
    """A named job run once every ``every``; ``run`` returns a one-line outcome.

    The outcome is stored and logged, so it must hold counts and ids, never personal data.
    """

    name: str
    every: timedelta
    run: Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class JobRuns:
    """What the ``scheduler_runs`` rows say about one job: the proof that it ran."""

    job: str
    last_success: datetime | None  # finished without an error
    last_started: datetime
    last_outcome: str | None  # None: the newest run is still going, or was interrupted


async def last_runs(pool: Pool) -> dict[str, JobRuns]:
    """Per job that has ever run (and whose rows the reaper has not yet pruned)."""
    return {row["job"]: JobRuns(**dict(row)) for row in await pool.fetch(LAST_RUNS)}


def tick_of(moment: datetime, every: timedelta) -> int:
    """The number of whole ``every`` intervals between the anchor and ``moment``."""
    return (moment - ANCHOR) // every


def node_name() -> str:
    """Who ran a tick: host, process and a random suffix (two schedulers in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class JobScheduler:
    """Fire ``jobs`` on their intervals; run each tick only where PostgreSQL says so."""

    def __init__(
        self,
        pool: Pool,
        jobs: Sequence[ScheduledJob],
        *,
        metrics: Metrics | None = None,
        node: str | None = None,
    ) -> None:
        self.pool = pool
        self.jobs = {job.name: job for job in jobs}
        self.metrics = metrics
        self.node = node or node_name()
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()

    def start(self) -> None:
        """Add every job to an apscheduler on the running event loop and start it."""
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        for job in self.jobs.values():
            scheduler.add_job(
                self._fire,
                IntervalTrigger(seconds=job.every.total_seconds(), start_date=ANCHOR),
                args=[job.name],
                id=job.name,
                coalesce=True,  # a node that slept through ticks runs one, not a burst
                max_instances=1,
                misfire_grace_time=max(1, int(job.every.total_seconds() / 2)),
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler %s started with %d jobs", self.node, len(self.jobs))

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop firing; give running jobs ``grace`` seconds to finish, then cancel them.

        A cancelled job's transaction rolls back and its row keeps no ``finished_at``.
        """
        if self._scheduler is not None:
            self._scheduler.pause()  # no new ticks; running ones go on
            if self._running:
                await asyncio.wait(set(self._running), timeout=grace)
            self._scheduler.shutdown(wait=False)  # cancels what is still running
            self._scheduler = None
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _fire(self, name: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            job = self.jobs[name]
            await self.run_tick(job, tick_of(datetime.now(UTC), job.every))
        finally:
            self._running.discard(task)

    async def run_tick(self, job: ScheduledJob, tick: int) -> str | None:
        """Run ``job`` for ``tick`` if this node wins it; return the outcome, or None if not."""
        async with self.pool.acquire() as conn:
            if not await conn.fetchval(LOCK, LOCK_NAMESPACE, job.name):
                self._count(job.name, "skipped")
                return None
            try:
                if await conn.fetchval(CLAIM, job.name, tick, self.node) is None:
                    self._count(job.name, "skipped")
                    return None
                outcome = await self._run(job)
                await conn.execute(FINISH, job.name, tick, outcome[:MAX_OUTCOME])
                return outcome
            finally:
                await conn.fetchval(UNLOCK, LOCK_NAMESPACE, job.name)

    async def _run(self, job: ScheduledJob) -> str:
        started = asyncio.get_running_loop().time()
        try:
            outcome = await job.run()
        except Exception as exc:  # a failing job must not stop the others; the row says why
            log_failure(log, f"scheduled job {job.name} failed", exc, level=logging.ERROR)
            self._count(job.name, "error")
            return f"error: {type(exc).__name__}"
        seconds = asyncio.get_running_loop().time() - started
        log.info("scheduled job %s done in %.1f s: %s", job.name, seconds, outcome)
        self._count(job.name, "ok")
        if self.metrics is not None:
            self.metrics.job_last_success.labels(job.name).set_to_current_time()
        return outcome

    def _count(self, name: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.job_runs.labels(name, outcome).inc()
