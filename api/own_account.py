"""One's own account: changing the password, seeing one's open sessions and ending them.

Open to every logged-in user; each acts on the caller's own account only (another account's
session id answers 404, as a missing one does). Nothing here ever answers a session token.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import Field

from accounts.credentials import CurrentPasswordWrong, change_own_password
from accounts.password_policy import MAX_LENGTH, PasswordPolicyError
from accounts.sessions import end_session, open_sessions
from api.appkeys import CURRENT_USER, POOL
from api.auditing import record_access
from api.bodies import json_body, takes
from api.permissions import any_user
from api.restricted import while_password_change
from api.session import SESSION_COOKIE
from common.errors import NotFound, ValidationProblem, field_error
from common.inputs import parse_id
from common.models import Body, NonEmpty

NewPassword = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_LENGTH,
        description=f"required: the new password, 12 to {MAX_LENGTH} characters",
    ),
]


class PasswordChange(Body):
    """The current password (proof it is you) and the new one."""

    current: NonEmpty
    new: NewPassword


@while_password_change
@any_user
@takes(PasswordChange)
async def change_password(request: web.Request) -> web.Response:
    """``POST /v1/auth/password`` {current, new}: set your own password. Every other session
    of the account ends; this one stays. Also the way out of a one-time password."""
    sent = await json_body(request, PasswordChange)
    user = request[CURRENT_USER]
    try:
        ended = await change_own_password(
            request.app[POOL], user.id, user.session_id, sent.current, sent.new
        )
    except CurrentPasswordWrong as exc:
        await record_access(
            request,
            "auth.password_change",
            outcome="refused",
            object_type="user",
            object_id=user.id,
            details={"reason": "current_password_wrong"},
        )
        raise ValidationProblem([field_error("current", str(exc))]) from None
    except PasswordPolicyError as exc:
        raise ValidationProblem([field_error("new", str(exc))]) from None
    await record_access(
        request,
        "auth.password_change",
        object_type="user",
        object_id=user.id,
        details={"sessions_ended": ended, "was_one_time": user.must_change_password},
    )
    return web.json_response({"status": "changed", "other_sessions_ended": ended})


@any_user
async def list_sessions(request: web.Request) -> web.Response:
    """``GET /v1/auth/sessions``: your open sessions, newest first; ``current`` marks the one
    this request rides on."""
    user = request[CURRENT_USER]
    sessions = await open_sessions(request.app[POOL], user.id)
    items = [
        {
            "id": str(s.id),
            "device": s.device,
            "started_at": s.started_at.isoformat(),
            "last_seen_at": s.last_seen_at.isoformat(),
            "expires_at": s.expires_at.isoformat(),
            "current": s.id == user.session_id,
        }
        for s in sessions
    ]
    return web.json_response({"items": items})


@any_user
async def end_own_session(request: web.Request) -> web.Response:
    """``DELETE /v1/auth/sessions/{id}``: end one of your sessions (the current one too:
    that is a logout)."""
    session_id = parse_id(request.match_info["id"])
    user = request[CURRENT_USER]
    if not await end_session(request.app[POOL], user.id, session_id):
        raise NotFound("you have no open session with this id")
    await record_access(request, "auth.session_end", object_type="session", object_id=session_id)
    response = web.json_response({"id": str(session_id), "status": "ended"})
    if session_id == user.session_id:
        response.del_cookie(SESSION_COOKIE, path="/")
    return response


def add_routes(app: web.Application) -> None:
    """Register the own-account routes."""
    app.router.add_post("/v1/auth/password", change_password)
    app.router.add_get("/v1/auth/sessions", list_sessions)
    app.router.add_delete("/v1/auth/sessions/{id}", end_own_session)
