"""The customer register over HTTP: ``/v1/customers``, search, history and contact log.

Who sees what (ARCHITECTURE.md section 5): customer service reads and writes; the data
protection officer reads; a housing advisor reads only the customers assigned to them and
never the henkilötunnus. Address and contact data of a person under turvakielto, and any
address shared with one, is masked for every role without the task (here: housing
advisors); register/protection.py decides what is protected. An unmasked read of protected
data is audited as such. Identifiers to search by travel in the POST body.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler

from accounts.roles import Permission
from accounts.users import User, housing_advisors, names_of
from api.appkeys import CURRENT_USER, POOL, field_cipher
from api.auditing import record_access, refuse
from api.bodies import json_body, takes
from api.pagination import (
    decode_cursor,
    encode_cursor,
    next_time_cursor,
    page_limit,
    time_cursor_or_start,
)
from api.permissions import Forbidden, requires
from api.register_bodies import CustomerSearch, LogBody, NewContact, NewDisclosure, NewPreference
from common.errors import Conflict, NotFound, Problem, ValidationProblem, field_error
from common.inputs import parse_id
from common.jsonready import json_ready
from common.models import validate_body
from register.consents import (
    add_preference,
    current_preferences,
    list_preferences,
)
from register.contact_log import add_entry, list_entries
from register.customers import (
    Customer,
    RegisterConflict,
    UnknownReference,
    create_customer,
    customer_names,
    customer_scope,
    get_customer,
    list_customers,
    update_customer,
)
from register.disclosures import add_disclosure, list_disclosures
from register.history import change_of, history
from register.leases import current_leases
from register.protection import (
    Protection,
    Reader,
    history_numbers,
    mask_contacts,
    mask_leases,
    protection_of,
    visible_history,
)
from register.search import classify_query, search_customers
from register.staff import StaffDirectory
from register.validation import CustomerChange, NewCustomer
from storage.db import Connection, Pool
from storage.fieldcrypt import FieldCipher

# The accounts the register names (accounts/ owns them; register/ may not import it).
STAFF: Final = StaffDirectory(names_of=names_of, housing_advisors=housing_advisors)


async def with_customer_names(db: Pool | Connection, items: list[dict[str, Any]]) -> None:
    """Put ``customer_name`` beside each ``customer_id`` of ``items``: staff who may see the
    customer (the callers' roles read the register in full) find a person by name, not by
    a UUID. A customer since erased has no name (null)."""
    ids = {uuid.UUID(str(item["customer_id"])) for item in items if item.get("customer_id")}
    names = await customer_names(db, ids)
    for item in items:
        if "customer_id" in item:
            found = uuid.UUID(str(item["customer_id"])) if item["customer_id"] else None
            item["customer_name"] = names.get(found) if found else None


def full_view(user: User) -> bool:
    """Customer service and the DPO see identity codes and protected contact data."""
    return bool({"customer_service", "dpo"} & set(user.roles))


def advisor_scope(user: User) -> uuid.UUID | None:
    """A housing advisor (without a fuller role) sees only their own customers."""
    return None if full_view(user) else user.id


def reader_of(user: User) -> Reader:
    """Who ``user`` is for turvakielto: with the task (customer service, the DPO) or not."""
    return Reader(sees_protected=full_view(user))


def customer_document(customer: Customer, reader: Reader, protection: Protection) -> dict[str, Any]:
    """The customer as JSON, protected data masked for ``reader``; identity codes only for
    the full view (customer service and the DPO, who also see protected data)."""
    document: dict[str, Any] = {
        "id": str(customer.id),
        "customer_number": customer.customer_number,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "roles": customer.roles,
        "status": customer.status,
        "language": customer.language,
        "relationship_start": _iso(customer.relationship_start),
        "birth_date": _iso(customer.birth_date),
        "turvakielto": customer.turvakielto,
        "turvakielto_start": _iso(customer.turvakielto_start),
        "turvakielto_end": _iso(customer.turvakielto_end),
        "assigned_advisor": customer.assigned_advisor,
        "phones": [{"number": p.number, "type": p.type} for p in customer.phones],
        "emails": customer.emails,
        "addresses": [
            {"street": a.street, "postal_code": a.postal_code, "city": a.city, "country": a.country}
            for a in customer.addresses
        ],
        "created_at": customer.created_at.isoformat(),
        "updated_at": customer.updated_at.isoformat(),
    }
    if reader.sees_protected:
        document["henkilotunnus"] = customer.henkilotunnus
        document["travel_document"] = customer.travel_document
    return mask_contacts(document, protection, reader)


async def protection_for(conn: Connection, customer: Customer) -> Protection:
    """What of ``customer``'s data is someone's protected data today."""
    return await protection_of(conn, customer.id, today(), [p.number for p in customer.phones])


async def document_for(
    request: web.Request, conn: Connection, customer: Customer
) -> dict[str, Any]:
    """The customer as the caller may see them."""
    protection = await protection_for(conn, customer)
    return customer_document(customer, reader_of(request[CURRENT_USER]), protection)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def today() -> date:
    """The day turvakielto and leases are judged on."""
    return datetime.now(UTC).date()


async def _check_scope(
    request: web.Request, customer_id: uuid.UUID, exists: bool, advisor_id: uuid.UUID | None
) -> None:
    """The object-level check: 404 for no such customer, or (audited) for one that is not
    this housing advisor's."""
    if not exists:
        raise NotFound("no such customer")
    scope = advisor_scope(request[CURRENT_USER])
    if scope is not None and advisor_id != scope:
        await refuse(
            request,
            NotFound("no such customer among yours"),
            object_type="customer",
            object_id=customer_id,
        )


async def visible_customer(request: web.Request) -> Customer:
    """The whole customer in the path, decrypted, if this caller may see them."""
    customer_id = parse_id(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        customer = await get_customer(conn, field_cipher(request), STAFF, customer_id)
    advisor = customer.assigned_advisor_id if customer else None
    await _check_scope(request, customer_id, customer is not None, advisor)
    assert customer is not None
    return customer


async def visible_customer_id(request: web.Request) -> uuid.UUID:
    """The id of the customer in the path, checked like :func:`visible_customer` but without
    loading the record: for routes about the customer's logs, leases and links."""
    customer_id = parse_id(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        scope = await customer_scope(conn, customer_id)
    advisor = scope.advisor_id if scope else None
    await _check_scope(request, customer_id, scope is not None, advisor)
    return customer_id


@asynccontextmanager
async def register_connection(request: web.Request) -> AsyncIterator[Connection]:
    """A pooled connection on which a :class:`RegisterConflict` becomes a 409 naming the
    field."""
    async with request.app[POOL].acquire() as conn:
        try:
            yield conn
        except RegisterConflict as exc:
            raise conflict_problem(exc) from None


def conflict_problem(exc: RegisterConflict) -> Problem:
    """409 naming the field whose value is taken (or, for a missing party, 409 too)."""
    return Conflict(str(exc), errors=[field_error(exc.field, str(exc))])


@requires(Permission.WRITE_REGISTER)
@takes(NewCustomer)
async def create_route(request: web.Request) -> web.Response:
    """``POST /v1/customers``: a new customer with contacts."""
    data = await json_body(request, NewCustomer)
    cipher = field_cipher(request)
    async with register_connection(request) as conn:
        customer_id = await create_customer(conn, cipher, STAFF, data)
        customer = await get_customer(conn, cipher, STAFF, customer_id)
        assert customer is not None
        document = await document_for(request, conn, customer)
    await record_access(request, "customer.create", object_type="customer", object_id=customer_id)
    return web.json_response(
        document, status=201, headers={"Location": f"/v1/customers/{customer_id}"}
    )


@requires(Permission.READ_REGISTER)
async def get_route(request: web.Request) -> web.Response:
    """``GET /v1/customers/{id}``: the record with the leases in force and the marketing
    consent or ban in force per kind, so the person on the phone sees them at once."""
    customer = await visible_customer(request)
    reader = reader_of(request[CURRENT_USER])
    async with request.app[POOL].acquire() as conn:
        protection = await protection_for(conn, customer)
        leases = await current_leases(conn, customer.id, today())
        marketing = await current_preferences(conn, customer.id)
    shown = protection.anyone and reader.sees_protected
    action = "customer.view_protected" if shown else "customer.view"
    await record_access(request, action, object_type="customer", object_id=customer.id)
    document = customer_document(customer, reader, protection) | {
        "current_leases": mask_leases(json_ready(leases), protection, reader),
        "marketing": json_ready(marketing),
    }
    return web.json_response(document)


@requires(Permission.WRITE_REGISTER)
@takes(CustomerChange)
async def update_route(request: web.Request) -> web.Response:
    """``PATCH /v1/customers/{id}``: change the fields sent; each change is kept in history."""
    customer = await visible_customer(request)
    change = await json_body(request, CustomerChange)
    return await _apply_change(request, customer, change, "customer.update")


async def _apply_change(
    request: web.Request, customer: Customer, data: CustomerChange, action: str
) -> web.Response:
    cipher = field_cipher(request)
    async with register_connection(request) as conn:
        changed = await update_customer(
            conn, cipher, STAFF, customer, data, request[CURRENT_USER].id
        )
        updated = await get_customer(conn, cipher, STAFF, customer.id)
        assert updated is not None
        document = await document_for(request, conn, updated)
    if changed:
        await record_access(
            request,
            action,
            object_type="customer",
            object_id=customer.id,
            details={"fields": ",".join(changed)},
        )
    return web.json_response(document)


@requires(Permission.WRITE_REGISTER)
async def undo_route(request: web.Request) -> web.Response:
    """``POST /v1/customers/{id}/history/{change_id}/undo``: put the field back to the value
    it had before that change (itself a change, kept in the history)."""
    customer = await visible_customer(request)
    change_id = parse_id(request.match_info["change_id"], "change_id")
    async with request.app[POOL].acquire() as conn:
        change = await change_of(conn, field_cipher(request), STAFF, customer.id, change_id)
    if change is None:
        raise NotFound("no such change of this customer")
    undo = validate_body({change.field: change.old}, CustomerChange)
    return await _apply_change(request, customer, undo, "customer.undo")


@requires(Permission.READ_REGISTER)
async def history_route(request: web.Request) -> web.Response:
    """``GET /v1/customers/{id}/history``: every change, old and new value, who and when.

    A housing advisor gets the history of their own customers without identity codes and
    without changes of contact data that is protected (see register/protection.py)."""
    customer = await visible_customer(request)
    reader = reader_of(request[CURRENT_USER])
    async with request.app[POOL].acquire() as conn:
        items = await history(conn, field_cipher(request), STAFF, customer.id)
        numbers = [p.number for p in customer.phones] + sorted(history_numbers(items))
        protection = await protection_of(conn, customer.id, today(), numbers)
    if not reader.sees_protected:
        items = [i for i in items if i.field not in {"henkilotunnus", "travel_document"}]
    items = visible_history(items, protection, reader)
    await record_access(request, "customer.history", object_type="customer", object_id=customer.id)
    return web.json_response({"items": json_ready(items)})


@requires(Permission.READ_REGISTER)
async def list_route(request: web.Request) -> web.Response:
    """``GET /v1/customers?cursor=&limit=``: by last name; advisors see their own only."""
    limit = page_limit(request.query)
    key = decode_cursor(request.query.get("cursor"), 1)
    after = None
    if key is not None:
        try:
            after = uuid.UUID(str(key[0]))
        except ValueError:
            raise ValidationProblem([field_error("cursor", "use the 'next' value")]) from None
    async with request.app[POOL].acquire() as conn:
        found = await list_customers(
            conn, after=after, advisor_id=advisor_scope(request[CURRENT_USER]), limit=limit
        )
    last = found[-1] if len(found) == limit else None
    next_cursor = encode_cursor(str(last.id)) if last else None  # no name in a URL
    return web.json_response(
        {"items": [asdict(c) | {"id": str(c.id)} for c in found], "next": next_cursor}
    )


@requires(Permission.READ_REGISTER)
@takes(CustomerSearch)
async def search_route(request: web.Request) -> web.Response:
    """``POST /v1/customers/search {"q"}``: name prefix, phone, customer number or
    henkilötunnus (exact, through the blind index)."""
    search = await json_body(request, CustomerSearch)
    q, limit = search.q, search.limit
    user = request[CURRENT_USER]
    query = classify_query(q)
    if query.kind == "henkilotunnus" and not full_view(user):
        await refuse(request, Forbidden("searching by henkilötunnus is not part of your task"))
    async with request.app[POOL].acquire() as conn:
        found = await search_customers(
            conn,
            field_cipher(request),
            query,
            advisor_id=advisor_scope(user),
            limit=limit,
            hide_protected_on=None if reader_of(user).sees_protected else today(),
        )
    await record_access(
        request, "customer.search", details={"kind": query.kind, "results": len(found)}
    )
    items = [asdict(c) | {"id": str(c.id)} for c in found]
    return web.json_response({"items": items, "next": None})


# (conn, [cipher,] staff, customer, before, limit) and (conn, [cipher,] customer, entry, by)
Lister = Callable[..., Awaitable[Sequence[object]]]
Adder = Callable[..., Awaitable[tuple[uuid.UUID, datetime]]]


def customer_log(
    name: str, lister: Lister, model: type[LogBody], adder: Adder, *, sealed: bool = False
) -> tuple[Handler, Handler]:
    """GET (paged, newest first) and POST handlers for a per-customer log such as the
    contact log or the disclosure log; reads and additions are audited. A ``sealed`` log
    keeps free text under the field cipher: its functions take it after the connection."""

    def cipher_of(request: web.Request) -> tuple[FieldCipher, ...]:
        return (field_cipher(request),) if sealed else ()

    @requires(Permission.READ_REGISTER)
    async def list_log(request: web.Request) -> web.Response:
        customer_id = await visible_customer_id(request)
        limit = page_limit(request.query)
        before = time_cursor_or_start(request.query.get("cursor"))
        async with request.app[POOL].acquire() as conn:
            found = await lister(conn, *cipher_of(request), STAFF, customer_id, before, limit)
            items = json_ready(found)
        await record_access(
            request, f"customer.{name}", object_type="customer", object_id=customer_id
        )
        return web.json_response({"items": items, "next": next_time_cursor(items, limit)})

    @requires(Permission.WRITE_REGISTER)
    @takes(model)
    async def add_to_log(request: web.Request) -> web.Response:
        customer_id = await visible_customer_id(request)
        entry = (await json_body(request, model)).entry()
        async with request.app[POOL].acquire() as conn:
            try:
                entry_id, at = await adder(
                    conn, *cipher_of(request), customer_id, entry, request[CURRENT_USER].id
                )
            except UnknownReference as exc:
                raise ValidationProblem([field_error(exc.field, str(exc))]) from None
        await record_access(
            request, f"customer.{name}_add", object_type="customer", object_id=customer_id
        )
        return web.json_response({"id": str(entry_id), "at": at.isoformat()}, status=201)

    list_log.__doc__ = (
        f"``GET /v1/customers/{{id}}/{name}?cursor=&limit=``: the {name}, newest first."
    )
    add_to_log.__doc__ = f"``POST /v1/customers/{{id}}/{name}``: add an entry to the {name}."
    return list_log, add_to_log


contacts_route, add_contact_route = customer_log(
    "contacts", list_entries, NewContact, add_entry, sealed=True
)
disclosures_route, add_disclosure_route = customer_log(
    "disclosures", list_disclosures, NewDisclosure, add_disclosure
)
marketing_route, add_marketing_route = customer_log(
    "marketing", list_preferences, NewPreference, add_preference
)


def add_routes(app: web.Application) -> None:
    """Register the customer routes."""
    app.router.add_get("/v1/customers", list_route)
    app.router.add_post("/v1/customers", create_route)
    app.router.add_post("/v1/customers/search", search_route)
    app.router.add_get("/v1/customers/{id}", get_route)
    app.router.add_patch("/v1/customers/{id}", update_route)
    app.router.add_get("/v1/customers/{id}/history", history_route)
    app.router.add_post("/v1/customers/{id}/history/{change_id}/undo", undo_route)
    app.router.add_get("/v1/customers/{id}/contacts", contacts_route)
    app.router.add_post("/v1/customers/{id}/contacts", add_contact_route)
    app.router.add_get("/v1/customers/{id}/disclosures", disclosures_route)
    app.router.add_post("/v1/customers/{id}/disclosures", add_disclosure_route)
    app.router.add_get("/v1/customers/{id}/marketing", marketing_route)
    app.router.add_post("/v1/customers/{id}/marketing", add_marketing_route)
