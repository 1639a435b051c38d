"""The scheduled jobs and how often each runs (job wiring: the composition root's).

| job              | every  | what                                                        |
|------------------|--------|-------------------------------------------------------------|
| retention_sweep  | 1 h    | every retention category, then the audit-log prune          |
| export_expiry    | 15 min | shred access exports whose download link has expired        |
| deadline_monitor | 15 min | warn 3 days before a subject request is due, alert overdue  |
| orphan_reaper    | 6 h    | retry failed payload deletes, delete unreferenced payloads  |
| key_rewrap       | 1 h    | re-encrypt key headers still on a rotated-out key           |
| audit_verify     | 24 h   | walk the audit hash chain and report any break              |

Intervals are short next to the periods they enforce (days and months), so a restarted
or briefly partitioned node never leaves anything noticeably late; a job with nothing to
do costs one indexed query.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from audit.log import verify_chain
from common.metrics import Metrics
from common.settings import Settings
from recorder.erasure import RECORDINGS, recording_categories
from retention.erasure import ErasureEngine
from retention.reaper import OrphanReaper
from retention.scheduler import ScheduledJob
from retention.sweep import RetentionSweep, register_categories
from rights.deadlines import DeadlineMonitor
from rights.links import expiry_category
from storage.db import Pool
from storage.objects import ObjectStore
from storage.vault import Vault, rewrap

log = logging.getLogger(__name__)


class AuditChainBroken(Exception):
    """The audit chain has a break: the run is an error, so the metric and row say so."""


def erasure_engine(pool: Pool, store: ObjectStore, *, dry_run: bool = False) -> ErasureEngine:
    """The erasure engine, given the recordings table of recorder (a room above retention)."""
    return ErasureEngine(pool, store, RECORDINGS, dry_run=dry_run)


def retention_sweep(
    pool: Pool, engine: ErasureEngine, settings: Settings, *, now: datetime | None = None
) -> RetentionSweep:
    """The sweep with every category, each built by its table's owner: recordings
    (recorder), the register's, and expired export links (rights)."""
    now = now or datetime.now(UTC)
    categories = [
        *recording_categories(pool, engine, settings),
        *register_categories(pool, engine, settings, now.date()),
        expiry_category(pool, engine),
    ]
    return RetentionSweep(pool, engine, settings, now=now, categories=categories)


def standard_jobs(
    pool: Pool, vault: Vault, settings: Settings, metrics: Metrics
) -> list[ScheduledJob]:
    """The jobs every worker schedules (the locks make each tick run on one of them)."""

    async def sweep(only: tuple[str, ...] | None = None) -> str:
        engine = erasure_engine(pool, vault.store)
        report = await retention_sweep(pool, engine, settings).run(only=only)
        return report.summary()

    async def expire_exports() -> str:
        return await sweep(("exports",))

    async def monitor_deadlines() -> str:
        return await DeadlineMonitor(pool, settings, metrics).run()

    async def reap_orphans() -> str:
        reaper = OrphanReaper(pool, vault.store, keep_runs_days=settings.retention_audit_log_days)
        return (await reaper.run()).summary()

    async def rewrap_keys() -> str:  # the worker only starts with identities to unwrap
        return f"headers rewrapped {await rewrap(pool, vault.keyring)}"

    async def verify_audit_chain() -> str:
        async with pool.acquire() as conn:
            report = await verify_chain(conn)
        metrics.audit_chain_intact.set(1 if report.intact else 0)
        if not report.intact:
            log.error("audit chain broken: %s", "; ".join(report.problems[:10]))
            raise AuditChainBroken(f"{len(report.problems)} problems")
        return f"intact: {report.entries} entries up to seq {report.head_seq}"

    return [
        ScheduledJob("retention_sweep", timedelta(hours=1), sweep),
        ScheduledJob("export_expiry", timedelta(minutes=15), expire_exports),
        ScheduledJob("deadline_monitor", timedelta(minutes=15), monitor_deadlines),
        ScheduledJob("orphan_reaper", timedelta(hours=6), reap_orphans),
        ScheduledJob("key_rewrap", timedelta(hours=1), rewrap_keys),
        ScheduledJob("audit_verify", timedelta(days=1), verify_audit_chain),
    ]
