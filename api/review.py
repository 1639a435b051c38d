"""Staff routes that review and correct what ingest could not decide on its own.

* ``POST /v1/recordings/{id}/customer``: link a call to a customer by hand (customer service).
* ``GET /v1/recordings/unmatched-agents``: ``answered_by`` values that match no account, for
  the administrator to create or correct accounts.
* ``GET /v1/recordings/notice-missing``: calls recorded although the caller was not told,
  for the data protection officer (ids and dates only).
"""

from __future__ import annotations

from aiohttp import web

from accounts.roles import Permission
from api.appkeys import POOL
from api.auditing import record_access
from api.bodies import json_body, takes
from api.pagination import encode_time_cursor, page_limit, time_cursor_or_start
from api.permissions import requires
from common.errors import NotFound, ValidationProblem, field_error
from common.inputs import parse_id
from common.models import Body, Id
from recorder import catalog


class CustomerLink(Body):
    """The customer a call belongs to."""

    customer_id: Id


@requires(Permission.LINK_RECORDINGS)
@takes(CustomerLink)
async def link_customer(request: web.Request) -> web.Response:
    """Link the call to the customer named in the body."""
    recording_id = parse_id(request.match_info["id"])
    customer_id = (await json_body(request, CustomerLink)).customer_id
    async with request.app[POOL].acquire() as conn, conn.transaction():
        outcome = await catalog.link_customer(conn, recording_id, customer_id)
        if outcome == "no_recording":
            raise NotFound("no such recording")
        if outcome == "no_customer":
            raise ValidationProblem([field_error("customer_id", "no such customer")])
        await record_access(
            request,
            "recording.link_customer",
            object_type="recording",
            object_id=recording_id,
            details={"customer_id": str(customer_id)},
            conn=conn,
        )
    return web.json_response(
        {"id": str(recording_id), "customer_id": str(customer_id), "customer_link": "manual"}
    )


@requires(Permission.MANAGE_USERS)
async def unmatched_agents(request: web.Request) -> web.Response:
    """Agent names from the telephony system that match no account."""
    agents = await catalog.unmatched_agents(request.app[POOL])
    items = [
        {"answered_by": a.answered_by, "calls": a.calls, "last_call": a.last_call.isoformat()}
        for a in agents
    ]
    return web.json_response({"items": items})


@requires(Permission.READ_AUDIT)
async def notice_missing(request: web.Request) -> web.Response:
    """Calls recorded without the recording notice, newest first, cursor-paginated."""
    limit = page_limit(request.query)
    position = time_cursor_or_start(request.query.get("cursor"))
    calls = await catalog.notice_missing(request.app[POOL], position, limit)
    items = [{"id": str(c.id), "started_at": c.started_at.isoformat()} for c in calls]
    next_cursor = (
        encode_time_cursor(calls[-1].created_at, calls[-1].id) if len(calls) == limit else None
    )
    return web.json_response({"items": items, "next": next_cursor})


def add_routes(app: web.Application) -> None:
    """Register the review routes."""
    app.router.add_post("/v1/recordings/{id}/customer", link_customer)
    app.router.add_get("/v1/recordings/unmatched-agents", unmatched_agents)
    app.router.add_get("/v1/recordings/notice-missing", notice_missing)
