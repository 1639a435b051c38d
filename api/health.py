"""Liveness, readiness and metrics endpoints for orchestrators and monitoring."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Final

import asyncpg
from aiohttp import web

from api.appkeys import METRICS, POOL, SETTINGS, STORE_PROBE
from api.permissions import public
from common.errors import Problem
from common.settings import Settings
from recorder.metadata import host_allowed
from rights.deadlines import refresh_gauges
from storage.objects import ObjectStoreError

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 5.0
TWILIO_MEDIA_HOST: Final = "api.twilio.com"  # where Twilio's RecordingUrl points


@public("liveness probe")
async def healthz(request: web.Request) -> web.Response:
    """The process is up and serving; says nothing about its dependencies."""
    return web.json_response({"status": "ok"})


def ingest_state(settings: Settings) -> dict[str, str]:
    """Which ingest routes take calls, and what switches on those that do not: a service
    that is up but refuses every call should say so where operators look."""
    return {
        "webhook": "on" if settings.webhook_secret else "off: set CALLREC_WEBHOOK_SECRET",
        "twilio": _twilio_state(settings),
    }


def _twilio_state(settings: Settings) -> str:
    """The adapter needs its token and a host to fetch the audio from: with the token alone
    every callback is refused (its ``RecordingUrl`` points at a host not allowed)."""
    if settings.twilio_auth_token is None:
        return "off: set CALLREC_TWILIO_AUTH_TOKEN"
    if not settings.fetch_allowed_hosts:
        return f"off: list {TWILIO_MEDIA_HOST} in CALLREC_FETCH_ALLOWED_HOSTS"
    if not host_allowed(TWILIO_MEDIA_HOST, 443, settings.fetch_allowed_hosts):
        return (
            f"on, but {TWILIO_MEDIA_HOST} is not in CALLREC_FETCH_ALLOWED_HOSTS: only "
            "recordings on the hosts listed there are fetched"
        )
    return "on"


READ_ONLY: Final = "SELECT current_setting('transaction_read_only')::bool"


@public("readiness probe; names dependencies, no data")
async def readyz(request: web.Request) -> web.Response:
    """Ready when the database answers and takes writes (not a standby, nor switched to
    read-only) and the object store takes a write (probed at most every few seconds, so
    orchestrators may poll as often as they like). ``ingest`` says which ingest routes are
    switched off; that does not make the service unready (a Twilio-only site has no
    webhook secret)."""
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            read_only = await request.app[POOL].fetchval(READ_ONLY)
        checks["database"] = "read-only: takes no writes" if read_only else "ok"
    except Exception as exc:  # any failure at all means not ready; the kind is reported
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        await request.app[STORE_PROBE].check()
        checks["object_store"] = "ok"
    except ObjectStoreError as exc:
        checks["object_store"] = f"unavailable: {exc}"
    if any(value != "ok" for value in checks.values()):
        failing = ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok")
        raise Problem(
            failing, status=503, slug="not-ready", title="Not ready", headers={"Retry-After": "5"}
        )
    ingest = ingest_state(request.app[SETTINGS])
    return web.json_response({"status": "ready", "checks": checks, "ingest": ingest})


@public("Prometheus scrape; counts only, no personal data")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition; the deadline gauges are read fresh from the database, so
    every replica reports the queue as it is, not as its last monitor run saw it."""
    with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await refresh_gauges(request.app[POOL], request.app[METRICS], datetime.now(UTC))
    body = request.app[METRICS].render()
    return web.Response(
        body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
    )


def add_routes(app: web.Application) -> None:
    """Register the health endpoints."""
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
