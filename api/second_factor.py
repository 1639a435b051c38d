"""``/v1/auth/totp*`` and ``/v1/auth/login/totp``: enrolling two-factor sign-in, and the
second step of a login (``accounts.totp`` holds the rules; this module is HTTP only).

Answers that carry the secret or the recovery codes are marked ``no-store``: they are shown
once and must not stay in a cache. Every step is audited, never with a secret or code.
"""

from __future__ import annotations

from typing import Annotated, Final

from aiohttp import web
from pydantic import Field

from accounts.roles import Permission
from accounts.totp import (
    AlreadyEnrolled,
    NothingToConfirm,
    check_code,
    confirm_enrolment,
    recovery_codes_left,
    remove_factor,
    start_enrolment,
    take_challenge,
)
from accounts.users import open_session
from api.appkeys import CURRENT_USER, POOL, field_cipher
from api.auditing import record_access
from api.bodies import json_body, takes
from api.login import session_answer
from api.permissions import (
    NotAuthenticated,
    any_user,
    open_before_enrolment,
    public,
    requires,
)
from audit.log import Actor, AuditEvent, record
from common.errors import Conflict, NotFound, ValidationProblem, field_error
from common.inputs import parse_id
from common.models import Body, Text

NO_STORE: Final = {"Cache-Control": "no-store"}
CODE_SAYS: Final = (
    "required: the 6-digit code your authenticator app shows now, or one of your recovery "
    "codes (at most 32 characters)"
)
Code = Annotated[str, Text(32), Field(description=CODE_SAYS)]


class Confirmation(Body):
    """The first code of the authenticator app, proving it holds the secret."""

    code: Code


class SecondStep(Body):
    """The challenge a login answered with, and a code."""

    challenge: Annotated[
        str, Text(128), Field(description="required: the challenge the login answered with")
    ]
    code: Code


@open_before_enrolment
@any_user
async def start_route(request: web.Request) -> web.Response:
    """``POST /v1/auth/totp``: start enrolling two-factor sign-in (takes no body); the new
    secret, its otpauth URI and a QR code of it (SVG drawn by callrec), shown this once."""
    user = request[CURRENT_USER]
    try:
        enrolment = await start_enrolment(
            request.app[POOL], field_cipher(request), user.id, user.username
        )
    except AlreadyEnrolled:
        raise Conflict("two-factor sign-in is on for this account already") from None
    await record_access(request, "auth.totp.enrol", object_type="user", object_id=user.id)
    return web.json_response(
        {
            "secret": enrolment.secret,
            "otpauth_uri": enrolment.otpauth_uri,
            "qr_svg": enrolment.qr_svg,
        },
        headers=NO_STORE,
    )


@open_before_enrolment
@any_user
@takes(Confirmation)
async def confirm_route(request: web.Request) -> web.Response:
    """``POST /v1/auth/totp/confirm``: switch two-factor sign-in on with the app's first
    code; the ten single-use recovery codes, shown this once."""
    sent = await json_body(request, Confirmation)
    user = request[CURRENT_USER]
    try:
        codes = await confirm_enrolment(
            request.app[POOL], field_cipher(request), user.id, sent.code
        )
    except NothingToConfirm:
        raise Conflict("nothing to confirm: start with POST /v1/auth/totp") from None
    if codes is None:
        await record_access(
            request, "auth.totp.confirm", outcome="refused", object_type="user", object_id=user.id
        )
        raise ValidationProblem(
            [field_error("code", "not the app's current code; check the device's clock")]
        )
    await record_access(request, "auth.totp.confirm", object_type="user", object_id=user.id)
    return web.json_response({"recovery_codes": codes}, headers=NO_STORE)


@public("the second step of a login; the challenge from the first step is the credential")
@takes(SecondStep)
async def finish_login(request: web.Request) -> web.Response:
    """``POST /v1/auth/login/totp``: finish a login with the code of the authenticator app
    (or a recovery code, once); the session as the first step asked for. The challenge is
    used up by this one attempt, right or wrong."""
    sent = await json_body(request, SecondStep)
    pool = request.app[POOL]
    challenge = await take_challenge(pool, sent.challenge)
    if challenge is None:
        await record(
            pool,
            AuditEvent(
                "auth.login.totp", "refused", Actor(None, None), details={"reason": "no_challenge"}
            ),
        )
        raise NotAuthenticated("the challenge is unknown, used or expired; log in again")
    outcome = await check_code(pool, field_cipher(request), challenge.user_id, sent.code)
    accepted = outcome in ("totp", "recovery")
    actor = Actor(challenge.user_id, challenge.username)
    await record(
        pool,
        AuditEvent(
            "auth.login.totp", "ok" if accepted else "refused", actor, details={"reason": outcome}
        ),
    )
    if outcome == "recovery":
        left = await recovery_codes_left(pool, challenge.user_id)
        await record(
            pool,
            AuditEvent(
                "auth.totp.recovery_used",
                "ok",
                actor,
                "user",
                str(challenge.user_id),
                details={"codes_left": left},
            ),
        )
    if not accepted:
        raise NotAuthenticated(
            "wrong or already used code, or the account is locked for 15 minutes; log in again"
        )
    token, expires_at = await open_session(pool, challenge.user_id)
    return session_answer(request, token, expires_at, cookie=challenge.cookie)


@requires(Permission.MANAGE_USERS)
async def remove_route(request: web.Request) -> web.Response:
    """``DELETE /v1/users/{id}/totp`` (admin): switch off an account's two-factor sign-in
    when its device and recovery codes are lost; the person enrols again."""
    user_id = parse_id(request.match_info["id"])
    if not await remove_factor(request.app[POOL], user_id):
        raise NotFound("this account has no two-factor sign-in")
    await record_access(request, "auth.totp.remove", object_type="user", object_id=user_id)
    return web.json_response({"status": "removed"})


def add_routes(app: web.Application) -> None:
    """Register the two-factor routes."""
    app.router.add_post("/v1/auth/totp", start_route)
    app.router.add_post("/v1/auth/totp/confirm", confirm_route)
    app.router.add_post("/v1/auth/login/totp", finish_login)
    app.router.add_delete("/v1/users/{id}/totp", remove_route)
