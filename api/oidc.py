"""``/v1/auth/oidc/*``: single sign-on with the organisation's OpenID provider.

The console's "Sign in with …" link opens ``/login``, which sends the browser to the
provider with a fresh state, nonce and PKCE challenge; the provider sends it back to
``/callback`` with a code. The browser's short cookie (SameSite=Lax, so it comes back on
the provider's redirect) names the sign-in it started; the state must match it, and the
verifier and nonce never leave the server. The callback ends in the same cookie session a
password login gives, and a redirect to the console. The middleware logs the route
template only, so no code or state reaches a log line.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from accounts.oidc import OidcError, OpenIdProvider, provider_error
from accounts.sso import begin, check_role_map, mapped_roles, sign_in, take
from api.appkeys import POOL, SETTINGS
from api.login import over_tls, set_session_cookie
from api.permissions import public
from audit.log import Actor, AuditEvent, record
from common.errors import Problem
from common.settings import Settings

PROVIDER = web.AppKey("oidc_provider", OpenIdProvider)
PENDING_COOKIE: Final = "callrec_sso"
CALLBACK: Final = "/v1/auth/oidc/callback"
STATUS: Final = {  # the answer's status by what failed
    "not_configured": 404,
    "provider_unreachable": 502,
    "provider_misconfigured": 502,
    "provider_error": 403,
    "no_mapped_group": 403,
    "disabled": 403,
}


def display_name(settings: Settings) -> str:
    """What the console's button names: the setting, else the issuer's host."""
    return settings.oidc_name or urlsplit(settings.oidc_issuer or "").hostname or "SSO"


def _redirect_uri(request: web.Request) -> str:
    """Where the provider sends the browser back: the setting, else this request's origin."""
    configured = request.app[SETTINGS].oidc_redirect_uri
    if configured is not None:
        return configured
    return f"{'https' if over_tls(request) else 'http'}://{request.host}{CALLBACK}"


def _provider(request: web.Request) -> OpenIdProvider:
    if PROVIDER not in request.app:
        raise _problem(
            "not_configured", "single sign-on is not configured here; log in with a password"
        )
    return request.app[PROVIDER]


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def _problem(reason: str, detail: str) -> Problem:
    return Problem(
        detail,
        status=STATUS.get(reason, 400),
        slug="sso-" + reason.replace("_", "-"),
        title="Single sign-on failed",
    )


async def _refuse(request: web.Request, reason: str, detail: str, actor: Actor) -> Problem:
    """Audit a refused sign-in; the problem to raise."""
    event = AuditEvent("auth.sso_login", "refused", actor, details={"reason": reason})
    await record(request.app[POOL], event)
    return _problem(reason, detail)


@public("how the console offers single sign-on, shown before anyone logs in")
async def sso_config(request: web.Request) -> web.Response:
    """``GET /v1/auth/oidc``: whether single sign-on is on, and the provider's name."""
    settings = request.app[SETTINGS]
    if not settings.sso_enabled:
        return web.json_response({"enabled": False})
    return web.json_response(
        {
            "enabled": True,
            "name": display_name(settings),
            "login_url": "/v1/auth/oidc/login",
            "local_passwords": settings.oidc_local_passwords,
        }
    )


@public("starts a single sign-on; the identity provider authenticates")
async def sso_login(request: web.Request) -> web.Response:
    """``GET /v1/auth/oidc/login``: redirect to the identity provider (code flow, PKCE)."""
    provider = _provider(request)
    browser_token, pending = await begin(request.app[POOL])
    try:
        url = await provider.authorization_url(
            _redirect_uri(request),
            pending.state,
            pending.nonce,
            pending.code_verifier,
            request.app[SETTINGS].oidc_roles_claim,
        )
    except OidcError as exc:
        raise _problem(exc.reason, str(exc)) from None
    response = _redirect(url)
    response.set_cookie(
        PENDING_COOKIE,
        browser_token,
        path="/v1/auth/oidc",
        httponly=True,
        samesite="Lax",  # sent on the provider's top-level redirect back, unlike Strict
        secure=over_tls(request),
        max_age=600,
    )
    return response


