"""``/v1/auth/*``: logging in (bearer token or the console's cookie), out, and who am I."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from accounts.roles import purposes_of
from accounts.sessions import describe_device
from accounts.sso import refuse_password
from accounts.totp import must_enrol, open_challenge
from accounts.users import User, login, revoke
from api.appkeys import CURRENT_USER, POOL, SETTINGS
from api.bodies import json_body, takes
from api.permissions import NotAuthenticated, any_user, open_before_enrolment, public
from api.restricted import while_password_change
from api.session import SESSION_COOKIE, csrf_token, session_token
from audit.log import Actor, AuditEvent, record
from common.models import Body, NonEmpty


class Credentials(Body):
    """A username and its password."""

    username: NonEmpty
    password: NonEmpty


async def _log_in(request: web.Request, *, cookie: bool) -> web.Response:
    """Check the posted username and password, audit the attempt; the new session, or the
    challenge for the second factor of an enrolled account."""
    sent = await json_body(request, Credentials)
    username = sent.username
    pool = request.app[POOL]
    device = describe_device(request.headers.get("User-Agent"))
    attempt = await refuse_password(
        pool, request.app[SETTINGS], username, sent.password
    ) or await login(pool, username, sent.password, device)
    # A mistyped password often lands in the username field: name only real accounts.
    actor = Actor(attempt.user_id, username if attempt.user_id else None)
    # The password step of a two-step login is ok; auth.login.totp records how it ends.
    outcome = "ok" if attempt.outcome in ("ok", "second_factor") else "refused"
    event = AuditEvent("auth.login", outcome, actor, details={"reason": attempt.outcome})
    await record(pool, event)
    if attempt.outcome == "second_factor" and attempt.user_id is not None:
        challenge = await open_challenge(pool, attempt.user_id, cookie=cookie)
        return web.json_response({"second_factor": "totp", "challenge": challenge})
    if attempt.token is None or attempt.expires_at is None:
        raise NotAuthenticated(
            "wrong username or password, or the account is locked for 15 minutes"
        )
    return session_answer(
        request,
        attempt.token,
        attempt.expires_at,
        cookie=cookie,
        must_change=attempt.must_change_password,
    )


def _change_flag(must_change: bool) -> dict[str, bool]:
    """``password_change_required: true`` when the session may only change the password."""
    return {"password_change_required": True} if must_change else {}


def session_answer(
    request: web.Request,
    token: str,
    expires_at: datetime,
    *,
    cookie: bool,
    must_change: bool = False,
) -> web.Response:
    """A new session as its login asked: a bearer token, or the console's cookie (HttpOnly,
    SameSite=Strict, unreadable to scripts) with the CSRF token in the body. After an
    administrator's reset the answer adds ``"password_change_required": true``: until
    ``POST /v1/auth/password`` every other route answers 403 ``password-change-required``."""
    if not cookie:
        answer = {"token": token, "expires_at": expires_at.isoformat()}
        return web.json_response({**answer, **_change_flag(must_change)})
    response = web.json_response(
        {
            "expires_at": expires_at.isoformat(),
            "csrf_token": csrf_token(token),
            **_change_flag(must_change),
        }
    )
    set_session_cookie(request, response, token, expires_at)
    return response


def over_tls(request: web.Request) -> bool:
    """Whether the browser reached us over HTTPS (directly or through the proxy)."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"


def set_session_cookie(
    request: web.Request, response: web.StreamResponse, token: str, expires_at: datetime
) -> None:
    """Put a new session's token into the console's HttpOnly, SameSite=Strict cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=over_tls(request),
        max_age=max(0, int((expires_at - datetime.now(UTC)).total_seconds())),
    )


@public("the login itself")
@takes(Credentials)
async def login_route(request: web.Request) -> web.Response:
    """``POST /v1/auth/login``: log in; a bearer token that expires (or, for an account
    with two-factor sign-in, a challenge for ``POST /v1/auth/login/totp``)."""
    return await _log_in(request, cookie=False)


@public("the console's login itself")
@takes(Credentials)
async def open_session(request: web.Request) -> web.Response:
    """``POST /v1/auth/session``: the console's login. The token goes into an HttpOnly,
    SameSite=Strict cookie that scripts cannot read; the body gives the CSRF token (or, for
    an account with two-factor sign-in, a challenge for ``POST /v1/auth/login/totp``)."""
    return await _log_in(request, cookie=True)


@while_password_change
@open_before_enrolment
@any_user
async def logout_route(request: web.Request) -> web.Response:
    """``POST /v1/auth/logout`` (or ``DELETE /v1/auth/session``) revokes the session at once."""
    token = session_token(request)
    assert token is not None  # the middleware let the request through
    await revoke(request.app[POOL], token)
    response = web.json_response({"status": "logged out"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@while_password_change
@open_before_enrolment
@any_user
async def me_route(request: web.Request) -> web.Response:
    """``GET /v1/auth/me``: who is logged in and what they may do."""
    user = request[CURRENT_USER]
    token = session_token(request)
    assert token is not None
    return web.json_response(
        {
            "id": str(user.id),
            "username": user.username,
            "roles": list(user.roles),
            "permissions": sorted(p.value for p in user.permissions),
            "purposes": sorted(purposes_of(user.roles)),  # what playback may be asked for
            "csrf_token": csrf_token(token),
            "password_change_required": user.must_change_password,
            "second_factor": _second_factor(request, user),
        }
    )


def _second_factor(request: web.Request, user: User) -> str:
    """``enrolled``; ``required`` (the session may only enrol); or ``optional``."""
    if user.second_factor:
        return "enrolled"
    required = must_enrol(user, request.app[SETTINGS].require_2fa_roles)
    return "required" if required else "optional"


def add_routes(app: web.Application) -> None:
    """Register the login, session and who-am-I routes."""
    app.router.add_post("/v1/auth/login", login_route)
    app.router.add_post("/v1/auth/logout", logout_route)
    app.router.add_post("/v1/auth/session", open_session)
    app.router.add_delete("/v1/auth/session", logout_route)
    app.router.add_get("/v1/auth/me", me_route)
