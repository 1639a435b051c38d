"""Who is calling: the session middleware, bearer tokens, the console's cookie and its CSRF check.

Deny by default: a route runs only if it declared a requirement (``api.permissions``) that
the caller's session meets; a refusal is written to the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from accounts.totp import must_enrol
from accounts.users import user_for_token
from api.appkeys import CURRENT_USER, POOL, SETTINGS
from api.auditing import refuse
from api.middleware import route_template
from api.permissions import (
    AnyUser,
    EnrolmentRequired,
    Forbidden,
    NotAuthenticated,
    Public,
    is_open_before_enrolment,
    route_requirement,
)
from api.restricted import check_password_change

log = logging.getLogger(__name__)

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
    check_password_change(request, user)
    if must_enrol(user, request.app[SETTINGS].require_2fa_roles) and not is_open_before_enrolment(
        request.match_info.handler
    ):
        await refuse(
            request,
            EnrolmentRequired(
                "your role needs two-factor sign-in: enrol with POST /v1/auth/totp and "
                "POST /v1/auth/totp/confirm first"
            ),
        )
    if not isinstance(requirement, AnyUser) and not requirement & user.permissions:
        needed = " or ".join(sorted(p.value for p in requirement))
        await refuse(request, Forbidden(f"your role does not allow {needed}"))
    return await handler(request)
