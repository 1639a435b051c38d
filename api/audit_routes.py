"""``GET /v1/audit``: the audit log for the data protection officer, newest first, filtered."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from accounts.roles import Permission
from api.appkeys import POOL
from api.auditing import record_access
from api.pagination import decode_cursor, encode_cursor, page_limit
from api.permissions import requires
from audit.log import FILTER_COLUMNS, AuditQuery, list_entries
from common.inputs import parse_int, parse_time
from storage.db import jsonable


@requires(Permission.READ_AUDIT)
async def list_audit(request: web.Request) -> web.Response:
    """Entries matching ``actor``, ``action``, ``object_type``, ``object_id``, ``outcome``,
    ``from`` and ``to``; cursor-paginated by sequence number."""
    query = request.query
    limit = page_limit(query)
    since = parse_time(query["from"], "from") if "from" in query else None
    until = parse_time(query["to"], "to") if "to" in query else None
    cursor = decode_cursor(query.get("cursor"), 1)
    wanted = AuditQuery(
        equals={name: query[name] for name in FILTER_COLUMNS if name in query},
        since=since,
        until=until,
        before_seq=None if cursor is None else parse_int(cursor[0], "cursor", 1, 2**63 - 1),
    )
    entries = await list_entries(request.app[POOL], wanted, limit)
    await record_access(request, "audit.read", details={"filters": ",".join(sorted(query.keys()))})
    items = [jsonable(asdict(e), drop=["hash"]) | {"hash": e.hash.hex()} for e in entries]
    next_cursor = encode_cursor(entries[-1].seq) if len(entries) == limit else None
    return web.json_response({"items": items, "next": next_cursor})


def add_routes(app: web.Application) -> None:
    """Register the audit-log route."""
    app.router.add_get("/v1/audit", list_audit)
