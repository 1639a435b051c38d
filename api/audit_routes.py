"""``GET /v1/audit``: the audit log for the data protection officer, newest first, filtered."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from api.appkeys import POOL
from api.auth import audit
from api.pagination import decode_cursor, encode_cursor, page_limit
from api.permissions import Permission, requires
from common.inputs import parse_int, parse_time
from storage.db import jsonable

FILTERS: Final = {
    "actor": "actor = ${}",
    "action": "action = ${}",
    "object_type": "object_type = ${}",
    "object_id": "object_id = ${}",
    "outcome": "outcome = ${}",
}
TIME_FILTERS: Final = {"from": "at >= ${}", "to": "at < ${}"}


@requires(Permission.READ_AUDIT)
async def list_audit(request: web.Request) -> web.Response:
    """Entries matching ``actor``, ``action``, ``object_type``, ``object_id``, ``outcome``,
    ``from`` and ``to``; cursor-paginated by sequence number."""
    query = request.query
    limit = page_limit(query)
    clauses: list[str] = []
    args: list[object] = []
    for name, template in FILTERS.items():
        if name in query:
            args.append(query[name])
            clauses.append(template.format(len(args)))
    for name, template in TIME_FILTERS.items():
        if name in query:
            args.append(parse_time(query[name], name))
            clauses.append(template.format(len(args)))
    cursor = decode_cursor(query.get("cursor"), 1)
    if cursor is not None:
        args.append(parse_int(cursor[0], "cursor", 1, 2**63 - 1))
        clauses.append(f"seq < ${len(args)}")
    args.append(limit)
    sql = (
        "SELECT seq, at, actor_id, actor, action, object_type, object_id, purpose, outcome,"
        " request_id, details, hash FROM audit_log"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + f" ORDER BY seq DESC LIMIT ${len(args)}"
    )
    rows = await request.app[POOL].fetch(sql, *args)
    await audit(request, "audit.read", details={"filters": ",".join(sorted(query.keys()))})
    items = [jsonable(row, drop=["hash"]) | {"hash": bytes(row["hash"]).hex()} for row in rows]
    next_cursor = encode_cursor(rows[-1]["seq"]) if len(rows) == limit else None
    return web.json_response({"items": items, "next": next_cursor})


def add_routes(app: web.Application) -> None:
    """Register the audit-log route."""
    app.router.add_get("/v1/audit", list_audit)
