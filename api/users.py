"""``/v1/users``: the administrator lists, creates and changes staff accounts."""

from __future__ import annotations

import uuid
from typing import Annotated, ClassVar

from aiohttp import web
from pydantic import ConfigDict, Field, model_validator

from accounts.passwords import PasswordPolicyError
from accounts.roles import Permission
from accounts.users import UserError, create_user, list_accounts, update_user
from api.appkeys import CURRENT_USER, POOL
from api.auditing import record_access
from api.bodies import json_body, takes
from api.pagination import page_limit
from api.permissions import requires
from audit.log import DetailValue
from common.errors import Conflict, NotFound, ValidationProblem, field_error
from common.inputs import parse_id
from common.models import Body, NonEmpty, refuse


@requires(Permission.MANAGE_USERS)
async def list_users(request: web.Request) -> web.Response:
    """``GET /v1/users?after=&limit=``: accounts in username order, paginated."""
    limit = page_limit(request.query)
    accounts = await list_accounts(request.app[POOL], request.query.get("after", ""), limit)
    items = [
        {
            "id": str(a.id),
            "username": a.username,
            "display_name": a.display_name,
            "extension": a.extension,
            "roles": list(a.roles),
            "disabled": a.disabled,
            "locked": a.locked,
            "created_at": a.created_at.isoformat(),
            "second_factor": a.second_factor,
        }
        for a in accounts
    ]
    next_after = items[-1]["username"] if len(items) == limit else None
    return web.json_response({"items": items, "next": next_after})


RoleNames = Annotated[list[str], Field(description="a list of role names")]


class NewAccount(Body):
    """A new staff account; its roles are checked against the role table."""

    username: NonEmpty
    password: NonEmpty
    roles: RoleNames
    display_name: str | None = None
    extension: str | None = None


class AccessChange(Body):
    """New roles for an account, or switching it off or on."""

    model_config = ConfigDict(extra="forbid")
    unknown_field: ClassVar[str] = "not a field of an account's access"

    roles: RoleNames | None = None
    disabled: Annotated[bool | None, Field(description="true or false")] = None

    @model_validator(mode="after")
    def something_changes(self) -> AccessChange:
        """An empty change is a mistake: say what may be sent."""
        if self.roles is None and self.disabled is None:
            raise refuse("send roles, disabled or both", "roles")
        return self


@requires(Permission.MANAGE_USERS)
@takes(NewAccount)
async def add_user(request: web.Request) -> web.Response:
    """``POST /v1/users``: create a staff account with its roles."""
    new = await json_body(request, NewAccount)
    username, roles = new.username, new.roles
    try:
        user_id: uuid.UUID = await create_user(
            request.app[POOL],
            username,
            new.password,
            roles,
            display_name=new.display_name,
            extension=new.extension,
        )
    except PasswordPolicyError as exc:
        raise ValidationProblem([field_error("password", str(exc))]) from None
    except UserError as exc:
        raise ValidationProblem([field_error(exc.field, str(exc))]) from None
    await record_access(
        request,
        "user.create",
        object_type="user",
        object_id=user_id,
        details={"roles": ",".join(sorted(set(roles)))},
    )
    return web.json_response({"id": str(user_id), "username": username}, status=201)


@requires(Permission.MANAGE_USERS)
@takes(AccessChange)
async def change_user(request: web.Request) -> web.Response:
    """``PATCH /v1/users/{id}`` {roles?, disabled?}: change roles or switch an account off.

    Administrators cannot change their own account here, so nobody locks the last
    administrator out by mistake; another administrator (or the CLI) does it.
    """
    user_id = parse_id(request.match_info["id"])
    change = await json_body(request, AccessChange)
    roles, disabled = change.roles, change.disabled
    if user_id == request[CURRENT_USER].id:
        raise Conflict(
            "you cannot change your own roles or switch yourself off; ask another administrator"
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
    await record_access(
        request, "user.update", object_type="user", object_id=user_id, details=details
    )
    return web.json_response({"id": str(user_id), **details})


def add_routes(app: web.Application) -> None:
    """Register the account administration routes."""
    app.router.add_get("/v1/users", list_users)
    app.router.add_post("/v1/users", add_user)
    app.router.add_patch("/v1/users/{id}", change_user)
