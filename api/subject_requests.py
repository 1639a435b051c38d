"""Data-subject requests over HTTP (``/v1/subject-requests``) and the one-time export
download (``GET /v1/exports/{token}``).

Customer service registers requests as they arrive; the data protection officer verifies
identity, fulfils or denies, and reads the queue by due date. Reading a completed access
request shows the export's download link, the same at every reading (see
:mod:`rights.links`). The link works until one complete download or its expiry, and
answers ``Range`` so that a cut download resumes instead of costing the subject the export.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Final

import asyncpg
from aiohttp import web
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from accounts.roles import Permission
from accounts.users import account_exists
from api.appkeys import CURRENT_USER, FIELD_CIPHER, POOL, SETTINGS, VAULT, field_cipher
from api.auditing import record_access
from api.bodies import json_body, takes
from api.customers import with_customer_names
from api.delivery import acknowledged
from api.integrity import OnFailure, authenticated_first, send_all
from api.pagination import decode_time_cursor, next_time_cursor, page_limit
from api.permissions import public, requires
from api.ranges import ByteRange, ranged
from audit.log import Actor, AuditEvent, DetailValue, ranges_sent, record
from common.errors import Conflict, NotFound, Problem, ValidationProblem, field_error
from common.inputs import parse_id
from common.models import Body, EventTime, Id, NonEmpty, OneOf, Time, refuse
from register.phones import normalise_phone
from rights.links import LinkedExport, current_link, export_state, find_export, reissue, spend
from rights.requests import (
    KINDS,
    OPEN,
    REQUEST_CHANNELS,
    SUBJECT_KEYS,
    SUBJECT_TYPES,
    RequestInput,
    TransitionRefused,
    create_request,
    customers_of_requests,
    deny_request,
    extend_request,
    get_request,
    queue,
    start_fulfilment,
    verify_identity,
)
from storage.db import Connection, Pool
from storage.vault import SealedObject, load_sealed

log = logging.getLogger(__name__)

DOWNLOAD_LINK: Final = Actor(None, "download-link")
GONE: Final = {
    "downloaded": "this export has already been downloaded in full; the link worked once",
    "expired": "this download link has expired and the export is deleted",
    "replaced": "a new copy of this export was issued; this link no longer works",
}
FIRST_DUE: Final = (datetime.fromisoformat("0001-01-01T00:00:00+00:00"), uuid.UUID(int=0))


def _transition_problem(exc: TransitionRefused) -> Problem:
    if exc.status is None:
        return NotFound("no such subject request")
    return Conflict(str(exc))


ONE_SUBJECT: Final = "an object with exactly one of: " + ", ".join(SUBJECT_KEYS)


def _phone(raw: str | None) -> str | None:
    try:
        return None if raw is None else normalise_phone(raw)
    except ValueError:
        raise refuse("a phone number, like +358401234567") from None


class Subject(Body):
    """Whose data: exactly one of a customer, a member of staff or a phone number."""

    model_config = ConfigDict(
        json_schema_extra={"minProperties": 1, "maxProperties": 1, "additionalProperties": False}
    )

    customer_id: Annotated[Id | None, Field(description="a customer id (UUID)")] = None
    staff_username: Annotated[
        str | None,
        StringConstraints(min_length=1, max_length=100),
        Field(description="the employee's username"),
    ] = None
    phone_number: Annotated[str | None, AfterValidator(_phone)] = None

    @model_validator(mode="before")
    @classmethod
    def exactly_one(cls, raw: object) -> object:
        """One known key, with a value; checked first, so that a subject of two keys is one
        error, not one per key."""
        keys = [k for k in SUBJECT_KEYS if isinstance(raw, dict) and raw.get(k) is not None]
        if not isinstance(raw, dict) or len(keys) != 1 or len(raw) != 1:
            raise refuse(ONE_SUBJECT, "subject")
        return raw


class NewSubjectRequest(Body):
    """A data-subject request as it arrived (GDPR Art. 15-21)."""

    kind: Annotated[str, OneOf(KINDS)]
    subject: Annotated[Subject, Field(description=ONE_SUBJECT)]
    channel: Annotated[
        str, OneOf(REQUEST_CHANNELS, f"how it arrived, one of: {', '.join(REQUEST_CHANNELS)}")
    ]
    received_at: EventTime | None = None

    def request(self) -> RequestInput:
        """The request to register."""
        [key] = self.subject.model_fields_set
        return RequestInput(
            kind=self.kind,
            subject_type=SUBJECT_TYPES[key],
            customer_id=self.subject.customer_id,
            staff_username=self.subject.staff_username,
            phone_number=self.subject.phone_number,
            channel=self.channel,
            received_at=self.received_at,
        )


@requires(Permission.CREATE_SUBJECT_REQUESTS)
@takes(NewSubjectRequest)
async def create_route(request: web.Request) -> web.Response:
    """``POST /v1/subject-requests``: register a data-subject request (access or erasure).

    {kind, subject: {customer_id|staff_username|phone_number}, channel, received_at?}.
    """
    data = (await json_body(request, NewSubjectRequest)).request()
    async with request.app[POOL].acquire() as conn:
        if data.staff_username is not None and not await account_exists(conn, data.staff_username):
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
        document = await get_request(conn, request.app.get(FIELD_CIPHER), request_id)
    await record_access(
        request,
        "subject_request.create",
        object_type="subject_request",
        object_id=request_id,
        details={"kind": data.kind, "subject_type": data.subject_type},
    )
    return web.json_response(
        document, status=201, headers={"Location": f"/v1/subject-requests/{request_id}"}
    )


async def _with_subject_customers(conn: Connection, items: list[dict[str, Any]]) -> None:
    """Queue items with the customer (id and name) a request is about, so the officer sees
    whom each is for without opening it."""
    ids = [uuid.UUID(str(item["id"])) for item in items if item["subject_type"] == "customer"]
    customers = {str(k): str(v) for k, v in (await customers_of_requests(conn, ids)).items()}
    for item in items:
        if str(item["id"]) in customers:
            item["customer_id"] = customers[str(item["id"])]
    await with_customer_names(conn, items)


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
        await _with_subject_customers(conn, items)
    await record_access(request, "subject_request.list")
    return web.json_response({"items": items, "next": next_time_cursor(items, limit, "due_by")})


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
async def get_route(request: web.Request) -> web.Response:
    """``GET /v1/subject-requests/{id}``: state, due dates, progress, erasure report and, for
    a finished access request its ``download_url`` (reading it again changes nothing)."""
    request_id = parse_id(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        document = await get_request(conn, request.app.get(FIELD_CIPHER), request_id)
        if document is None:
            raise NotFound("no such subject request")
        await with_customer_names(conn, [document])
        document["download_url"] = None
        document.update(downloaded_at=None, copy_kept_until=None)
        if document["kind"] == "access" and document["status"] == "completed":
            document.update(await export_state(conn, request_id))
            link = await current_link(conn, request.app[VAULT].keyring, request_id)
            if link is not None:
                document["download_url"] = link.path
                document["download_expires_at"] = link.expires_at.isoformat()
    await record_access(
        request, "subject_request.view", object_type="subject_request", object_id=request_id
    )
    return web.json_response(document)


async def _transition(request: web.Request, action: str, step: Any, *args: Any) -> web.Response:
    request_id = parse_id(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        try:
            await step(conn, request_id, *args)
        except TransitionRefused as exc:
            raise _transition_problem(exc) from None
        document = await get_request(conn, request.app.get(FIELD_CIPHER), request_id)
    await record_access(request, action, object_type="subject_request", object_id=request_id)
    return web.json_response(document)


class Verification(Body):
    """How the subject's identity was checked."""

    method: Annotated[
        str,
        StringConstraints(min_length=1, max_length=500),
        Field(description="required, a non-empty string of at most 500 characters"),
    ]


