"""Data-subject requests over HTTP (``/v1/subject-requests``) and the one-time export
download (``GET /v1/exports/{token}``).

Customer service registers requests as they arrive; the data protection officer verifies
identity, fulfils or denies, and reads the queue by due date. The export's download link is
minted when the officer reads a completed request: only the SHA-256 of the token is stored,
each reading replaces the previous link, and the link works once, until it expires.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any, Final

import asyncpg
from aiohttp import web

from api.audit import Actor, AuditEvent, record
from api.auth import CURRENT_USER, audit, json_object, text_fields
from api.inputs import parse_id, parse_time, valid
from api.pagination import decode_time_cursor, next_time_cursor, page_limit
from api.permissions import Permission, public, requires
from api.problems import NotFound, Problem, ValidationProblem, field_error
from callrec.appkeys import POOL, SETTINGS, VAULT
from rights.requests import (
    OPEN,
    TransitionRefused,
    create_request,
    deny_request,
    extend_request,
    get_request,
    parse_request,
    queue,
    start_fulfilment,
    verify_identity,
)
from storage.vault import load_sealed

MINT_LINK: Final = """
UPDATE exports SET token_sha256 = $2
WHERE request_id = $1 AND downloaded_at IS NULL AND expires_at > now()
  AND sealed_object_id IS NOT NULL
RETURNING expires_at
"""
SPEND_LINK: Final = """
UPDATE exports SET downloaded_at = now()
WHERE token_sha256 = $1 AND downloaded_at IS NULL AND expires_at > now()
  AND sealed_object_id IS NOT NULL
