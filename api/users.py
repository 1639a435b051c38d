"""``/v1/users``: the administrator lists, creates and changes staff accounts."""

from __future__ import annotations

import uuid

from aiohttp import web

from accounts.passwords import PasswordPolicyError
from accounts.roles import Permission
from accounts.users import UserError, create_user, list_accounts, update_user
from api.appkeys import CURRENT_USER, POOL
from api.auditing import audit
from api.bodies import json_object, text_fields
from api.pagination import page_limit
from api.permissions import requires
from audit.log import DetailValue
from common.errors import NotFound, Problem, ValidationProblem, field_error
from common.inputs import parse_id


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
        }
        for a in accounts
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
    """Register the account administration routes."""
    app.router.add_get("/v1/users", list_users)
    app.router.add_post("/v1/users", add_user)
    app.router.add_patch("/v1/users/{id}", change_user)
