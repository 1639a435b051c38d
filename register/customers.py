"""Customers in the register: the customers table and its contacts (create, read, change, list).

The identity fields' encryption is :mod:`register.identity_fields`, the rectification
history :mod:`register.history`, the search :mod:`register.search`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import asyncpg

from register.history import record_changes
from register.identity_fields import DOCUMENT, HETU, field_context, identity_columns
from register.staff import StaffDirectory
from register.validation import CustomerChange, NewCustomer
from storage.db import Connection, Pool
from storage.fieldcrypt import FieldCipher

CUSTOMER_COLUMNS: Final = """
c.id, c.customer_number, c.first_name, c.last_name, c.roles, c.status, c.language,
c.relationship_start, c.birth_date, c.hetu_encrypted, c.travel_document_encrypted, c.turvakielto,
c.turvakielto_start, c.turvakielto_end, c.assigned_advisor_id, c.created_at, c.updated_at
"""
SELECT_CUSTOMERS: Final = f"SELECT {CUSTOMER_COLUMNS} FROM customers c"
# What lists and searches show: no contacts, nothing to decrypt.
SELECT_SUMMARIES: Final = """
SELECT c.id, c.customer_number, c.first_name, c.last_name, c.roles, c.status, c.turvakielto
FROM customers c
"""
# Whether turvakielto applies to customer ``{c}`` on day ``{day}`` (open-ended dates count as
# in force), as SQL: the one definition, used by register/protection.py and the search.
PROTECTED: Final = (
    "({c}.turvakielto AND coalesce({c}.turvakielto_start <= {day}, true)"
    " AND coalesce({c}.turvakielto_end >= {day}, true))"
)
SELECT_NAMES: Final = """
SELECT id, NULLIF(concat_ws(', ', NULLIF(last_name, ''), NULLIF(first_name, '')), '') AS name
FROM customers WHERE id = ANY($1::uuid[])
"""
SELECT_SCOPE: Final = "SELECT assigned_advisor_id FROM customers WHERE id = $1"
INSERT_CUSTOMER: Final = """
INSERT INTO customers (id, customer_number, first_name, last_name, roles, status, language,
    relationship_start, birth_date, hetu_encrypted, hetu_index, travel_document_encrypted,
    travel_document_index, turvakielto, turvakielto_start, turvakielto_end, assigned_advisor_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
"""
# Simple columns a PATCH may change, and their SQL names.
SCALAR_FIELDS: Final = (
    "customer_number",
    "first_name",
    "last_name",
    "roles",
    "status",
    "language",
    "relationship_start",
    "turvakielto",
    "turvakielto_start",
    "turvakielto_end",
)


class RegisterConflict(Exception):
    """The change would duplicate a unique identifier; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownReference(Exception):
    """An id in the input points at nothing (a recording, say); ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Phone:
    """A customer's phone number (E.164) and its kind."""

    number: str
    type: str


@dataclass(frozen=True)
class Address:
    """A customer's postal address."""

    street: str
    postal_code: str
    city: str
    country: str = "FI"


@dataclass(frozen=True)
class CustomerSummary:
    """A line of a customer list or search result (the columns of ``SELECT_SUMMARIES``)."""

    id: uuid.UUID
    customer_number: str
    first_name: str
    last_name: str
    roles: list[str]
    status: str
    turvakielto: bool


@dataclass(frozen=True)
class Customer(CustomerSummary):
    """A person in a customer relationship, decrypted for the caller to mask as needed."""

    language: str
    relationship_start: date | None
    birth_date: date | None
    henkilotunnus: str | None
    travel_document: str | None
    turvakielto_start: date | None
    turvakielto_end: date | None
    assigned_advisor_id: uuid.UUID | None
    assigned_advisor: str | None
    phones: list[Phone]
    emails: list[str]
    addresses: list[Address]
    created_at: datetime
    updated_at: datetime


def summaries(rows: list[Any]) -> list[CustomerSummary]:
    """Summaries from rows of ``SELECT_SUMMARIES``."""
    return [CustomerSummary(**dict(row.items())) for row in rows]


@dataclass(frozen=True)
class Scope:
    """What an object-level check needs to know about a customer."""

    advisor_id: uuid.UUID | None


async def customer_scope(conn: Connection, customer_id: uuid.UUID) -> Scope | None:
    """The housing advisor assigned to the customer, without loading and decrypting the
    whole record; None if there is no such customer. (What is protected is
    register/protection.py's to say.)"""
    row = await conn.fetchrow(SELECT_SCOPE, customer_id)
    return None if row is None else Scope(row["assigned_advisor_id"])


async def customer_names(
    db: Connection | Pool, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str | None]:
    """ "Last, First" of each of these customers that exists (None for one without a name)."""
    if not ids:
        return {}
    rows = await db.fetch(SELECT_NAMES, list(ids))
    return {row["id"]: row["name"] for row in rows}


async def _advisor_id(
    conn: Connection, staff: StaffDirectory, username: str | None
) -> uuid.UUID | None:
    if username is None:
        return None
    advisor = (await staff.housing_advisors(conn, [username])).get(username)
    if advisor is None:
        raise RegisterConflict("assigned_advisor", "no active housing advisor has that username")
    return advisor


def _conflict(exc: asyncpg.UniqueViolationError) -> RegisterConflict:
    constraint = exc.constraint_name or ""
    if "hetu" in constraint:
        return RegisterConflict("henkilotunnus", "another customer has this henkilötunnus")
    if "travel_document" in constraint:
        return RegisterConflict("travel_document", "another customer has this document number")
    return RegisterConflict("customer_number", "another customer has this customer number")


ALL_CONTACTS: Final = frozenset({"phones", "emails", "addresses"})
LAST_NAME_OF: Final = 'lower({c}.last_name) COLLATE "C"'
LAST_NAME: Final = LAST_NAME_OF.format(c="c")
FIRST_NAME: Final = 'lower(c.first_name) COLLATE "C"'


async def _replace_contacts(
    conn: Connection,
    customer_id: uuid.UUID,
    data: CustomerChange,
    fields: set[str] | frozenset[str],
) -> None:
    if "phones" in fields:
        await conn.execute("DELETE FROM customer_phones WHERE customer_id = $1", customer_id)
        await conn.executemany(
            "INSERT INTO customer_phones (customer_id, number, kind) VALUES ($1, $2, $3)",
            [(customer_id, p.number, p.type) for p in data.phones],
        )
    if "emails" in fields:
        await conn.execute("DELETE FROM customer_emails WHERE customer_id = $1", customer_id)
        await conn.executemany(
            "INSERT INTO customer_emails (customer_id, email) VALUES ($1, $2)",
            [(customer_id, e) for e in data.emails],
        )
    if "addresses" in fields:
        await conn.execute("DELETE FROM customer_addresses WHERE customer_id = $1", customer_id)
        await conn.executemany(
            "INSERT INTO customer_addresses (id, customer_id, street, postal_code, city, country,"
            " position) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                (uuid.uuid4(), customer_id, a.street, a.postal_code, a.city, a.country, n)
                for n, a in enumerate(data.addresses)
            ],
        )


