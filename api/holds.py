"""Legal holds over HTTP (data protection officer): ``POST /v1/legal-holds``,
``GET /v1/legal-holds``, ``DELETE /v1/legal-holds/{id}``. Placing and releasing are audited."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import Field, model_validator

from accounts.roles import Permission
from api.appkeys import CURRENT_USER, POOL, field_cipher
from api.auditing import record_access
from api.bodies import json_body, takes
from api.customers import with_customer_names
from api.pagination import next_time_cursor, page_limit, time_cursor_or_start
from api.permissions import requires
from common.errors import NotFound, ValidationProblem, field_error
from common.inputs import parse_id
from common.models import Body, Id, Text, refuse
from retention.holds import (
    MAX_REASON,
    MAX_RECORDINGS,
    HoldInput,
    UnknownItem,
    list_holds,
    place_hold,
    release_hold,
)

Reason = Annotated[str, Text(MAX_REASON), Field(description=f"why, in 1-{MAX_REASON} characters")]


class NewHold(Body):
    """Listed recordings, or all of a customer's, and why they are held."""

    reason: Reason
    recording_ids: (
        Annotated[
            list[Id],
            Field(
                min_length=1,
                max_length=MAX_RECORDINGS,
                description=f"a list of 1-{MAX_RECORDINGS} ids",
            ),
        ]
        | None
    ) = None
    customer_id: Annotated[Id | None, Field(description="a customer id (UUID)")] = None

    @model_validator(mode="after")
    def one_kind(self) -> NewHold:
        """Recordings or a customer: never both, never neither."""
        if (self.recording_ids is None) == (self.customer_id is None):
            raise refuse("send recording_ids or customer_id (one)", "recording_ids")
        return self

    def hold(self) -> HoldInput:
        """The hold to place, each recording once."""
        ids = tuple(dict.fromkeys(self.recording_ids or ()))
        return HoldInput(self.reason, ids, self.customer_id)


class HoldRelease(Body):
    """Why a hold ends (optional)."""

    reason: Annotated[str, Text(MAX_REASON), Field(description=f"1-{MAX_REASON} characters")] = (
        "released"
    )


@requires(Permission.MANAGE_LEGAL_HOLDS)
@takes(NewHold)
async def place_route(request: web.Request) -> web.Response:
    """``POST /v1/legal-holds``: hold recordings, or a customer, from erasure and retention."""
    hold = (await json_body(request, NewHold)).hold()
    async with request.app[POOL].acquire() as conn:
        try:
            hold_id, placed_at = await place_hold(
                conn, field_cipher(request), hold, request[CURRENT_USER].id
            )
        except UnknownItem as exc:
            raise ValidationProblem([field_error(exc.field, str(exc))]) from None
    await record_access(
        request,
        "legal_hold.place",
        object_type="legal_hold",
        object_id=hold_id,
        details={"recordings": len(hold.recording_ids), "customer": hold.customer_id is not None},
    )
    return web.json_response(
        {"id": str(hold_id), "placed_at": placed_at.isoformat()},
        status=201,
        headers={"Location": f"/v1/legal-holds/{hold_id}"},
    )


@requires(Permission.MANAGE_LEGAL_HOLDS)
async def list_route(request: web.Request) -> web.Response:
    """``GET /v1/legal-holds?include_released=&cursor=&limit=``: legal holds, newest first."""
    raw = request.query.get("include_released", "false")
    if raw not in ("true", "false"):
        raise ValidationProblem([field_error("include_released", "true or false")])
    include_released = raw == "true"
    limit = page_limit(request.query)
    async with request.app[POOL].acquire() as conn:
        items = await list_holds(
            conn,
            field_cipher(request),
            include_released=include_released,
            before=time_cursor_or_start(request.query.get("cursor")),
            limit=limit,
        )
        await with_customer_names(conn, items)
    await record_access(request, "legal_hold.list")
    cursor = next_time_cursor(items, limit, "placed_at")
    return web.json_response({"items": items, "next": cursor})


@requires(Permission.MANAGE_LEGAL_HOLDS)
@takes(HoldRelease)
async def release_route(request: web.Request) -> web.Response:
    """``DELETE /v1/legal-holds/{id}`` with an optional JSON {reason}: release the hold (it
    stays in the list as released)."""
    hold_id = parse_id(request.match_info["id"])
    reason = "released"
    if request.can_read_body:
        reason = (await json_body(request, HoldRelease)).reason
    async with request.app[POOL].acquire() as conn:
        released = await release_hold(
            conn, field_cipher(request), hold_id, request[CURRENT_USER].id, reason
        )
    if not released:
        raise NotFound("no active legal hold with this id")
    await record_access(request, "legal_hold.release", object_type="legal_hold", object_id=hold_id)
    return web.json_response({"id": str(hold_id), "released": True})


def add_routes(app: web.Application) -> None:
    """Register the legal-hold routes."""
    app.router.add_post("/v1/legal-holds", place_route)
    app.router.add_get("/v1/legal-holds", list_route)
    app.router.add_delete("/v1/legal-holds/{id}", release_route)
