"""The compliance evidence: the figures a supervisor (or the DPO's annual report) asks for,
read live from the system, never typed in.

Each figure is asked of the room that owns its data (rights: subject requests; retention:
a dry run of the very sweep that erases, and the scheduler's runs; audit: the last
verification of the chain; storage: key headers per key version; recorder: calls without
the recording notice and calls whose agent matched no account; transcripts: how many are
ready, pending and failed). Only counts, dates and key
version numbers leave here: no personal data, so the page and the CLI can show it all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.log import last_verification
from common.settings import Settings
from recorder.catalog import call_figures
from retention.scheduler import last_runs
from retention.sweep import past_retention
from rights.requests import request_figures
from rights.sweeps import erasure_engine, retention_sweep
from storage.db import Pool
from storage.keyring import Keyring
from storage.objects import ObjectStore
from storage.vault import headers_by_key_version
from transcripts.store import counts_by_status

LATE_AFTER_INTERVALS = 2  # a job is late when its last success is older than two intervals


@dataclass(frozen=True)
class Sources:
    """Where the figures come from: the live database, store, settings, keyring and the
    scheduled jobs' intervals (the composition root's table)."""

    pool: Pool
    store: ObjectStore
    settings: Settings
    keyring: Keyring
    schedule: Mapping[str, timedelta]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def _retention(sources: Sources) -> dict[str, Any]:
    engine = erasure_engine(sources.pool, sources.store, dry_run=True)
    found = await past_retention(retention_sweep(sources.pool, engine, sources.settings))
    return {
        "past_retention_without_hold": sum(p.due for p in found.values()),
        "past_retention_under_hold": sum(p.held for p in found.values()),
        "past_retention_kept_by_duty": sum(p.kept_by_duty for p in found.values()),
        "categories": {name: asdict(p) for name, p in found.items()},
    }


async def _audit_chain(sources: Sources) -> dict[str, Any]:
    verified = await last_verification(sources.pool)
    if verified is None:
        return {"last_verified_at": None, "intact": None, "entries": None, "problems": None}
    return {
        "last_verified_at": _time(verified.at),
        "intact": verified.intact,
        "entries": verified.entries,
        "problems": verified.problems,
    }


async def _keys(sources: Sources) -> dict[str, Any]:
    current = sources.keyring.current.version
    headers = await headers_by_key_version(sources.pool)
    return {
        "versions": sorted(sources.keyring.entries),
        "current_version": current,
        "headers_by_version": {str(v): n for v, n in headers.items()},
        "headers_on_old_keys": sum(n for v, n in headers.items() if v < current),
    }


async def _jobs(sources: Sources, now: datetime) -> list[dict[str, Any]]:
    runs = await last_runs(sources.pool)
    out = []
    for name, every in sources.schedule.items():
        run = runs.get(name)
        success = None if run is None else run.last_success
        out.append(
            {
                "job": name,
                "every_seconds": int(every.total_seconds()),
                "last_success": _time(success),
                "last_started": None if run is None else _time(run.last_started),
                "last_outcome": None if run is None else run.last_outcome,
                "late": success is None or now - success > LATE_AFTER_INTERVALS * every,
            }
        )
    return out


async def gather_evidence(sources: Sources, now: datetime | None = None) -> dict[str, Any]:
    """Every figure, as JSON-ready values (the API's answer and the CLI's output)."""
    now = now or datetime.now(UTC)
    requests = await request_figures(sources.pool, now)
    return {
        "generated_at": now.isoformat(),
        "subject_requests": asdict(requests)
        | {"internal_target_days": sources.settings.subject_request_due_days},
        "retention": await _retention(sources),
        "audit_chain": await _audit_chain(sources),
        "keys": await _keys(sources),
        "calls": asdict(await call_figures(sources.pool)),
        "transcripts": await counts_by_status(sources.pool),
        "scheduled_jobs": await _jobs(sources, now),
    }
