"""Customers in the register: create, read, change (with rectification history), search.

Henkilötunnus and travel-document numbers are encrypted per row (context = column and
customer id) with a blind index for exact lookup. Every change writes one rectification row
per field with the old and new value encrypted, so a correction can be shown and undone.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Final

import asyncpg

from register.identity import parse_henkilotunnus
from register.phones import normalise_phone
from register.validation import Address, CustomerInput, Phone
from storage.db import Connection
from storage.fieldcrypt import FieldCipher

HETU: Final = "hetu"
DOCUMENT: Final = "travel_document"
CUSTOMER_COLUMNS: Final = """
c.id, c.customer_number, c.first_name, c.last_name, c.roles, c.status, c.language,
c.relationship_start, c.birth_date, c.hetu_encrypted, c.travel_document_encrypted, c.turvakielto,
c.turvakielto_start, c.turvakielto_end, c.assigned_advisor_id, u.username AS assigned_advisor,
c.created_at, c.updated_at
"""
SELECT_CUSTOMERS: Final = f"""
SELECT {CUSTOMER_COLUMNS} FROM customers c LEFT JOIN users u ON u.id = c.assigned_advisor_id
"""
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
SELECT_SCOPE: Final = "SELECT assigned_advisor_id FROM customers WHERE id = $1"
INSERT_CUSTOMER: Final = """
INSERT INTO customers (id, customer_number, first_name, last_name, roles, status, language,
    relationship_start, birth_date, hetu_encrypted, hetu_index, travel_document_encrypted,
    travel_document_index, turvakielto, turvakielto_start, turvakielto_end, assigned_advisor_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
"""
SELECT_ADVISOR: Final = """
SELECT id FROM users WHERE username = $1 AND 'housing_advisor' = ANY (roles) AND NOT disabled
"""
INSERT_RECTIFICATION: Final = """
INSERT INTO rectifications (id, customer_id, field, old_encrypted, new_encrypted, changed_by)
VALUES ($1, $2, $3, $4, $5, $6)
"""
HISTORY_COLUMNS: Final = """
SELECT r.id, r.field, r.old_encrypted, r.new_encrypted, r.at, u.username AS changed_by
FROM rectifications r LEFT JOIN users u ON u.id = r.changed_by
"""
SELECT_HISTORY: Final = (
    HISTORY_COLUMNS + "WHERE r.customer_id = $1 ORDER BY r.at DESC, r.id DESC LIMIT 500"
)
SELECT_CHANGE: Final = HISTORY_COLUMNS + "WHERE r.customer_id = $1 AND r.id = $2"
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


def _summaries(rows: list[Any]) -> list[CustomerSummary]:
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


def field_context(column: str, customer_id: uuid.UUID) -> str:
    """The associated data that binds an encrypted column value to its row."""
    return f"customers.{column}:{customer_id}"


def identity_columns(
    cipher: FieldCipher, customer_id: uuid.UUID, data: CustomerInput
) -> tuple[bytes | None, bytes | None, bytes | None, bytes | None]:
    """Encrypted value and blind index of the henkilötunnus, then of the travel document."""
    hetu = data.henkilotunnus
    document = data.travel_document
    return (
        cipher.encrypt(hetu.value, field_context(HETU, customer_id)) if hetu else None,
        cipher.blind_index(HETU, hetu.value) if hetu else None,
        cipher.encrypt(document, field_context(DOCUMENT, customer_id)) if document else None,
        cipher.blind_index(DOCUMENT, document.upper()) if document else None,
    )


async def _advisor_id(conn: Connection, username: str | None) -> uuid.UUID | None:
    if username is None:
        return None
    advisor: uuid.UUID | None = await conn.fetchval(SELECT_ADVISOR, username)
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
LAST_NAME: Final = 'lower(c.last_name) COLLATE "C"'
FIRST_NAME: Final = 'lower(c.first_name) COLLATE "C"'


async def _replace_contacts(
    conn: Connection, customer_id: uuid.UUID, data: CustomerInput, fields: set[str] | frozenset[str]
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


async def create_customer(conn: Connection, cipher: FieldCipher, data: CustomerInput) -> uuid.UUID:
    """Insert a customer with contacts in one transaction; raises :class:`RegisterConflict`."""
    customer_id = uuid.uuid4()
    async with conn.transaction():
        advisor = await _advisor_id(conn, data.assigned_advisor)
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


async def _customers(conn: Connection, cipher: FieldCipher, rows: list[Any]) -> list[Customer]:
    ids = [row["id"] for row in rows]
    phones, emails, addresses = await contacts_of(conn, ids)
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
                assigned_advisor=row["assigned_advisor"],
                phones=phones[cid],
                emails=emails[cid],
                addresses=addresses[cid],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
        )
    return customers


async def get_customer(
    conn: Connection, cipher: FieldCipher, customer_id: uuid.UUID
) -> Customer | None:
    """One customer with contacts, decrypted."""
    rows = await conn.fetch(SELECT_CUSTOMERS + " WHERE c.id = $1", customer_id)
    found = await _customers(conn, cipher, list(rows))
    return found[0] if found else None


def _history_value(value: object) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def _current_value(customer: Customer, name: str) -> object:
    if name in ("phones", "addresses"):
        return [asdict(item) for item in getattr(customer, name)]
    if name == "assigned_advisor":
        return customer.assigned_advisor
    return getattr(customer, name)


def _new_value(data: CustomerInput, name: str) -> object:
    value = getattr(data, name)
    if name == "henkilotunnus":
        return value.value if value is not None else None
    if name in ("phones", "addresses"):
        return [asdict(item) for item in value]
    return value


async def update_customer(
    conn: Connection,
    cipher: FieldCipher,
    customer: Customer,
    data: CustomerInput,
    changed_by: uuid.UUID,
) -> list[str]:
    """Apply the fields ``data`` carries; write one rectification per changed field.

    Returns the names of the fields that really changed (setting a value to itself is no
    change and leaves no history).
    """
    changed: list[str] = []
    async with conn.transaction():
        for name in sorted(data.present):
            old, new = _current_value(customer, name), _new_value(data, name)
            if _history_value(old) == _history_value(new):
                continue
            changed.append(name)
            rect_id = uuid.uuid4()
            await conn.execute(
                INSERT_RECTIFICATION,
                rect_id,
                customer.id,
                name,
                cipher.encrypt(_history_value(old), f"rectifications.old:{rect_id}"),
                cipher.encrypt(_history_value(new), f"rectifications.new:{rect_id}"),
                changed_by,
            )
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
            args.append(await _advisor_id(conn, data.assigned_advisor))
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


def _change(cipher: FieldCipher, row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "field": row["field"],
        "old": json.loads(cipher.decrypt(row["old_encrypted"], f"rectifications.old:{row['id']}")),
        "new": json.loads(cipher.decrypt(row["new_encrypted"], f"rectifications.new:{row['id']}")),
        "changed_by": row["changed_by"],
        "at": row["at"].isoformat(),
    }


async def history(
    conn: Connection, cipher: FieldCipher, customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The customer's rectifications, newest first (the latest 500), decrypted."""
    return [_change(cipher, row) for row in await conn.fetch(SELECT_HISTORY, customer_id)]


async def change_of(
    conn: Connection, cipher: FieldCipher, customer_id: uuid.UUID, change_id: uuid.UUID
) -> dict[str, Any] | None:
    """One rectification of this customer, decrypted; None when there is no such change."""
    row = await conn.fetchrow(SELECT_CHANGE, customer_id, change_id)
    return None if row is None else _change(cipher, row)


def prefix_range(text: str) -> tuple[str, str]:
    """``[low, high)`` holding every lower-case string that starts with ``text`` (code-point,
    i.e. "C" collation, order)."""
    low = text.lower()
    return low, low[:-1] + chr(ord(low[-1]) + 1)


@dataclass(frozen=True)
class SearchQuery:
    """What the free-text ``q`` turned out to be."""

    kind: str  # henkilotunnus | phone | text
    value: str


def classify_query(q: str) -> SearchQuery:
    """Decide whether ``q`` is an identity code, a phone number or a name/customer number."""
    text = q.strip()
    try:
        return SearchQuery("henkilotunnus", parse_henkilotunnus(text).value)
    except ValueError:
        pass
    if re.fullmatch(r"[+\d][\d\s()-]{4,}", text) and sum(ch.isdigit() for ch in text) >= 6:
        try:
            return SearchQuery("phone", normalise_phone(text))
        except ValueError:
            pass
    return SearchQuery("text", text)


async def search_customers(
    conn: Connection,
    cipher: FieldCipher,
    query: SearchQuery,
    *,
    advisor_id: uuid.UUID | None,
    limit: int,
    hide_protected_on: date | None = None,
) -> list[CustomerSummary]:
    """Customers matching ``query``; only an advisor's own customers when ``advisor_id``.

    With ``hide_protected_on`` (a reader without the task), a phone number that a person
    under turvakielto has on that day finds nobody: the answer would confirm protected
    contact data.

    A name prefix is a range on the "C"-collated lower-case name (``>= 'mäki'`` and
    ``< 'mäkj'``), not ``LIKE``: a range keeps using the index in the generic plans
    PostgreSQL switches prepared statements to, where ``LIKE $1`` falls back to a scan.
    Each alternative (customer number, last name, first name) is its own indexed, limited
    subquery; an OR across them made the planner walk the whole name index.
    """
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    def name_range(column: str, prefix: str) -> str:
        low, high = prefix_range(prefix)
        return f"{column} >= {arg(low)} AND {column} < {arg(high)}"

    if query.kind == "henkilotunnus":
        alternatives = [f"c.hetu_index = {arg(cipher.blind_index(HETU, query.value))}"]
    elif query.kind == "phone":
        number = arg(query.value)
        alternatives = [
            f"c.id IN (SELECT customer_id FROM customer_phones WHERE number = {number})"
        ]
        if hide_protected_on is not None:
            alternatives[0] += (
                " AND NOT EXISTS (SELECT 1 FROM customer_phones o JOIN customers pc"
                f" ON pc.id = o.customer_id WHERE o.number = {number}"
                f" AND {PROTECTED.format(c='pc', day=arg(hide_protected_on))})"
            )
    else:
        words = query.value.split()
        alternatives = [f"c.customer_number = {arg(query.value)}"]
        if len(words) == 1:
            alternatives.append(name_range(LAST_NAME, words[0]))
            alternatives.append(name_range(FIRST_NAME, words[0]))
        elif len(words) >= 2:
            first, rest = words[0], " ".join(words[1:])
            alternatives.append(
                f"{name_range(LAST_NAME, rest)} AND {name_range(FIRST_NAME, first)}"
            )
            alternatives.append(
                f"{name_range(LAST_NAME, first)} AND {name_range(FIRST_NAME, rest)}"
            )
    scope = "" if advisor_id is None else f" AND c.assigned_advisor_id = {arg(advisor_id)}"
    limit_arg = arg(limit)
    subqueries = " UNION ".join(
        f"(SELECT c.id FROM customers c WHERE {alternative}{scope}"
        f" ORDER BY {LAST_NAME}, c.id LIMIT {limit_arg})"
        for alternative in alternatives
    )
    rows = await conn.fetch(
        SELECT_SUMMARIES
        + f" WHERE c.id IN ({subqueries}) ORDER BY {LAST_NAME}, c.id LIMIT {limit_arg}",
        *args,
    )
    return _summaries(list(rows))


async def list_customers(
    conn: Connection,
    *,
    after: tuple[str, uuid.UUID] | None,
    advisor_id: uuid.UUID | None,
    limit: int,
) -> list[CustomerSummary]:
    """Customers by last name, keyset-paged after ``(lower(last_name), id)``."""
    clauses: list[str] = []
    args: list[object] = []
    if after is not None:
        args.extend(after)
        clauses.append(f"({LAST_NAME}, c.id) > ($1, $2)")
    if advisor_id is not None:
        args.append(advisor_id)
        clauses.append(f"c.assigned_advisor_id = ${len(args)}")
    args.append(limit)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = await conn.fetch(
        SELECT_SUMMARIES + f"{where} ORDER BY {LAST_NAME}, c.id LIMIT ${len(args)}", *args
    )
    return _summaries(list(rows))
