"""The deadline monitor: nobody should learn from a complaint that a request went unanswered.

A subject request due within :data:`WARN_BEFORE` gets one warning; one past its due date
gets one overdue alert. Each goes to the log, to a counter, and, when
``CALLREC_DEADLINE_WEBHOOK_URL`` is set, to that webhook (a chat or paging integration).
Every run also logs how many requests are overdue, so an alert cannot scroll out of sight,
and refreshes the gauges ``/metrics`` shows.

An alert is marked sent only once the webhook has accepted it, so a webhook that is down
gets it again on the next run. Alerts carry the request's id, kind and dates: never who the
subject is.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import aiohttp

from common.metrics import Metrics
from common.settings import Settings
from rights.requests import DUE_BY, IS_OPEN
from storage.db import Pool

log = logging.getLogger(__name__)

WARN_BEFORE: Final = timedelta(days=3)
WEBHOOK_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)

TO_ALERT: Final = f"""
SELECT id, kind, {DUE_BY} AS due_at, legal_due_at, {DUE_BY} < $1 AS overdue
FROM subject_requests
WHERE {IS_OPEN} AND {DUE_BY} < $1 + $2::interval
  AND (warned_at IS NULL OR ({DUE_BY} < $1 AND overdue_alerted_at IS NULL))
ORDER BY {DUE_BY}
"""
MARK_WARNED: Final = "UPDATE subject_requests SET warned_at = $2 WHERE id = $1"
MARK_OVERDUE: Final = """
UPDATE subject_requests SET overdue_alerted_at = $2, warned_at = coalesce(warned_at, $2)
WHERE id = $1
"""
COUNTS: Final = f"""
SELECT count(*) FILTER (WHERE {DUE_BY} < $1) AS overdue,
       count(*) FILTER (WHERE {DUE_BY} >= $1 AND {DUE_BY} < $1 + $2::interval) AS due_soon
FROM subject_requests WHERE {IS_OPEN}
"""


@dataclass(frozen=True)
class Alert:
    """One warning or overdue alert about one request."""

    request_id: uuid.UUID
    kind: str
    due_at: datetime
    legal_due_at: datetime
    overdue: bool

    @property
    def event(self) -> str:
        """The webhook's event name."""
        return "subject_request.overdue" if self.overdue else "subject_request.due_soon"

    def as_json(self) -> dict[str, str]:
        """The webhook body: ids and dates only."""
        return {
            "event": self.event,
            "request_id": str(self.request_id),
            "kind": self.kind,
            "due_at": self.due_at.isoformat(),
            "legal_due_at": self.legal_due_at.isoformat(),
        }


async def refresh_gauges(pool: Pool, metrics: Metrics, now: datetime) -> tuple[int, int]:
    """Set the overdue and due-soon gauges from the database; return (overdue, due soon)."""
    row = await pool.fetchrow(COUNTS, now, WARN_BEFORE)
    assert row is not None
    metrics.requests_overdue.set(row["overdue"])
    metrics.requests_due_soon.set(row["due_soon"])
    return int(row["overdue"]), int(row["due_soon"])


class DeadlineMonitor:
    """One run: send the alerts not yet sent, refresh the gauges, log the overdue count."""

    def __init__(self, pool: Pool, settings: Settings, metrics: Metrics) -> None:
        self.pool = pool
        self.webhook_url = settings.deadline_webhook_url
        self.zone = settings.timezone  # the log is read by people; the webhook body is UTC
        self.metrics = metrics

    def _local(self, at: datetime) -> str:
        return at.astimezone(self.zone).isoformat(timespec="minutes")

    async def run(self, now: datetime | None = None) -> str:
        """Alert what needs alerting; return a one-line summary for the scheduler."""
        now = now or datetime.now(UTC)
        alerts = [
            Alert(row["id"], row["kind"], row["due_at"], row["legal_due_at"], row["overdue"])
            for row in await self.pool.fetch(TO_ALERT, now, WARN_BEFORE)
        ]
        sent = 0
        for alert in alerts:
            if alert.overdue:
                log.error(
                    "subject request %s (%s) is overdue: it was due %s, the legal deadline is %s",
                    alert.request_id,
                    alert.kind,
                    self._local(alert.due_at),
                    self._local(alert.legal_due_at),
                )
            else:
                log.warning(
                    "subject request %s (%s) is due %s",
                    alert.request_id,
                    alert.kind,
                    self._local(alert.due_at),
                )
            if not await self._deliver(alert):
                continue
            await self.pool.execute(
                MARK_OVERDUE if alert.overdue else MARK_WARNED, alert.request_id, now
            )
            self.metrics.deadline_alerts.labels("overdue" if alert.overdue else "warning").inc()
            sent += 1
        overdue, due_soon = await refresh_gauges(self.pool, self.metrics, now)
        if overdue:
            log.error("%d subject requests are overdue", overdue)
        return f"alerts sent {sent} of {len(alerts)}; overdue {overdue}, due soon {due_soon}"

    async def _deliver(self, alert: Alert) -> bool:
        """POST the alert to the webhook, if one is set; True when it is delivered."""
        if self.webhook_url is None:
            return True
        try:
            async with (
                aiohttp.ClientSession(timeout=WEBHOOK_TIMEOUT) as session,
                session.post(self.webhook_url, json=alert.as_json()) as response,
            ):
                if response.status < 300:
                    return True
                log.warning("deadline webhook answered %d; will retry", response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("deadline webhook unreachable (%s); will retry", type(exc).__name__)
        return False
