"""``POST /v1/setup``: the first administrator, created from the one-time setup link.

The token is the credential (printed by ``callrec serve`` while no administrator exists).
A wrong, used or expired token and a finished setup all answer the same 404, so the route
tells a stranger nothing; each attempt is audited.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import Field

from accounts.password_policy import MAX_LENGTH, PasswordPolicyError
from accounts.setup import create_first_admin
from accounts.users import UserError
from api.appkeys import POOL
from api.bodies import json_body, takes
from api.permissions import public
from audit.log import Actor, AuditEvent, record
from common.errors import NotFound, ValidationProblem, field_error
from common.models import Body, NonEmpty

SETUP_ACTOR = Actor(None, "setup-link")


class FirstAdmin(Body):
    """The setup link's token and the first administrator's username and password."""

    token: Annotated[
        str, Field(min_length=1, max_length=200, description="required: the setup link's token")
    ]
    username: NonEmpty
    password: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_LENGTH,
            description=f"required: 12 to {MAX_LENGTH} characters",
        ),
    ]


@public("the setup link's token is the credential; only while no administrator exists")
@takes(FirstAdmin)
async def setup_route(request: web.Request) -> web.Response:
    """``POST /v1/setup`` {token, username, password}: 201 creates the first administrator;
    404 with a wrong or expired token or once an administrator exists."""
    sent = await json_body(request, FirstAdmin)
    pool = request.app[POOL]
    try:
        user_id = await create_first_admin(pool, sent.token, sent.username, sent.password)
    except PasswordPolicyError as exc:
        raise ValidationProblem([field_error("password", str(exc))]) from None
    except UserError as exc:
        raise ValidationProblem([field_error(exc.field, str(exc))]) from None
    if user_id is None:
        await record(pool, AuditEvent("setup.first_admin", "refused", SETUP_ACTOR))
        raise NotFound("no setup is waiting for this link; log in, or ask an administrator")
    event = AuditEvent(
        "setup.first_admin",
        "ok",
        SETUP_ACTOR,
        "user",
        str(user_id),
        details={"roles": "admin", "username": sent.username},
    )
    await record(pool, event)
    return web.json_response({"id": str(user_id), "username": sent.username}, status=201)


def add_routes(app: web.Application) -> None:
    """Register the first-run route."""
    app.router.add_post("/v1/setup", setup_route)