@public("the identity provider's redirect back; the state, code and ID token authenticate")
async def sso_callback(request: web.Request) -> web.Response:
    """``GET /v1/auth/oidc/callback``: check the answer, create or update the account, open
    the cookie session, redirect to the console. A browser that fails is sent to the
    console's login page, which says why; other clients get the problem+json."""
    try:
        return await _callback(request)
    except Problem as problem:
        if "text/html" not in request.headers.get("Accept", ""):
            raise
        return _redirect(f"/#/sso/{problem.slug}")


async def _callback(request: web.Request) -> web.Response:
    provider = _provider(request)
    nobody = Actor(None, None)
    pending = await take(request.app[POOL], request.cookies.get(PENDING_COOKIE, ""))
    if pending is None:
        raise await _refuse(
            request,
            "expired",
            "this sign-in took longer than 10 minutes, was used already or began in another "
            "browser; start again from the login page",
            nobody,
        )
    query = request.query
    if not hmac.compare_digest(query.get("state", "").encode(), pending.state.encode()):
        raise await _refuse(
            request,
            "state_mismatch",
            "the answer does not belong to the sign-in this browser began; start again",
            nobody,
        )
    if query.get("iss", provider.issuer) != provider.issuer:  # RFC 9207: a mixed-up answer
        raise await _refuse(
            request,
            "wrong_issuer",
            "the answer came from another identity provider; start again",
            nobody,
        )
    if "error" in query:
        error = provider_error(query["error"])
        raise await _refuse(request, error.reason, str(error), nobody)
    if not query.get("code"):
        raise await _refuse(
            request, "no_code", "the identity provider sent no code; start again", nobody
        )
    settings = request.app[SETTINGS]
    try:
        tokens = await provider.exchange(
            query["code"], _redirect_uri(request), pending.code_verifier
        )
        claims = await provider.id_token_claims(tokens, pending.nonce)
    except OidcError as exc:
        raise await _refuse(request, exc.reason, str(exc), nobody) from None
    roles = mapped_roles(claims, settings)
    outcome = await sign_in(request.app[POOL], provider.issuer, claims, roles)
    actor = Actor(outcome.user_id, outcome.username)
    if outcome.token is None or outcome.expires_at is None:
        detail = (
            "your account is switched off; ask an administrator"
            if outcome.outcome == "disabled"
            else "none of your groups at the identity provider gives a role in callrec; "
            "ask an administrator"
        )
        raise await _refuse(request, outcome.outcome, detail, actor)
    details: dict[str, str | bool] = {"roles": ",".join(outcome.roles), "created": outcome.created}
    await record(request.app[POOL], AuditEvent("auth.sso_login", "ok", actor, details=details))
    response = _redirect("/")
    set_session_cookie(request, response, outcome.token, outcome.expires_at)
    response.del_cookie(PENDING_COOKIE, path="/v1/auth/oidc")
    return response


async def provider_context(app: web.Application) -> AsyncIterator[None]:
    """The configured provider's client while the app runs (none when SSO is off)."""
    settings = app[SETTINGS]
    check_role_map(settings)  # `callrec serve` checked already; an app built otherwise stops here
    if settings.oidc_issuer is None or settings.oidc_client_id is None:
        yield
        return
    provider = OpenIdProvider(
        settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret
    )
    app[PROVIDER] = provider
    yield
    await provider.close()


def add_routes(app: web.Application) -> None:
    """Register the single sign-on routes and the provider client's lifetime."""
    app.router.add_get("/v1/auth/oidc", sso_config)
    app.router.add_get("/v1/auth/oidc/login", sso_login)
    app.router.add_get(CALLBACK, sso_callback)
    app.cleanup_ctx.append(provider_context)
