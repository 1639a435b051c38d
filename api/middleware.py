"""Middleware: request ids, metrics, and the single error-to-problem+json conversion.

Unexpected exceptions become a 500 that shows only the request id; the traceback goes to
the log under the same id, never to the client.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from api.problems import Problem, problem_response
from callrec.appkeys import METRICS
from callrec.logs import request_id_var
from storage.db import database_unavailable
from storage.objects import ObjectStoreUnavailable

log = logging.getLogger(__name__)

REQUEST_ID = web.RequestKey("request_id", str)
RETRY_AFTER_SECONDS: Final = "30"
_INCOMING_ID: Final = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def route_template(request: web.Request) -> str:
    """The matched route's template (``/v1/recordings/{id}``), never the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give each request an id (a sane incoming ``X-Request-Id`` is kept) and time it."""
    incoming = request.headers.get("X-Request-Id", "")
    request_id = incoming if _INCOMING_ID.match(incoming) else secrets.token_hex(8)
    request[REQUEST_ID] = request_id
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        elapsed = time.perf_counter() - started
        route = route_template(request)
        metrics = request.app[METRICS]
        metrics.http_requests.labels(request.method, route, str(status)).inc()
        metrics.http_duration.labels(route).observe(elapsed)
        log.info(
            "%s %s -> %s",
            request.method,
            route,
            status,
            extra={
                "method": request.method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
        request_id_var.reset(token)


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into ``application/problem+json``."""
    request_id = request.get(REQUEST_ID)
    try:
        if any("\x00" in f"{k}{v}" for k, v in request.query.items()):
            raise Problem("the query string contains a NUL character; remove it")
        return await handler(request)
    except Problem as problem:
        return problem_response(
            problem.status,
            problem.slug,
            problem.title,
            problem.detail,
            request_id=request_id,
            errors=problem.errors,
            headers=problem.headers,
        )
    except ObjectStoreUnavailable as exc:
        log.warning("object store unavailable: %s", exc)
        return problem_response(
            503,
            "storage-unavailable",
            "Storage unavailable",
            "the object store cannot be reached; nothing was kept, retry shortly",
            request_id=request_id,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after"}}
        return problem_response(
            exc.status,
            _slug(exc.reason),
            exc.reason,
            _http_detail(exc),
            request_id=request_id,
            headers=headers,
        )
    except Exception as exc:
        if database_unavailable(exc):  # a restarted or unreachable server: retry, not a bug
            log.warning("database unavailable: %s", type(exc).__name__)
            return problem_response(
                503,
                "database-unavailable",
                "Database unavailable",
                "the database cannot be reached; retry shortly",
                request_id=request_id,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        log.exception("unhandled error")
        return problem_response(
            500,
            "internal",
            "Internal server error",
            f"something went wrong on our side; quote request id {request_id} to support",
            request_id=request_id,
        )


def _slug(reason: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-") or "error"


def _http_detail(exc: web.HTTPException) -> str:
    if exc.status == 404:
        return "no such resource; check the path against /v1/openapi.json"
    if exc.status == 405:
        return f"method not allowed here; allowed: {exc.headers.get('Allow', 'none')}"
    if exc.status == 413:
        return "request body too large"
    return exc.text or exc.reason
