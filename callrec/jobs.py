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
from datetime import timedelta
from typing import Final

from audit.log import record_verification, verify_chain
from common.metrics import Metrics
from common.settings import Settings
from retention.reaper import OrphanReaper
from retention.scheduler import ScheduledJob
from rights.deadlines import DeadlineMonitor
from rights.sweeps import erasure_engine, retention_sweep
from storage.db import Pool
from storage.vault import Vault, rewrap

log = logging.getLogger(__name__)

# Each job's interval, in the order above: the one list the scheduler and the compliance
# evidence (which flags a job whose last success is older than two intervals) both read.
SCHEDULE: Final[dict[str, timedelta]] = {
    "retention_sweep": timedelta(hours=1),
    "export_expiry": timedelta(minutes=15),
    "deadline_monitor": timedelta(minutes=15),
    "orphan_reaper": timedelta(hours=6),
    "key_rewrap": timedelta(hours=1),
    "audit_verify": timedelta(days=1),
}


class AuditChainBroken(Exception):
    """The audit chain has a break: the run is an error, so the metric and row say so."""


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
            await record_verification(conn, report)
        metrics.audit_chain_intact.set(1 if report.intact else 0)
        if not report.intact:
            log.error("audit chain broken: %s", "; ".join(report.problems[:10]))
            raise AuditChainBroken(f"{len(report.problems)} problems")
        return f"intact: {report.entries} entries up to seq {report.head_seq}"

    runs = {
        "retention_sweep": sweep,
        "export_expiry": expire_exports,
        "deadline_monitor": monitor_deadlines,
        "orphan_reaper": reap_orphans,
        "key_rewrap": rewrap_keys,
        "audit_verify": verify_audit_chain,
    }
    return [ScheduledJob(name, every, runs[name]) for name, every in SCHEDULE.items()]