class Denial(Body):
    """Why the request is refused (kept to 1000 characters)."""

    reason: NonEmpty


class Extension(Body):
    """A later deadline and why (Art. 12(3))."""

    until: Time
    reason: NonEmpty


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
@takes(Verification)
async def verify_route(request: web.Request) -> web.Response:
    """``POST /v1/subject-requests/{id}/verify`` {method}: how identity was checked."""
    method = (await json_body(request, Verification)).method
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
@takes(Denial)
async def deny_route(request: web.Request) -> web.Response:
    """``POST /v1/subject-requests/{id}/deny``: deny the request, with a reason."""
    reason = (await json_body(request, Denial)).reason
    return await _transition(
        request, "subject_request.deny", deny_request, reason[:1000], field_cipher(request)
    )


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
@takes(Extension)
async def extend_route(request: web.Request) -> web.Response:
    """``POST /v1/subject-requests/{id}/extend`` {until, reason}: at most two months past the
    legal deadline, and the subject must be told why (Art. 12(3))."""
    body = await json_body(request, Extension)
    return await _transition(
        request,
        "subject_request.extend",
        extend_request,
        body.until,
        body.reason,
        field_cipher(request),
    )


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
async def reissue_route(request: web.Request) -> web.Response:
    """``POST /v1/subject-requests/{id}/reissue``: a new copy of a completed access export
    while it is kept; answers the new link, and the old one is dead."""
    request_id = parse_id(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        document = await get_request(conn, request.app.get(FIELD_CIPHER), request_id)
        if document is None:
            raise NotFound("no such subject request")
        if document["kind"] != "access" or document["status"] != "completed":
            raise Conflict("only a completed access request has a copy to issue again")
        link = await reissue(conn, request.app[VAULT].keyring, request_id)
    if link is None:
        raise Conflict("the copy has expired and is deleted; register a new access request")
    await record_access(
        request, "subject_request.reissue", object_type="subject_request", object_id=request_id
    )
    expires_at = link.expires_at.isoformat()
    return web.json_response({"download_url": link.path, "download_expires_at": expires_at})


@public("the token in the path is the credential: valid until one complete download; expires")
async def download_route(request: web.Request) -> web.StreamResponse:
    """``GET /v1/exports/{token}``: the ZIP, with ``Range`` so that a cut download resumes; a
    response that delivers the last byte in full spends the link."""
    pool = request.app[POOL]
    export, sealed = await _open_link(pool, request.match_info["token"])
    try:
        asked = ranged(request, sealed.plaintext_size, sealed.plaintext_sha256)
    except Problem:
        await _audit_download(pool, export.request_id, "refused", reason="range")
        raise
    served = asked.served
    failed = partial(_download_failed, pool, export.request_id, served)
    pieces = request.app[VAULT].open_range(sealed, served.start, served.end)
    async with aclosing(pieces):
        first = await authenticated_first(pieces, failed)
        await _audit_download(
            pool, export.request_id, "ok", start=served.start, end=served.end, length=served.length
        )
        response = asked.response(
            content_type="application/zip", disposition='attachment; filename="callrec-export.zip"'
        )
        delivered = False
        try:
            delivered = await _deliver(request, response, first, pieces, failed)
        finally:  # also when a server with handler cancellation cancels us on the client's exit
            if not delivered:
                log.info(
                    "export download not received in full; the link still works",
                    extra={"subject_request_id": str(export.request_id)},
                )
    if (
        served.end == served.length
        and delivered
        and await _has_the_start(pool, export, served.start)
        and await spend(pool, export.id)
    ):
        await _audit_download(pool, export.request_id, "ok", action="export.downloaded")
    return response


async def _has_the_start(pool: Pool, export: LinkedExport, start: int) -> bool:
    """Whether the subject may hold the bytes before ``start``: earlier answers of this link
    began to send all of them (a download resumed where a cut one stopped). A response that
    ends the file spends the link only then: a client that reads the end first (a ZIP
    reader's directory, a download manager's last part) does not have the file yet."""
    reach = 0
    # The ranges this link's answers began to send (their audit entries), by where they start.
    sent = await ranges_sent(
        pool, "subject_request", str(export.request_id), "export.download", export.created_at
    )
    for began, stop in sent:
        if reach >= start or began > reach:  # enough, or a gap no later range fills
            break
        reach = max(reach, stop)
    return reach >= start


async def _download_failed(
    pool: Pool,
    request_id: uuid.UUID,
    served: ByteRange,
    exc: Exception,
    sent: int,
) -> None:
    """Audit a download whose export failed its integrity check or could not be read (the
    link is not spent)."""
    await _audit_download(
        pool,
        request_id,
        "failed",
        start=served.start,
        end=served.end,
        length=served.length,
        sent=sent,
        error=type(exc).__name__,
    )


async def _deliver(
    request: web.Request,
    response: web.StreamResponse,
    first: bytes,
    pieces: AsyncIterator[bytes],
    on_failure: OnFailure,
) -> bool:
    """Send the bytes; True only if the client's end acknowledged every one of them."""
    try:
        if not await send_all(request, response, first, pieces, on_failure):
            return False
    except ConnectionError:  # the client went away mid-way
        return False
    return await acknowledged(request)


async def _open_link(pool: Pool, token: str) -> tuple[LinkedExport, SealedObject]:
    """The export a working link names; else the (audited) problem saying why it does not work.

    An unknown link is 404 whatever its shape; a known one that no longer works is 410, which
    tells a guesser nothing, as guessing a spent link is as hard as guessing a live one.
    """
    export = await find_export(pool, token)
    if export is None:
        await _audit_download(pool, None, "refused", reason="unknown")
        raise NotFound("this download link is unknown; check that it was copied whole")
    sealed = None
    if export.refusal is None and export.sealed_object_id is not None:
        sealed = await load_sealed(pool, export.sealed_object_id)
    if sealed is None:
        reason = export.refusal or "expired"
        await _audit_download(pool, export.request_id, "refused", reason=reason)
        raise Problem(GONE[reason], status=410, slug="link-gone", title="Link no longer works")
    return export, sealed


async def _audit_download(
    pool: Pool,
    request_id: uuid.UUID | None,
    outcome: str,
    *,
    action: str = "export.download",
    **details: DetailValue,
) -> None:
    """Every use of a link is audited under the request it belongs to; never with the token."""
    object_type, object_id = ("subject_request", str(request_id)) if request_id else (None, None)
    await record(
        pool, AuditEvent(action, outcome, DOWNLOAD_LINK, object_type, object_id, None, details)
    )


def add_routes(app: web.Application) -> None:
    """Register the subject-request and export routes."""
    app.router.add_post("/v1/subject-requests", create_route)
    app.router.add_get("/v1/subject-requests", queue_route)
    app.router.add_get("/v1/subject-requests/{id}", get_route)
    app.router.add_post("/v1/subject-requests/{id}/verify", verify_route)
    app.router.add_post("/v1/subject-requests/{id}/fulfil", fulfil_route)
    app.router.add_post("/v1/subject-requests/{id}/deny", deny_route)
    app.router.add_post("/v1/subject-requests/{id}/extend", extend_route)
    app.router.add_post("/v1/subject-requests/{id}/reissue", reissue_route)
    app.router.add_get("/v1/exports/{token}", download_route, allow_head=False)
