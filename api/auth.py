"""Authentication routes and the middleware that checks every route's declared permission."""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, NoReturn

from aiohttp import web
from aiohttp.typedefs import Handler

from api.appkeys import POOL
from api.middleware import route_template
from api.pagination import page_limit
from api.passwords import PasswordPolicyError
from api.permissions import (
    AnyUser,
    Forbidden,
    NotAuthenticated,
    Permission,
    Public,
    any_user,
    public,
    purposes_of,
    requires,
    route_requirement,
)
from api.users import (
    LIST_USERS,
    User,
    UserError,
    create_user,
    login,
    revoke,
    update_user,
    user_for_token,
)
from audit.log import Actor, AuditEvent, DetailValue, record
from common.errors import (
    NotFound,
    Problem,
    TooLarge,
    UnsupportedMediaType,
    ValidationProblem,
    field_error,
)
from common.inputs import load_json_object, parse_id
from storage.db import Connection

log = logging.getLogger(__name__)

CURRENT_USER: Final = web.RequestKey("current_user", User)
MAX_JSON_BYTES: Final = 64 * 1024


SESSION_COOKIE: Final = "callrec_session"
CSRF_HEADER: Final = "X-CSRF-Token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def session_token(request: web.Request) -> str | None:
    """The caller's session token: a bearer header (API clients) or the console's cookie;
    None for a missing one or one no session can have (not printable ASCII)."""
    token = _bearer(request) or request.cookies.get(SESSION_COOKIE)
    return token if token and token.isascii() and token.isprintable() else None


def csrf_token(token: str) -> str:
    """The CSRF token of a cookie session: derived from the secret session token, so a page
    of another site, which cannot read the cookie, cannot know it."""
    return hashlib.sha256(b"callrec-csrf\0" + token.encode()).hexdigest()


def _check_csrf(request: web.Request, token: str) -> None:
    """A state-changing request riding on the cookie must also carry the CSRF header.

    Bearer clients need no such check: a browser never adds an Authorization header to a
    request another site makes it send.
    """
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(errors="replace"), csrf_token(token).encode()):
        raise Forbidden(
            f"send the {CSRF_HEADER} header given at login (GET /v1/auth/me repeats it) "
            "with every request that changes something"
        )


@web.middleware
async def authorize(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Deny by default: a route runs only if it declared a requirement the caller meets."""
    requirement = route_requirement(request)
    if requirement is None:
        log.error("route %s declares no permission; refused", route_template(request))
        raise Forbidden("this route is not open to any role")
    if isinstance(requirement, Public):
        return await handler(request)
    token = session_token(request)
    if token is None:
        raise NotAuthenticated("send Authorization: Bearer <token> from POST /v1/auth/login")
    user = await user_for_token(request.app[POOL], token)
    if user is None:
        raise NotAuthenticated("the session has expired or was revoked; log in again")
    _check_csrf(request, token)
    request[CURRENT_USER] = user
    if not isinstance(requirement, AnyUser) and not requirement & user.permissions:
        needed = " or ".join(sorted(p.value for p in requirement))
        await refuse(request, Forbidden(f"your role does not allow {needed}"))
    return await handler(request)


def actor_of(request: web.Request) -> Actor:
    """The logged-in user of this request as an audit actor (anonymous: no id, no name)."""
    user = request.get(CURRENT_USER)
    return Actor(None, None) if user is None else Actor(user.id, user.username)


async def audit(
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
    await audit(
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


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 4xx saying what is wrong with it."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send application/json")
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise TooLarge(f"JSON bodies are at most {MAX_JSON_BYTES} bytes")
    raw = await request.read()  # a body without Content-Length stops at client_max_size
    if len(raw) > MAX_JSON_BYTES:
        raise TooLarge(f"JSON bodies are at most {MAX_JSON_BYTES} bytes")
    return load_json_object(raw)


def text_fields(body: dict[str, Any], *names: str) -> list[str]:
    """The named fields as non-empty strings, or one 422 naming each missing one."""
    errors = [
        field_error(n, "required, a non-empty string")
        for n in names
        if not isinstance(body.get(n), str) or not body[n]
    ]
    if errors:
        raise ValidationProblem(errors)
    return [str(body[n]) for n in names]


async def _log_in(request: web.Request) -> tuple[str, datetime]:
    """Check the posted username and password, audit the attempt; the new session's token."""
    username, password = text_fields(await json_object(request), "username", "password")
    attempt = await login(request.app[POOL], username, password)
    # A mistyped password often lands in the username field: name only real accounts.
    actor = Actor(attempt.user_id, username if attempt.user_id else None)
    ok = attempt.outcome == "ok"
    event = AuditEvent(
        "auth.login", "ok" if ok else "refused", actor, details={"reason": attempt.outcome}
    )
    await record(request.app[POOL], event)
    if attempt.token is None or attempt.expires_at is None:
        raise NotAuthenticated(
            "wrong username or password, or the account is locked for 15 minutes"
        )
    return attempt.token, attempt.expires_at


@public("the login itself")
async def login_route(request: web.Request) -> web.Response:
    """``POST /v1/auth/login`` → a bearer token that expires."""
    token, expires_at = await _log_in(request)
    return web.json_response({"token": token, "expires_at": expires_at.isoformat()})


@public("the console's login itself")
async def open_session(request: web.Request) -> web.Response:
    """``POST /v1/auth/session``: the console's login. The token goes into an HttpOnly,
    SameSite=Strict cookie that scripts cannot read; the body gives the CSRF token."""
    token, expires_at = await _log_in(request)
    response = web.json_response(
        {"expires_at": expires_at.isoformat(), "csrf_token": csrf_token(token)}
    )
    secure = request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
        max_age=max(0, int((expires_at - datetime.now(UTC)).total_seconds())),
    )
    return response


