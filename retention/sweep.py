"""The retention sweep: each category of personal data is erased once its period has passed
(GDPR Art. 5(1)(e)), through the one erasure engine, so legal holds and the duty to keep a
tenant's core data apply here exactly as they do to a subject's erasure request.

Periods are settings (``CALLREC_RETENTION_*_DAYS``); the README explains each default.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

from audit.log import SYSTEM, AuditEvent, prune_audit_log, record
from common.settings import Settings
from register.erasure import former_tenants, idle_applicants, old_contacts
from retention.erasure import ErasureEngine, ErasureReport, Why
from storage.db import DuePage, Pool

PAGE: Final = 2000
NIL: Final = uuid.UUID(int=0)

Progress = Callable[[str, int], None]
Eraser = Callable[[list[uuid.UUID]], Awaitable[ErasureReport]]


@dataclass(frozen=True)
class Category:
    """One kind of personal data with a period: which items are due, and how they go.

    Each table's owner builds its own categories (the register's are :func:`register_categories`;
    recordings and export links are recorder's and rights', rooms above this one), so its
    SQL stays its own; the composition root hands the sweep the whole list.
    """

    name: str
    days: int  # the period; 0 where the row carries its own expiry time
    due: DuePage
    erase: Eraser


@dataclass(frozen=True)
class PastRetention:
    """One category's items whose period has passed, by what the sweep decides for them."""

    due: int  # would be erased (or anonymised) now: nothing holds them
    held: int  # kept by a legal hold
    kept_by_duty: int  # core data an active lease still needs


def register_categories(
    pool: Pool, engine: ErasureEngine, settings: Settings, today: date
) -> list[Category]:
    """The register's categories: old contact-log entries, idle applicants, former tenants."""

    def customers(reason: str) -> Eraser:
        async def erase(ids: list[uuid.UUID]) -> ErasureReport:
            out = ErasureReport()
            for customer_id in ids:
                await engine.erase_customer(customer_id, Why(reason), today, out)
            return out

        return erase

    s = settings
    return [
        Category(
            "contact_log",
            s.retention_contact_log_days,
            old_contacts(pool),
            lambda ids: engine.erase_contacts(ids, Why("retention:contact_log")),
        ),
        Category(
            "applicants",
            s.retention_applicants_days,
            idle_applicants(pool),
            customers("retention:applicants"),
        ),
        Category(
            "former_tenants",
            s.retention_former_tenants_days,
            former_tenants(pool),
            customers("retention:former_tenants"),
        ),
    ]


@dataclass
class SweepReport:
    """Per category, the decisions the sweep made."""

    categories: dict[str, ErasureReport] = field(default_factory=dict)
    audit_entries_pruned: int = 0

    def counts(self) -> dict[str, dict[str, int]]:
        """``{"recordings": {"recording.erased": 3, …}, …}``."""
        return {name: report.counts() for name, report in self.categories.items()}

    @property
    def decided(self) -> int:
        """How many items the sweep decided about, in all categories."""
        return sum(len(report.decisions) for report in self.categories.values())

    def past_retention(self) -> dict[str, PastRetention]:
        """Per category, the decided items split into due, held and kept by a duty."""
        out = {}
        for name, report in self.categories.items():
            actions = [d.action for d in report.decisions]
            held = sum(1 for d in report.decisions if d.reason.startswith("legal hold"))
            kept = actions.count("kept_core")
            out[name] = PastRetention(len(actions) - held - kept, held, kept)
        return out

    def summary(self) -> str:
        """One line of counts (no ids) for the scheduler's outcome."""
        parts = [
            f"{name} {key.split('.')[-1]} {value}"
            for name, counts in self.counts().items()
            for key, value in counts.items()
        ]
        if self.audit_entries_pruned:
            parts.append(f"audit entries pruned {self.audit_entries_pruned}")
        return "; ".join(parts) or "nothing due"


class RetentionSweep:
    """Run every category once; ``dry_run`` lists what would go without changing anything."""

    def __init__(
        self,
        pool: Pool,
        engine: ErasureEngine,
        settings: Settings,
        *,
        now: datetime,
        categories: Sequence[Category],
    ) -> None:
        self.pool = pool
        self.engine = engine
        self.settings = settings
        self.now = now
        self.categories = tuple(categories)

    def cutoff(self, days: int) -> datetime:
        """The moment before which a category's items have outlived their period."""
        return self.now - timedelta(days=days)

    async def run(
        self, on_progress: Progress | None = None, *, only: Collection[str] | None = None
    ) -> SweepReport:
        """Sweep the categories in order and return what was decided.

        ``only`` names a subset (the scheduler expires exports more often than it sweeps
        everything); a partial sweep leaves the audit log alone and is audited only when it
        erased something.
        """
        s, engine = self.settings, self.engine
        report = SweepReport()
        for item in self.categories:
            name = item.name
            if only is not None and name not in only:
                continue
            category = report.categories.setdefault(name, ErasureReport())
            after = NIL
            while ids := await item.due(self.cutoff(item.days), after, PAGE):
                category.add(await item.erase(ids))
                after = ids[-1]
                if on_progress is not None:
                    on_progress(name, len(category.decisions))
        if engine.dry_run or (only is not None and not report.decided):
            return report
        if only is None:
            async with self.pool.acquire() as conn:
                report.audit_entries_pruned = await prune_audit_log(
                    conn, self.cutoff(s.retention_audit_log_days)
                )
        await record(
            self.pool,
            AuditEvent(
                "retention.sweep",
                "ok",
                SYSTEM,
                details={
                    f"{name}.{key}": value
                    for name, counts in report.counts().items()
                    for key, value in counts.items()
                }
                | {"audit_log.pruned": report.audit_entries_pruned},
            ),
        )
        return report


async def past_retention(sweep: RetentionSweep) -> dict[str, PastRetention]:
    """What the sweep would decide now, per category, found by running it as a dry run:
    the very selection and hold checks of a real run, with nothing changed."""
    if not sweep.engine.dry_run:
        raise ValueError("past_retention needs a sweep whose engine is a dry run")
    return (await sweep.run()).past_retention()
