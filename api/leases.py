"""Links between customers and the rest of the register over HTTP: leases
(``POST /v1/leases``, ``PATCH /v1/leases/{id}``, ``GET /v1/customers/{id}/leases``) and
guardianship (``GET``/``POST /v1/customers/{id}/guardianships``,
``PATCH /v1/customers/{id}/guardianships/{link_id}``).

A lease's property and apartment are the address of everyone on it, so they (with the
household and the protected party's name) are masked like addresses for a viewer without the
task when a party, or someone living with a party, is under turvakielto
(register/protection.py)."""

from __future__ import annotations

from aiohttp import web

from accounts.roles import Permission
from api.appkeys import CURRENT_USER, POOL
from api.auditing import record_access
from api.bodies import json_body, takes
from api.customers import reader_of, register_connection, today, visible_customer_id
from api.permissions import requires
from api.register_bodies import GuardianshipEnd, LeaseEnd, NewGuardianship, NewLease
from common.errors import NotFound
from common.inputs import parse_id
from common.jsonready import json_ready
from register.guardianship import (
    add_guardianship,
    end_guardianship,
    guardianships_of,
)
from register.leases import (
    LeaseNotFound,
    change_lease,
    create_lease,
    leases_of,
)
from register.protection import mask_leases, protection_of


@requires(Permission.WRITE_REGISTER)
@takes(NewLease)
async def create_route(request: web.Request) -> web.Response:
    """``POST /v1/leases``: lease, parties and household in one go."""
    lease = (await json_body(request, NewLease)).lease()
    async with register_connection(request) as conn:
        lease_id = await create_lease(conn, lease)
    await record_access(request, "lease.create", object_type="lease", object_id=lease_id)
    return web.json_response({"id": str(lease_id)}, status=201)


@requires(Permission.WRITE_REGISTER)
@takes(LeaseEnd)
async def change_route(request: web.Request) -> web.Response:
    """``PATCH /v1/leases/{id}`` {end_date?, terminated_on?}: end or terminate a lease."""
    lease_id = parse_id(request.match_info["id"])
    change = (await json_body(request, LeaseEnd)).change()
    async with register_connection(request) as conn:
        try:
            await change_lease(conn, lease_id, change)
        except LeaseNotFound:
            raise NotFound("no such lease") from None
    await record_access(
        request,
        "lease.update",
        object_type="lease",
        object_id=lease_id,
        details={"fields": ",".join(sorted(change.fields))},
    )
    return web.json_response({"id": str(lease_id), "changed": sorted(change.fields)})


@requires(Permission.READ_REGISTER)
async def customer_leases_route(request: web.Request) -> web.Response:
    """``GET /v1/customers/{id}/leases``: the customer's leases with parties and household."""
    customer_id = await visible_customer_id(request)
    async with request.app[POOL].acquire() as conn:
        items = await leases_of(conn, customer_id)
        protection = await protection_of(conn, customer_id, today())
    await record_access(request, "customer.leases", object_type="customer", object_id=customer_id)
    masked = mask_leases(json_ready(items), protection, reader_of(request[CURRENT_USER]))
    return web.json_response({"items": masked})


@requires(Permission.READ_REGISTER)
async def guardianships_route(request: web.Request) -> web.Response:
    """``GET /v1/customers/{id}/guardianships``: as guardian or as ward."""
    customer_id = await visible_customer_id(request)
    async with request.app[POOL].acquire() as conn:
        items = await guardianships_of(conn, customer_id)
    await record_access(
        request, "customer.guardianships", object_type="customer", object_id=customer_id
    )
    return web.json_response({"items": json_ready(items)})


@requires(Permission.WRITE_REGISTER)
@takes(NewGuardianship)
async def add_guardianship_route(request: web.Request) -> web.Response:
    """``POST /v1/customers/{id}/guardianships``: link a guardian to the customer."""
    customer_id = await visible_customer_id(request)
    link = (await json_body(request, NewGuardianship)).link()
    async with register_connection(request) as conn:
        link_id = await add_guardianship(conn, customer_id, link)
    await record_access(
        request, "customer.guardianship_add", object_type="customer", object_id=customer_id
    )
    return web.json_response({"id": str(link_id)}, status=201)


@requires(Permission.WRITE_REGISTER)
@takes(GuardianshipEnd)
async def end_guardianship_route(request: web.Request) -> web.Response:
    """``PATCH /v1/customers/{id}/guardianships/{link_id}`` {end_date}: end a link."""
    customer_id = await visible_customer_id(request)
    link_id = parse_id(request.match_info["link_id"], "link_id")
    end = (await json_body(request, GuardianshipEnd)).end_date
    async with register_connection(request) as conn:
        found = await end_guardianship(conn, link_id, customer_id, end)
    if not found:
        raise NotFound("no such guardianship link of this customer")
    await record_access(
        request, "customer.guardianship_end", object_type="customer", object_id=customer_id
    )
    return web.json_response({"id": str(link_id), "end_date": end.isoformat()})


def add_routes(app: web.Application) -> None:
    """Register the lease and guardianship routes."""
    app.router.add_post("/v1/leases", create_route)
    app.router.add_patch("/v1/leases/{id}", change_route)
    app.router.add_get("/v1/customers/{id}/leases", customer_leases_route)
    app.router.add_get("/v1/customers/{id}/guardianships", guardianships_route)
    app.router.add_post("/v1/customers/{id}/guardianships", add_guardianship_route)
    app.router.add_patch("/v1/customers/{id}/guardianships/{link_id}", end_guardianship_route)