async def create_customer(
    conn: Connection, cipher: FieldCipher, staff: StaffDirectory, data: NewCustomer
) -> uuid.UUID:
    """Insert a customer with contacts in one transaction; raises :class:`RegisterConflict`."""
    customer_id = uuid.uuid4()
    async with conn.transaction():
        advisor = await _advisor_id(conn, staff, data.assigned_advisor)
        hetu = data.henkilotunnus
        try:
            await conn.execute(
                INSERT_CUSTOMER,
                customer_id,
                data.customer_number,
                data.first_name,
                data.last_name,
                data.roles,
                data.status,
                data.language,
                data.relationship_start,
                hetu.birth_date if hetu else None,
                *identity_columns(cipher, customer_id, data),
                data.turvakielto,
                data.turvakielto_start,
                data.turvakielto_end,
                advisor,
            )
        except asyncpg.UniqueViolationError as exc:
            raise _conflict(exc) from None
        await _replace_contacts(conn, customer_id, data, ALL_CONTACTS)
    return customer_id


async def contacts_of(
    conn: Connection, ids: list[uuid.UUID]
) -> tuple[
    dict[uuid.UUID, list[Phone]], dict[uuid.UUID, list[str]], dict[uuid.UUID, list[Address]]
]:
    """Phones, e-mails and addresses of each of the customers ``ids``."""
    phones: dict[uuid.UUID, list[Phone]] = {i: [] for i in ids}
    emails: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    addresses: dict[uuid.UUID, list[Address]] = {i: [] for i in ids}
    for row in await conn.fetch(
        "SELECT customer_id, number, kind FROM customer_phones WHERE customer_id = ANY($1)"
        " ORDER BY number",
        ids,
    ):
        phones[row["customer_id"]].append(Phone(row["number"], row["kind"]))
    for row in await conn.fetch(
        "SELECT customer_id, email FROM customer_emails WHERE customer_id = ANY($1) ORDER BY email",
        ids,
    ):
        emails[row["customer_id"]].append(row["email"])
    for row in await conn.fetch(
        "SELECT customer_id, street, postal_code, city, country FROM customer_addresses"
        " WHERE customer_id = ANY($1) ORDER BY position",
        ids,
    ):
        addresses[row["customer_id"]].append(
            Address(row["street"], row["postal_code"], row["city"], row["country"])
        )
    return phones, emails, addresses


