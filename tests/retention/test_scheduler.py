"""The job scheduler against real PostgreSQL: each tick runs once however many nodes fire it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from audit.log import SYSTEM, AuditEvent, record
from callrec.jobs import standard_jobs
from common.metrics import Metrics
from common.settings import Settings
from retention.scheduler import JobScheduler, ScheduledJob, tick_of
from storage.db import Pool
from storage.objects import ObjectStore, ObjectStoreUnavailable, StoredObject
from storage.vault import Vault
from tests.audit.test_audit import tamper
from tests.retention.helpers import add_recording
from tests.rights.test_processor import DeleteRefusingStore

SECOND = timedelta(seconds=1)


def counting_job(calls: list[datetime], *, pause: float = 0.2) -> ScheduledJob:
    async def run() -> str:
        calls.append(datetime.now(UTC))
        await asyncio.sleep(pause)  # long enough that the other nodes fire while it runs
        return "ok"

    return ScheduledJob("count", SECOND, run)


def runs(metrics: Metrics, outcome: str, job: str = "count") -> float:
    """How many ticks of ``job`` this node counted with ``outcome``."""
    found = metrics.registry.get_sample_value(
        "callrec_scheduled_job_runs_total", {"job": job, "outcome": outcome}
    )
    return found or 0.0


async def test_three_schedulers_on_one_database_run_each_tick_once(pool: Pool) -> None:
    calls: list[datetime] = []
    metrics = [Metrics() for _ in range(3)]
    nodes = [
        JobScheduler(pool, [counting_job(calls)], metrics=m, node=f"node-{i}")
        for i, m in enumerate(metrics)
    ]
    for node in nodes:
        node.start()
    await asyncio.sleep(3.5)
    for node in nodes:
        await node.stop()

    rows = await pool.fetch("SELECT tick, node, outcome, finished_at FROM scheduler_runs")
    assert len(rows) >= 3
    assert len(calls) == len(rows)  # one run per tick, not one per node
    assert all(row["outcome"] == "ok" and row["finished_at"] is not None for row in rows)
    assert sum(runs(m, "ok") for m in metrics) == len(rows)
    assert sum(runs(m, "skipped") for m in metrics) >= len(rows)  # the others did fire


async def test_a_tick_claimed_at_once_by_three_nodes_runs_once_and_never_again(
    pool: Pool,
) -> None:
    calls: list[datetime] = []
    job = counting_job(calls)
    nodes = [JobScheduler(pool, [job], node=f"node-{i}") for i in range(3)]

    outcomes = await asyncio.gather(*(node.run_tick(job, 42) for node in nodes))

    assert outcomes.count("ok") == 1
    assert outcomes.count(None) == 2
    assert await nodes[0].run_tick(job, 42) is None  # a late node finds the tick taken
    assert len(calls) == 1
    assert await pool.fetchval("SELECT count(*) FROM scheduler_runs") == 1


async def test_a_job_still_running_keeps_the_next_tick_from_starting_elsewhere(
    pool: Pool,
) -> None:
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "done"

    job = ScheduledJob("slow", SECOND, slow)
    first, second = JobScheduler(pool, [job]), JobScheduler(pool, [job])
    running = asyncio.ensure_future(first.run_tick(job, 1))
    await asyncio.sleep(0.2)

    assert await second.run_tick(job, 2) is None  # tick 2 is skipped, not run alongside
    release.set()
    assert await running == "done"
    assert [r["tick"] for r in await pool.fetch("SELECT tick FROM scheduler_runs")] == [1]
    assert await second.run_tick(job, 3) == "done"  # the lock is free again


async def test_a_failing_job_is_recorded_without_its_message_and_does_not_stop_others(
    pool: Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def fails() -> str:
        raise ValueError("duplicate key (caller_number)=(+358401234567)")

    broken = ScheduledJob("broken", SECOND, fails)
    fine = counting_job([], pause=0)
    metrics = Metrics()
    scheduler = JobScheduler(pool, [broken, fine], metrics=metrics)

    assert await scheduler.run_tick(broken, 7) == "error: ValueError"
    assert await scheduler.run_tick(fine, 7) == "ok"
    outcome = await pool.fetchval("SELECT outcome FROM scheduler_runs WHERE job = 'broken'")
    assert outcome == "error: ValueError"
    assert runs(metrics, "error", "broken") == 1
    assert "+358" not in caplog.text
    assert "broken failed: ValueError" in caplog.text


async def test_every_standard_job_runs_on_a_fresh_database(
    pool: Pool, vault: Vault, settings: Settings
) -> None:
    metrics = Metrics()
    jobs = standard_jobs(pool, vault, settings, metrics)
    scheduler = JobScheduler(pool, jobs, metrics=metrics)
    now = datetime.now(UTC)

    outcomes = {job.name: await scheduler.run_tick(job, tick_of(now, job.every)) for job in jobs}

    assert set(outcomes) == {
        "retention_sweep",
        "export_expiry",
        "deadline_monitor",
        "orphan_reaper",
        "key_rewrap",
        "audit_verify",
    }
    failed = {
        name: outcome for name, outcome in outcomes.items() if not outcome or "error" in outcome
    }
    assert not failed
    assert outcomes["retention_sweep"] == "nothing due"
    assert outcomes["key_rewrap"] == "headers rewrapped 0"
    assert str(outcomes["audit_verify"]).startswith("intact")
    assert metrics.registry.get_sample_value("callrec_audit_chain_intact") == 1
    assert (
        await pool.fetchval("SELECT count(*) FROM scheduler_runs WHERE finished_at IS NOT NULL")
        == 6
    )


def job_named(jobs: list[ScheduledJob], name: str) -> ScheduledJob:
    return next(job for job in jobs if job.name == name)


async def test_key_rewrap_moves_headers_to_a_rotated_key(
    pool: Pool, vault: Vault, settings: Settings, tmp_path: Path
) -> None:
    await add_recording(pool, vault)
    vault.keyring.rotate(tmp_path / "keyring.txt")  # the fixture's keyring file
    rewrap = job_named(standard_jobs(pool, vault, settings, Metrics()), "key_rewrap")

    assert await rewrap.run() == "headers rewrapped 1"
    versions = await pool.fetch("SELECT DISTINCT key_version FROM sealed_objects")
    assert [row["key_version"] for row in versions] == [vault.keyring.current.version]
    assert await rewrap.run() == "headers rewrapped 0"


async def test_audit_verification_reports_a_broken_chain_as_an_error(
    pool: Pool, vault: Vault, settings: Settings
) -> None:
    for n in range(3):
        await record(pool, AuditEvent("test.event", "ok", SYSTEM, details={"n": n}))
    await tamper(pool, "UPDATE audit_log SET action = 'other.event' WHERE seq = 2")
    metrics = Metrics()
    verify = job_named(standard_jobs(pool, vault, settings, metrics), "audit_verify")

    assert await JobScheduler(pool, [verify], metrics=metrics).run_tick(verify, 1) == (
        "error: AuditChainBroken"
    )
    assert metrics.registry.get_sample_value("callrec_audit_chain_intact") == 0


class StoreDown(DeleteRefusingStore):
    """The real store, except that listing and deleting fail as if the server were down."""

    async def list(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        raise ObjectStoreUnavailable("object store unreachable")
        yield  # an async generator, like the real ones


async def test_with_the_store_down_the_reaper_fails_keeps_its_work_and_others_run(
    pool: Pool, vault: Vault, settings: Settings
) -> None:
    await pool.execute("INSERT INTO pending_object_deletions (object_key) VALUES ('exports/x/y')")
    down = Vault(cast(ObjectStore, StoreDown(vault.store)), vault.keyring)
    metrics = Metrics()
    jobs = standard_jobs(pool, down, settings, metrics)
    scheduler = JobScheduler(pool, jobs, metrics=metrics)

    reaper = job_named(jobs, "orphan_reaper")
    assert await scheduler.run_tick(reaper, 1) == "error: ObjectStoreUnavailable"
    assert await pool.fetchval("SELECT count(*) FROM pending_object_deletions") == 1
    monitor = job_named(jobs, "deadline_monitor")
    assert str(await scheduler.run_tick(monitor, 1)).startswith("alerts sent 0 of 0")
