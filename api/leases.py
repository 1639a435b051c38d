"""Links between customers and the rest of the register over HTTP: leases
(``POST /v1/leases``, ``GET /v1/customers/{id}/leases``) and guardianship
(``GET``/``POST /v1/customers/{id}/guardianships``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from api.auth import audit, json_object
from api.customers import conflict_problem, visible_customer_id
from api.permissions import Permission, requires
from api.problems import ValidationProblem
from callrec.appkeys import POOL
from register.customers import RegisterConflict
from register.guardianship import add_guardianship, guardianships_of, parse_guardianship
from register.leases import create_lease, leases_of, parse_lease
from storage.db import Connection


@requires(Permission.WRITE_REGISTER)
async def create_route(request: web.Request) -> web.Response:
    """``POST /v1/leases``: lease, parties and household in one go."""
    lease, errors = parse_lease(await json_object(request))
    if errors:
        raise ValidationProblem(errors)
    assert lease is not None
    async with request.app[POOL].acquire() as conn:
        try:
            lease_id = await create_lease(conn, lease)
        except RegisterConflict as exc:
            raise conflict_problem(exc) from None
    await audit(request, "lease.create", object_type="lease", object_id=lease_id)
    return web.json_response({"id": str(lease_id)}, status=201)


Loader = Callable[[Connection, uuid.UUID], Awaitable[list[dict[str, Any]]]]


async def _customer_items(request: web.Request, name: str, load: Loader) -> web.Response:
    """``{"items": …}`` about the customer in the path, after the object check; audited."""
    customer_id = await visible_customer_id(request)
    async with request.app[POOL].acquire() as conn:
        items = await load(conn, customer_id)
    await audit(request, f"customer.{name}", object_type="customer", object_id=customer_id)
    return web.json_response({"items": items})


@requires(Permission.READ_REGISTER)
async def customer_leases_route(request: web.Request) -> web.Response:
    """``GET /v1/customers/{id}/leases``: the customer's leases with parties and household."""
    return await _customer_items(request, "leases", leases_of)


@requires(Permission.READ_REGISTER)
async def guardianships_route(request: web.Request) -> web.Response:
    """``GET /v1/customers/{id}/guardianships``: as guardian or as ward."""
    return await _customer_items(request, "guardianships", guardianships_of)


@requires(Permission.WRITE_REGISTER)
async def add_guardianship_route(request: web.Request) -> web.Response:
    """``POST /v1/customers/{id}/guardianships`` {guardian_id, kind, start_date?, end_date?}."""
    customer_id = await visible_customer_id(request)
    link, errors = parse_guardianship(await json_object(request))
    if errors:
        raise ValidationProblem(errors)
    assert link is not None
    async with request.app[POOL].acquire() as conn:
        try:
            link_id = await add_guardianship(conn, customer_id, link)
        except RegisterConflict as exc:
            raise conflict_problem(exc) from None
    await audit(request, "customer.guardianship_add", object_type="customer", object_id=customer_id)
    return web.json_response({"id": str(link_id)}, status=201)


def add_routes(app: web.Application) -> None:
    """Register the lease and guardianship routes."""
    app.router.add_post("/v1/leases", create_route)
    app.router.add_get("/v1/customers/{id}/leases", customer_leases_route)
    app.router.add_get("/v1/customers/{id}/guardianships", guardianships_route)
    app.router.add_post("/v1/customers/{id}/guardianships", add_guardianship_route)