@any_user
async def logout_route(request: web.Request) -> web.Response:
    """``POST /v1/auth/logout`` (or ``DELETE /v1/auth/session``) revokes the session at once."""
    token = session_token(request)
    assert token is not None  # the middleware let the request through
    await revoke(request.app[POOL], token)
    response = web.json_response({"status": "logged out"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


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
        }
    )


@requires(Permission.MANAGE_USERS)
async def list_users(request: web.Request) -> web.Response:
    """``GET /v1/users?after=&limit=``: accounts in username order, paginated."""
    limit = page_limit(request.query)
    rows = await request.app[POOL].fetch(LIST_USERS, request.query.get("after", ""), limit)
    items = [
        {
            "id": str(r["id"]),
            "username": r["username"],
            "display_name": r["display_name"],
            "extension": r["extension"],
            "roles": r["roles"],
            "disabled": r["disabled"],
            "locked": bool(r["locked"]),
            "created_at": r["created_at"].isoformat(),
        }
        for r in rows
    ]
    next_after = items[-1]["username"] if len(items) == limit else None
    return web.json_response({"items": items, "next": next_after})


@requires(Permission.MANAGE_USERS)
async def add_user(request: web.Request) -> web.Response:
    """``POST /v1/users`` {username, password, roles, extension?, display_name?}."""
    body = await json_object(request)
    username, password = text_fields(body, "username", "password")
    roles = body.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ValidationProblem([field_error("roles", "a list of role names")])
    try:
        user_id: uuid.UUID = await create_user(
            request.app[POOL],
            username,
            password,
            roles,
            display_name=body.get("display_name"),
            extension=body.get("extension"),
        )
    except PasswordPolicyError as exc:
        raise ValidationProblem([field_error("password", str(exc))]) from None
    except UserError as exc:
        raise ValidationProblem([field_error(exc.field, str(exc))]) from None
    await audit(
        request,
        "user.create",
        object_type="user",
        object_id=user_id,
        details={"roles": ",".join(sorted(set(roles)))},
    )
    return web.json_response({"id": str(user_id), "username": username}, status=201)


@requires(Permission.MANAGE_USERS)
async def change_user(request: web.Request) -> web.Response:
    """``PATCH /v1/users/{id}`` {roles?, disabled?}: change roles or switch an account off.

    Administrators cannot change their own account here, so nobody locks the last
    administrator out by mistake; another administrator (or the CLI) does it.
    """
    user_id = parse_id(request.match_info["id"])
    body = await json_object(request)
    errors = [
        field_error(name, "not a field of an account's access")
        for name in body.keys() - {"roles", "disabled"}
    ]
    roles, disabled = body.get("roles"), body.get("disabled")
    if roles is None and disabled is None:
        errors.append(field_error("roles", "send roles, disabled or both"))
    if roles is not None and (
        not isinstance(roles, list) or not all(isinstance(r, str) for r in roles)
    ):
        errors.append(field_error("roles", "a list of role names"))
    if disabled is not None and not isinstance(disabled, bool):
        errors.append(field_error("disabled", "true or false"))
    if errors:
        raise ValidationProblem(errors)
    if user_id == request[CURRENT_USER].id:
        raise Problem(
            "you cannot change your own roles or switch yourself off; ask another administrator",
            status=409,
            slug="conflict",
            title="Conflict",
        )
    try:
        found = await update_user(request.app[POOL], user_id, roles=roles, disabled=disabled)
    except UserError as exc:
        raise ValidationProblem([field_error(exc.field, str(exc))]) from None
    if not found:
        raise NotFound("no such account")
    details: dict[str, DetailValue] = {}
    if roles is not None:
        details["roles"] = ",".join(sorted(set(roles)))
    if disabled is not None:
        details["disabled"] = disabled
    await audit(request, "user.update", object_type="user", object_id=user_id, details=details)
    return web.json_response({"id": str(user_id), **details})


def add_routes(app: web.Application) -> None:
    """Register the auth and user routes."""
    app.router.add_post("/v1/auth/login", login_route)
    app.router.add_post("/v1/auth/logout", logout_route)
    app.router.add_post("/v1/auth/session", open_session)
    app.router.add_delete("/v1/auth/session", logout_route)
    app.router.add_get("/v1/auth/me", me_route)
    app.router.add_get("/v1/users", list_users)
    app.router.add_post("/v1/users", add_user)
    app.router.add_patch("/v1/users/{id}", change_user)