async def _customers(
    conn: Connection, cipher: FieldCipher, staff: StaffDirectory, rows: list[Any]
) -> list[Customer]:
    ids = [row["id"] for row in rows]
    phones, emails, addresses = await contacts_of(conn, ids)
    advisors = {row["assigned_advisor_id"] for row in rows if row["assigned_advisor_id"]}
    names = await staff.names_of(conn, advisors) if advisors else {}
    customers = []
    for row in rows:
        cid = row["id"]
        hetu, document = row["hetu_encrypted"], row["travel_document_encrypted"]
        customers.append(
            Customer(
                id=cid,
                customer_number=row["customer_number"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                roles=list(row["roles"]),
                status=row["status"],
                language=row["language"],
                relationship_start=row["relationship_start"],
                birth_date=row["birth_date"],
                henkilotunnus=cipher.decrypt(hetu, field_context(HETU, cid)) if hetu else None,
                travel_document=(
                    cipher.decrypt(document, field_context(DOCUMENT, cid)) if document else None
                ),
                turvakielto=row["turvakielto"],
                turvakielto_start=row["turvakielto_start"],
                turvakielto_end=row["turvakielto_end"],
                assigned_advisor_id=row["assigned_advisor_id"],
                assigned_advisor=names.get(row["assigned_advisor_id"]),
                phones=phones[cid],
                emails=emails[cid],
                addresses=addresses[cid],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
        )
    return customers


async def get_customer(
    conn: Connection, cipher: FieldCipher, staff: StaffDirectory, customer_id: uuid.UUID
) -> Customer | None:
    """One customer with contacts, decrypted, with their housing advisor's username."""
    rows = await conn.fetch(SELECT_CUSTOMERS + " WHERE c.id = $1", customer_id)
    found = await _customers(conn, cipher, staff, list(rows))
    return found[0] if found else None


async def update_customer(
    conn: Connection,
    cipher: FieldCipher,
    staff: StaffDirectory,
    customer: Customer,
    data: CustomerChange,
    changed_by: uuid.UUID,
) -> list[str]:
    """Apply the fields ``data`` carries; write one rectification per changed field.

    Returns the names of the fields that really changed (setting a value to itself is no
    change and leaves no history).
    """
    async with conn.transaction():
        changed = await record_changes(conn, cipher, customer, data, changed_by)
        if not changed:
            return []
        sets: list[str] = []
        args: list[object] = [customer.id]
        for name in SCALAR_FIELDS:
            if name in changed:
                args.append(getattr(data, name))
                sets.append(f"{name} = ${len(args)}")
        if "henkilotunnus" in changed or "travel_document" in changed:
            hetu_enc, hetu_idx, doc_enc, doc_idx = identity_columns(cipher, customer.id, data)
            if "henkilotunnus" in changed:
                birth = data.henkilotunnus.birth_date if data.henkilotunnus else None
                for column, value in (
                    ("hetu_encrypted", hetu_enc),
                    ("hetu_index", hetu_idx),
                    ("birth_date", birth),
                ):
                    args.append(value)
                    sets.append(f"{column} = ${len(args)}")
            if "travel_document" in changed:
                for column, value in (
                    ("travel_document_encrypted", doc_enc),
                    ("travel_document_index", doc_idx),
                ):
                    args.append(value)
                    sets.append(f"{column} = ${len(args)}")
        if "assigned_advisor" in changed:
            args.append(await _advisor_id(conn, staff, data.assigned_advisor))
            sets.append(f"assigned_advisor_id = ${len(args)}")
        try:
            await conn.execute(
                f"UPDATE customers SET {', '.join([*sets, 'updated_at = now()'])} WHERE id = $1",
                *args,
            )
        except asyncpg.UniqueViolationError as exc:
            raise _conflict(exc) from None
        await _replace_contacts(conn, customer.id, data, data.present)
    return changed


async def list_customers(
    conn: Connection,
    *,
    after: uuid.UUID | None,
    advisor_id: uuid.UUID | None,
    limit: int,
) -> list[CustomerSummary]:
    """Customers by last name, keyset-paged after the customer ``after`` (by id only: the
    cursor travels in a URL, so it must not hold the name; a customer erased meanwhile ends
    the list)."""
    clauses: list[str] = []
    args: list[object] = []
    if advisor_id is not None:
        args.append(advisor_id)
        clauses.append("c.assigned_advisor_id = $1")
    if after is not None:
        args.append(after)
        last = LAST_NAME_OF.format(c="a")
        scope = " AND a.assigned_advisor_id = $1" if advisor_id is not None else ""
        clauses.append(
            f"({LAST_NAME}, c.id) > "
            f"(SELECT {last}, a.id FROM customers a WHERE a.id = ${len(args)}{scope})"
        )
    args.append(limit)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = await conn.fetch(
        SELECT_SUMMARIES + f"{where} ORDER BY {LAST_NAME}, c.id LIMIT ${len(args)}", *args
    )
    return summaries(list(rows))
