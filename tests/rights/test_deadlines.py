"""The deadline monitor: one warning, one overdue alert, a webhook that may be down."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from common.metrics import Metrics
from common.settings import Settings
from rights.deadlines import DeadlineMonitor
from rights.requests import extend_request
from storage.db import Pool
from storage.fieldcrypt import FieldCipher

CALLER = "+358409876543"


async def add_request(pool: Pool, due_in: timedelta, status: str = "verified") -> uuid.UUID:
    """A subject request for a caller, received 14 days before it falls due."""
    request_id, due = uuid.uuid4(), datetime.now(UTC) + due_in
    await pool.execute(
        "INSERT INTO subject_requests (id, kind, subject_type, phone_number, channel, received_at,"
        " due_at, legal_due_at, status) VALUES ($1, 'access', 'phone', $2, 'phone', $3, $4, $5, $6)",
        request_id,
        CALLER,
        due - timedelta(days=14),
        due,
        due + timedelta(days=16),
        status,
    )
    return request_id


class Receiver:
    """A local webhook endpoint that records what it gets and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 204

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        return web.Response(status=self.status)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    endpoint = Receiver()
    app = web.Application()
    app.router.add_post("/alerts", endpoint.handle)
    async with TestServer(app) as server:
        yield endpoint, str(server.make_url("/alerts"))


def monitor_on(
    pool: Pool, settings: Settings, metrics: Metrics | None = None, **changes: Any
) -> DeadlineMonitor:
    """A deadline monitor on ``settings`` with ``changes`` (its webhook, its zone)."""
    return DeadlineMonitor(pool, dataclasses.replace(settings, **changes), metrics or Metrics())


def gauge(metrics: Metrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name)


async def test_one_warning_before_the_due_date_and_one_alert_after_it(
    pool: Pool,
    settings: Settings,
    receiver: tuple[Receiver, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    endpoint, url = receiver
    metrics = Metrics()
    monitor = monitor_on(pool, settings, metrics, deadline_webhook_url=url)
    soon = await add_request(pool, timedelta(days=2))
    late = await add_request(pool, timedelta(days=-1))
    await add_request(pool, timedelta(days=10))  # not yet
    await add_request(pool, timedelta(days=-5), status="completed")  # answered: no alert

    summary = await monitor.run()

    assert summary == "alerts sent 2 of 2; overdue 1, due soon 1"
    events = {body["request_id"]: body["event"] for body in endpoint.received}
    assert events == {str(soon): "subject_request.due_soon", str(late): "subject_request.overdue"}
    assert all(
        set(body) == {"event", "request_id", "kind", "due_at", "legal_due_at"}
        for body in endpoint.received
    )
    assert gauge(metrics, "callrec_subject_requests_overdue") == 1
    assert gauge(metrics, "callrec_subject_requests_due_soon") == 1
    assert f"subject request {late} (access) is overdue" in caplog.text
    assert "1 subject requests are overdue" in caplog.text
    assert CALLER not in caplog.text

    assert await monitor.run() == "alerts sent 0 of 0; overdue 1, due soon 1"  # once each
    assert len(endpoint.received) == 2

    # Three days later the warned request is overdue too: it gets its alert, once.
    later = datetime.now(UTC) + timedelta(days=3)
    assert await monitor.run(later) == "alerts sent 1 of 1; overdue 2, due soon 0"
    assert endpoint.received[-1] == endpoint.received[-1] | {
        "request_id": str(soon),
        "event": "subject_request.overdue",
    }


async def test_an_alert_the_webhook_refused_is_sent_again(
    pool: Pool, settings: Settings, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.status = 503
    monitor = monitor_on(pool, settings, deadline_webhook_url=url)
    request_id = await add_request(pool, timedelta(days=1))

    assert (await monitor.run()).startswith("alerts sent 0 of 1")
    assert await pool.fetchval("SELECT warned_at FROM subject_requests") is None
    endpoint.status = 200
    assert (await monitor.run()).startswith("alerts sent 1 of 1")
    assert [body["request_id"] for body in endpoint.received] == [str(request_id)] * 2


async def test_an_unreachable_webhook_is_retried_and_extension_rearms_the_warning(
    pool: Pool, settings: Settings
) -> None:
    down = monitor_on(pool, settings, deadline_webhook_url="http://127.0.0.1:9/alerts")
    request_id = await add_request(pool, timedelta(days=1))
    assert (await down.run()).startswith("alerts sent 0 of 1")

    monitor = monitor_on(pool, settings)  # no webhook: the log is enough
    assert (await monitor.run()).startswith("alerts sent 1 of 1")
    async with pool.acquire() as conn:
        await extend_request(
            conn,
            request_id,
            datetime.now(UTC) + timedelta(days=2),
            "complex",
            FieldCipher(bytes(16)),
        )
    assert (await monitor.run()).startswith("alerts sent 1 of 1")


async def test_the_log_tells_deadlines_in_local_time_and_the_webhook_in_utc(
    pool: Pool,
    settings: Settings,
    receiver: tuple[Receiver, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    endpoint, url = receiver
    local = monitor_on(pool, settings, deadline_webhook_url=url, timezone=ZoneInfo("Asia/Kolkata"))
    late = await add_request(pool, timedelta(days=-1))
    await local.run()
    [line] = [r.getMessage() for r in caplog.records if str(late) in r.getMessage()]
    assert line.count("+05:30") == 2
    [body] = endpoint.received
    assert body["due_at"].endswith("+00:00")
