"""Writing what a request did to the audit log (``audit.log``), with the caller as the actor."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import NoReturn

from aiohttp import web

from api.appkeys import CURRENT_USER, POOL
from api.middleware import route_template
from audit.log import Actor, AuditEvent, DetailValue, record
from common.errors import Problem
from storage.db import Connection

log = logging.getLogger(__name__)


def actor_of(request: web.Request) -> Actor:
    """The logged-in user of this request as an audit actor (anonymous: no id, no name)."""
    user = request.get(CURRENT_USER)
    return Actor(None, None) if user is None else Actor(user.id, user.username)


async def record_access(
    request: web.Request,
    action: str,
    *,
    outcome: str = "ok",
    object_type: str | None = None,
    object_id: object = None,
    purpose: str | None = None,
    details: Mapping[str, DetailValue] | None = None,
    conn: Connection | None = None,
) -> None:
    """Write an audit entry for what this request did (inside ``conn``'s transaction if given)."""
    event = AuditEvent(
        action,
        outcome,
        actor_of(request),
        object_type,
        None if object_id is None else str(object_id),
        purpose,
        details or {},
    )
    await record(conn if conn is not None else request.app[POOL], event)


async def refuse(
    request: web.Request,
    problem: Problem,
    *,
    object_type: str | None = None,
    object_id: object = None,
    purpose: str | None = None,
) -> NoReturn:
    """Audit a refused access, then answer with ``problem``."""
    await record_access(
        request,
        "access.refused",
        outcome="refused",
        object_type=object_type,
        object_id=object_id,
        purpose=purpose,
        details={"route": route_template(request), "method": request.method},
    )
    log.info("refused %s", route_template(request))
    raise problem
