"""Middleware: request ids, metrics, and the single error-to-problem+json conversion.

Unexpected exceptions become a 500 that shows only the request id; the traceback goes to
the log under the same id, never to the client. Constraint violations and bad values the
database refuses become 409 or 422 without the driver's text (it quotes row values).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Iterable
from typing import Final

import asyncpg
from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from api.appkeys import METRICS
from api.problems import problem_response
from common.errors import Conflict, Problem, ValidationProblem, field_error
from common.inputs import NOT_TEXT_MESSAGE, is_text
from common.logs import log_failure, request_id_var
from storage.db import database_unavailable
from storage.objects import ObjectStoreUnavailable

log = logging.getLogger(__name__)

REQUEST_ID = web.RequestKey("request_id", str)
RETRY_AFTER_SECONDS: Final = "30"
CLIENT_CLOSED: Final = 499  # as nginx logs it: the client left before the answer was complete
_INCOMING_ID: Final = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_KEY_COLUMNS: Final = re.compile(r"^Key \(([a-z_, ]+)\)=")


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
    except (ConnectionResetError, asyncio.CancelledError):
        if client_left(request):
            status = CLIENT_CLOSED
        raise
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
        _check_url_text(request)
        return await handler(request)
    except Problem as problem:
        return _answer(problem, request_id)
    except ObjectStoreUnavailable as exc:
        log.warning("object store unavailable: %s", exc)
        return _answer(
            Problem(
                "the object store cannot be reached; nothing was kept, retry shortly",
                status=503,
                slug="storage-unavailable",
                title="Storage unavailable",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            ),
            request_id,
        )
    except asyncpg.PostgresError as exc:
        if database_unavailable(exc):  # shutting down, starting up, out of connections
            return _database_unavailable(request_id, exc)
        refused = database_refusal(exc)
        log_failure(log, "database refused", exc, level=logging.INFO if refused else logging.ERROR)
        return _answer(refused or _internal(request_id), request_id)
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
            return _database_unavailable(request_id, exc)
        if isinstance(exc, ConnectionResetError) and client_left(request):
            raise  # nobody to answer; aiohttp drops the connection
        log.exception("unhandled error")
        return _answer(_internal(request_id), request_id)


def _answer(problem: Problem, request_id: str | None) -> web.Response:
    """The problem+json answer for ``problem``."""
    return problem_response(
        problem.status,
        problem.slug,
        problem.title,
        problem.detail,
        request_id=request_id,
        errors=problem.errors,
        headers=problem.headers,
    )


def _internal(request_id: str | None) -> Problem:
    """A bug of ours: the client gets the request id to quote, never the exception."""
    return Problem(
        f"something went wrong on our side; quote request id {request_id} to support",
        status=500,
        slug="internal",
        title="Internal server error",
    )


def client_left(request: web.Request) -> bool:
    """Whether the client's connection is gone (a closed tab, a browser abandoning the range
    it asked for when the listener seeks): a failed write then is no server error."""
    return request.transport is None or request.transport.is_closing()


def _database_unavailable(request_id: str | None, exc: BaseException) -> web.Response:
    """503 with Retry-After: the server is restarting, unreachable or read-only, which is no
    bug."""
    log.warning("database unavailable: %s", type(exc).__name__)
    return _answer(
        Problem(
            "the database cannot be reached or takes no writes now; retry shortly",
            status=503,
            slug="database-unavailable",
            title="Database unavailable",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        ),
        request_id,
    )


def _check_url_text(request: web.Request) -> None:
    """Refuse NUL and lone surrogates in the path and query before any handler sees them."""
    parts: Iterable[tuple[str, str]] = [*request.match_info.items(), *request.query.items()]
    bad = sorted({name if is_text(name) else "query" for name, v in parts if not is_text(name + v)})
    if bad:
        raise Problem(
            "the path or query string contains a NUL character or a lone surrogate; remove it",
            errors=[field_error(name, NOT_TEXT_MESSAGE) for name in bad],
        )


def database_refusal(exc: asyncpg.PostgresError) -> Problem | None:
    """The problem for a value the database refused, naming the column but never quoting the
    driver's text or detail (they hold row values: personal data); None for other errors."""
    columns = _columns(exc)
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        if "still referenced" in (exc.detail or ""):
            return Conflict(f"{columns} is still in use by other records")
        return ValidationProblem([field_error(columns, "no such item; check the id")])
    if isinstance(exc, asyncpg.UniqueViolationError):
        return Conflict(f"an item with this {columns} already exists")
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):  # check, not null, …
        return ValidationProblem([field_error(columns, "not an allowed value here")])
    if isinstance(exc, asyncpg.DataError):  # out of range, bad encoding, bad text form
        return ValidationProblem([field_error(columns, "out of range or malformed")])
    return None


def _columns(exc: asyncpg.PostgresError) -> str:
    """The column(s) an error is about, from its fields: never values."""
    column = getattr(exc, "column_name", None)
    if column:
        return str(column)
    match = _KEY_COLUMNS.match(getattr(exc, "detail", None) or "")
    if match:
        return match.group(1)
    return str(getattr(exc, "constraint_name", None) or "body")


def install_protocol_problems() -> None:
    """Make the answers aiohttp's protocol gives itself (malformed HTTP, headers too large,
    a timeout) problem+json like every other error.

    Those are built by ``RequestHandler.handle_error`` below the application, where no
    middleware runs and aiohttp offers no hook, so that one method is replaced (once). It
    logs the failure by type only: aiohttp's own log line quotes the offending bytes.
    """
    if getattr(RequestHandler.handle_error, "problem_json", False):
        return

    def handle_error(
        self: RequestHandler,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp does: the connection is broken
            raise ConnectionError("part of the response is sent; no error answer is possible")
        if exc is not None:
            level = logging.ERROR if status >= 500 else logging.INFO
            log_failure(log, f"HTTP {status} below the application", exc, level=level)
        response = problem_response(
            status,
            _slug(_REASONS.get(status, "error")),
            _REASONS.get(status, "Error"),
            _protocol_detail(status, exc),
            request_id=secrets.token_hex(8),
        )
        response.force_close()
        return response

    handle_error.problem_json = True  # type: ignore[attr-defined]
    RequestHandler.handle_error = handle_error  # type: ignore[method-assign]


_REASONS: Final = {400: "Bad request", 500: "Internal server error", 504: "Gateway timeout"}


def _protocol_detail(status: int, exc: BaseException | None) -> str:
    """What to fix, by the kind of failure only (aiohttp's message may quote the request)."""
    if isinstance(exc, LineTooLong):
        return "the request line or a header is too long; send shorter headers"
    if status == 400:
        kind = type(exc).__name__ if exc is not None else "BadHttpMessage"
        return f"the request is not valid HTTP/1.1 ({kind}); check its framing and headers"
    if status == 504:
        return "the request took too long to handle; retry"
    return "something went wrong on our side; retry, and tell support if it persists"


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