RETURNING id, request_id, sealed_object_id
"""
STAFF_EXISTS: Final = "SELECT 1 FROM users WHERE username = $1"
DOWNLOAD_LINK: Final = Actor(None, "download-link")
FIRST_DUE: Final = (datetime.fromisoformat("0001-01-01T00:00:00+00:00"), uuid.UUID(int=0))


def _transition_problem(exc: TransitionRefused) -> Problem:
    if exc.status is None:
        return NotFound("no such subject request")
    return Problem(str(exc), status=409, slug="conflict", title="Conflict")


@requires(Permission.CREATE_SUBJECT_REQUESTS)
async def create_route(request: web.Request) -> web.Response:
    """``POST /v1/subject-requests`` {kind, subject: {customer_id|staff_username|
    phone_number}, channel, received_at?}."""
    data = valid(parse_request(await json_object(request)))
    async with request.app[POOL].acquire() as conn:
        if data.staff_username is not None and not await conn.fetchval(
            STAFF_EXISTS, data.staff_username
        ):
            raise ValidationProblem([field_error("subject.staff_username", "no such account")])
        try:
            request_id = await create_request(
                conn,
                data,
                request[CURRENT_USER].id,
                request.app[SETTINGS].subject_request_due_days,
            )
        except asyncpg.ForeignKeyViolationError:
            raise ValidationProblem(
                [field_error("subject.customer_id", "no such customer")]
            ) from None
        document = await get_request(conn, request_id)
    await audit(
        request,
        "subject_request.create",
        object_type="subject_request",
        object_id=request_id,
        details={"kind": data.kind, "subject_type": data.subject_type},
    )
    return web.json_response(
        document, status=201, headers={"Location": f"/v1/subject-requests/{request_id}"}
    )


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
async def queue_route(request: web.Request) -> web.Response:
    """``GET /v1/subject-requests?status=&cursor=&limit=``: by the deadline in force
    (``due_by``: the extended one, else the first), soonest first."""
    status = request.query.get("status")
    if status is not None and status not in (*OPEN, "completed", "denied"):
        raise ValidationProblem([field_error("status", "a request status")])
    limit = page_limit(request.query)
    after = decode_time_cursor(request.query.get("cursor")) or FIRST_DUE
    async with request.app[POOL].acquire() as conn:
        items = await queue(conn, status, after, limit)
    await audit(request, "subject_request.list")
    return web.json_response({"items": items, "next": next_time_cursor(items, limit, "due_by")})


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
async def get_route(request: web.Request) -> web.Response:
    """``GET /v1/subject-requests/{id}``: state, due dates, progress, erasure report and, for
    a finished access request, a fresh one-time ``download_url``."""
    request_id = parse_id(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        document = await get_request(conn, request_id)
        if document is None:
            raise NotFound("no such subject request")
        document["download_url"] = None
        if document["kind"] == "access" and document["status"] == "completed":
            token = secrets.token_urlsafe(32)
            expires = await conn.fetchval(MINT_LINK, request_id, _digest(token))
            if expires is not None:
                document["download_url"] = f"/v1/exports/{token}"
                document["download_expires_at"] = expires.isoformat()
    await audit(
        request, "subject_request.view", object_type="subject_request", object_id=request_id
    )
    return web.json_response(document)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def _transition(request: web.Request, action: str, step: Any, *args: Any) -> web.Response:
    request_id = parse_id(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        try:
            await step(conn, request_id, *args)
        except TransitionRefused as exc:
            raise _transition_problem(exc) from None
        document = await get_request(conn, request_id)
    await audit(request, action, object_type="subject_request", object_id=request_id)
    return web.json_response(document)


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
async def verify_route(request: web.Request) -> web.Response:
    """``POST /v1/subject-requests/{id}/verify`` {method}: how identity was checked."""
    [method] = text_fields(await json_object(request), "method")
    if len(method) > 500:
        raise ValidationProblem([field_error("method", "at most 500 characters")])
    return await _transition(
        request, "subject_request.verify", verify_identity, method, request[CURRENT_USER].id
    )


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
async def fulfil_route(request: web.Request) -> web.Response:
    """``POST /v1/subject-requests/{id}/fulfil``: queue the export or erasure (202)."""
    response = await _transition(request, "subject_request.fulfil", start_fulfilment)
    response.set_status(202)
    return response


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
async def deny_route(request: web.Request) -> web.Response:
    """``POST /v1/subject-requests/{id}/deny`` {reason}."""
    [reason] = text_fields(await json_object(request), "reason")
    return await _transition(request, "subject_request.deny", deny_request, reason[:1000])


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
async def extend_route(request: web.Request) -> web.Response:
    """``POST /v1/subject-requests/{id}/extend`` {until, reason}: at most two months past the
    legal deadline, and the subject must be told why (Art. 12(3))."""
    body = await json_object(request)
    [reason] = text_fields(body, "reason")
    until = parse_time(body.get("until"), "until")
    return await _transition(request, "subject_request.extend", extend_request, until, reason)


@public("the token in the path is the credential: one use, expires")
async def download_route(request: web.Request) -> web.StreamResponse:
    """``GET /v1/exports/{token}``: the ZIP, once; the token is the credential."""
    token = request.match_info["token"]
    pool = request.app[POOL]
    row = await pool.fetchrow(SPEND_LINK, _digest(token))
    if row is None:
        raise NotFound("this download link is unknown, already used or expired")
    sealed = await load_sealed(pool, row["sealed_object_id"])
    if sealed is None:
        raise NotFound("this export has been deleted")
    await record(
        pool,
        AuditEvent(
            "export.download", "ok", DOWNLOAD_LINK, "subject_request", str(row["request_id"])
        ),
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": 'attachment; filename="callrec-export.zip"',
            "Content-Length": str(sealed.plaintext_size),
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    async for chunk in request.app[VAULT].open_range(sealed):
        await response.write(chunk)
    await response.write_eof()
    return response


def add_routes(app: web.Application) -> None:
    """Register the subject-request and export routes."""
    app.router.add_post("/v1/subject-requests", create_route)
    app.router.add_get("/v1/subject-requests", queue_route)
    app.router.add_get("/v1/subject-requests/{id}", get_route)
    app.router.add_post("/v1/subject-requests/{id}/verify", verify_route)
    app.router.add_post("/v1/subject-requests/{id}/fulfil", fulfil_route)
    app.router.add_post("/v1/subject-requests/{id}/deny", deny_route)
    app.router.add_post("/v1/subject-requests/{id}/extend", extend_route)
    app.router.add_get("/v1/exports/{token}", download_route)
