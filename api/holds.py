"""Legal holds over HTTP (data protection officer): ``POST /v1/legal-holds``,
``GET /v1/legal-holds``, ``DELETE /v1/legal-holds/{id}``. Placing and releasing are audited."""

from __future__ import annotations

from aiohttp import web

from accounts.roles import Permission
from api.appkeys import CURRENT_USER, POOL
from api.auditing import audit
from api.bodies import json_object
from api.customers import with_customer_names
from api.pagination import next_time_cursor, page_limit, time_cursor_or_start
from api.permissions import requires
from common.errors import NotFound, ValidationProblem, field_error
from common.inputs import parse_id, valid
from retention.holds import (
    MAX_REASON,
    UnknownItem,
    list_holds,
    parse_hold,
    place_hold,
    release_hold,
)


@requires(Permission.MANAGE_LEGAL_HOLDS)
async def place_route(request: web.Request) -> web.Response:
    """``POST /v1/legal-holds`` {recording_ids | customer_id, reason}."""
    hold = valid(parse_hold(await json_object(request)))
    async with request.app[POOL].acquire() as conn:
        try:
            hold_id, placed_at = await place_hold(conn, hold, request[CURRENT_USER].id)
        except UnknownItem as exc:
            raise ValidationProblem([field_error(exc.field, str(exc))]) from None
    await audit(
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
    """``GET /v1/legal-holds?include_released=&cursor=&limit=``, newest first."""
    raw = request.query.get("include_released", "false")
    if raw not in ("true", "false"):
        raise ValidationProblem([field_error("include_released", "true or false")])
    include_released = raw == "true"
    limit = page_limit(request.query)
    async with request.app[POOL].acquire() as conn:
        items = await list_holds(
            conn,
            include_released=include_released,
            before=time_cursor_or_start(request.query.get("cursor")),
            limit=limit,
        )
        await with_customer_names(conn, items)
    await audit(request, "legal_hold.list")
    cursor = next_time_cursor(items, limit, "placed_at")
    return web.json_response({"items": items, "next": cursor})


@requires(Permission.MANAGE_LEGAL_HOLDS)
async def release_route(request: web.Request) -> web.Response:
    """``DELETE /v1/legal-holds/{id}`` with an optional JSON {reason}: release the hold (it
    stays in the list as released)."""
    hold_id = parse_id(request.match_info["id"])
    reason = "released"
    if request.can_read_body:
        raw = (await json_object(request)).get("reason", reason)
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_REASON:
            raise ValidationProblem([field_error("reason", f"1-{MAX_REASON} characters")])
        reason = raw.strip()
    async with request.app[POOL].acquire() as conn:
        released = await release_hold(conn, hold_id, request[CURRENT_USER].id, reason)
    if not released:
        raise NotFound("no active legal hold with this id")
    await audit(request, "legal_hold.release", object_type="legal_hold", object_id=hold_id)
    return web.json_response({"id": str(hold_id), "released": True})


def add_routes(app: web.Application) -> None:
    """Register the legal-hold routes."""
    app.router.add_post("/v1/legal-holds", place_route)
    app.router.add_get("/v1/legal-holds", list_route)
    app.router.add_delete("/v1/legal-holds/{id}", release_route)
