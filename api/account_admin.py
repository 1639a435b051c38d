"""The administrator's password reset and ending all sessions of an account.

A reset answers the one-time password once (``Cache-Control: no-store``); it is never
stored in the clear, logged or audited. The account must set its own password at its next
login. Administrators reset their own password with ``POST /v1/auth/password`` instead.
"""

from __future__ import annotations

from aiohttp import web

from accounts.credentials import reset_password
from accounts.roles import Permission
from accounts.sessions import end_sessions
from accounts.users import roles_by_id
from api.appkeys import CURRENT_USER, POOL
from api.auditing import record_access
from api.permissions import requires
from common.errors import Conflict, NotFound
from common.inputs import parse_id


@requires(Permission.MANAGE_USERS)
async def reset_route(request: web.Request) -> web.Response:
    """``POST /v1/users/{id}/password-reset``: a one-time password for the account, all its
    sessions ended, a lockout lifted. Answers ``{"id", "username", "one_time_password",
    "password_change_required": true, "sessions_ended"}``."""
    user_id = parse_id(request.match_info["id"])
    if user_id == request[CURRENT_USER].id:
        raise Conflict("change your own password with POST /v1/auth/password")
    reset = await reset_password(request.app[POOL], user_id)
    if reset is None:
        raise NotFound("no such account")
    await record_access(
        request,
        "user.password_reset",
        object_type="user",
        object_id=user_id,
        details={"sessions_ended": reset.sessions_ended},
    )
    answer = {
        "id": str(user_id),
        "username": reset.username,
        "one_time_password": reset.one_time_password,
        "password_change_required": True,
        "sessions_ended": reset.sessions_ended,
    }
    return web.json_response(answer, headers={"Cache-Control": "no-store"})


@requires(Permission.MANAGE_USERS)
async def end_all_route(request: web.Request) -> web.Response:
    """``DELETE /v1/users/{id}/sessions``: end every open session of the account (a lost
    laptop, a leaver); its owner logs in again. Answers ``{"id", "sessions_ended"}``."""
    user_id = parse_id(request.match_info["id"])
    pool = request.app[POOL]
    if user_id not in await roles_by_id(pool, [user_id]):
        raise NotFound("no such account")
    ended = await end_sessions(pool, user_id)
    await record_access(
        request,
        "user.sessions_end",
        object_type="user",
        object_id=user_id,
        details={"sessions_ended": ended},
    )
    return web.json_response({"id": str(user_id), "sessions_ended": ended})


def add_routes(app: web.Application) -> None:
    """Register the administrator's credential routes."""
    app.router.add_post("/v1/users/{id}/password-reset", reset_route)
    app.router.add_delete("/v1/users/{id}/sessions", end_all_route)
