"""Staff routes that review and correct what ingest could not decide on its own.

* ``POST /v1/recordings/{id}/customer``: link a call to a customer by hand (customer service).
* ``GET /v1/recordings/unmatched-agents``: ``answered_by`` values that match no account, for
  the administrator to create or correct accounts.
* ``GET /v1/recordings/notice-missing``: calls recorded although the caller was not told,
  for the data protection officer (ids and dates only).
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from api.appkeys import POOL
from api.auth import audit, json_object
from api.pagination import encode_time_cursor, page_limit, time_cursor_or_start
from api.permissions import Permission, requires
from common.errors import NotFound, ValidationProblem, field_error
from common.inputs import parse_id

LINK_CUSTOMER: Final = """
UPDATE recordings SET customer_id = $2, customer_link = 'manual', updated_at = now()
WHERE id = $1 AND EXISTS (SELECT 1 FROM customers WHERE id = $2)
RETURNING id
"""
RECORDING_EXISTS: Final = "SELECT EXISTS (SELECT 1 FROM recordings WHERE id = $1)"
UNMATCHED_AGENTS: Final = """
SELECT answered_by, count(*) AS calls, max(started_at) AS last_call
FROM recordings WHERE answered_by_user_id IS NULL
GROUP BY answered_by ORDER BY answered_by LIMIT 500
"""
NOTICE_MISSING: Final = """
SELECT id, started_at, created_at FROM recordings
WHERE NOT notice_played AND (created_at, id) < ($1, $2)
ORDER BY created_at DESC, id DESC LIMIT $3
"""


@requires(Permission.LINK_RECORDINGS)
async def link_customer(request: web.Request) -> web.Response:
    """Link the call to the customer named in the body."""
    recording_id = parse_id(request.match_info["id"])
    customer_id = parse_id((await json_object(request)).get("customer_id"), "customer_id")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if await conn.fetchval(LINK_CUSTOMER, recording_id, customer_id) is None:
            if not await conn.fetchval(RECORDING_EXISTS, recording_id):
                raise NotFound("no such recording")
            raise ValidationProblem([field_error("customer_id", "no such customer")])
        await audit(
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
    rows = await request.app[POOL].fetch(UNMATCHED_AGENTS)
    items = [
        {
            "answered_by": r["answered_by"],
            "calls": r["calls"],
            "last_call": r["last_call"].isoformat(),
        }
        for r in rows
    ]
    return web.json_response({"items": items})


@requires(Permission.READ_AUDIT)
async def notice_missing(request: web.Request) -> web.Response:
    """Calls recorded without the recording notice, newest first, cursor-paginated."""
    limit = page_limit(request.query)
    position = time_cursor_or_start(request.query.get("cursor"))
    rows = await request.app[POOL].fetch(NOTICE_MISSING, position[0], position[1], limit)
    items = [{"id": str(r["id"]), "started_at": r["started_at"].isoformat()} for r in rows]
    next_cursor = (
        encode_time_cursor(rows[-1]["created_at"], rows[-1]["id"]) if len(rows) == limit else None
    )
    return web.json_response({"items": items, "next": next_cursor})


def add_routes(app: web.Application) -> None:
    """Register the review routes."""
    app.router.add_post("/v1/recordings/{id}/customer", link_customer)
    app.router.add_get("/v1/recordings/unmatched-agents", unmatched_agents)
    app.router.add_get("/v1/recordings/notice-missing", notice_missing)
