"""Leases over HTTP: ``POST /v1/leases`` and ``GET /v1/customers/{id}/leases``."""

from __future__ import annotations

from aiohttp import web

from api.auth import audit, json_object
from api.customers import conflict_problem, visible_customer
from api.permissions import Permission, requires
from api.problems import ValidationProblem
from callrec.appkeys import POOL
from register.customers import RegisterConflict
from register.leases import create_lease, leases_of, parse_lease


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


@requires(Permission.READ_REGISTER)
async def customer_leases_route(request: web.Request) -> web.Response:
    """``GET /v1/customers/{id}/leases``: the customer's leases with parties and household."""
    customer = await visible_customer(request)
    async with request.app[POOL].acquire() as conn:
        items = await leases_of(conn, customer.id)
    await audit(request, "customer.leases", object_type="customer", object_id=customer.id)
    return web.json_response({"items": items})


def add_routes(app: web.Application) -> None:
    """Register the lease routes."""
    app.router.add_post("/v1/leases", create_route)
    app.router.add_get("/v1/customers/{id}/leases", customer_leases_route)
