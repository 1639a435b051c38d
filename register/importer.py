"""Bulk import of customers from a legacy register export (CSV), idempotent on customer number.

Every row goes through the same model as the API's body (:class:`NewCustomer`); a rejected
row is reported by line number and field names, never by its values. Rows are written in
batches, each one ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING`` per table, so
a rerun of the same file adds nothing and 100 000 rows take seconds, not minutes.

Columns (header row required; only the first four are mandatory):
``customer_number, first_name, last_name, roles`` (``;``-separated), ``henkilotunnus``,
``travel_document``, ``language``, ``status``, ``relationship_start``, ``turvakielto``
(true/false), ``turvakielto_start``, ``turvakielto_end``, ``phones`` (``;``-separated,
each ``number`` or ``number:type``), ``emails`` (``;``-separated), ``street``,
``postal_code``, ``city``, ``assigned_advisor`` (a housing advisor's username).
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from common.errors import ValidationProblem
from common.models import validate_body
from register.identity_fields import identity_columns
from register.validation import NewCustomer
from storage.db import Pool
from storage.fieldcrypt import FieldCipher

BATCH: Final = 2000
REQUIRED: Final = ("customer_number", "first_name", "last_name", "roles")
HEADER_ORDER: Final = (
    *REQUIRED,
    "henkilotunnus", "travel_document", "language", "status", "relationship_start",
    "turvakielto", "turvakielto_start", "turvakielto_end", "phones", "emails", "street",
    "postal_code", "city", "assigned_advisor",
)  # fmt: skip
KNOWN: Final = frozenset(HEADER_ORDER)
ADDRESS: Final = ("street", "postal_code", "city")
# Cells that become lists or booleans in the API body rather than being copied as text.
RESHAPED: Final = frozenset({"roles", "turvakielto", "phones", "emails", *ADDRESS})
INSERT_CUSTOMERS: Final = """
INSERT INTO customers (id, customer_number, first_name, last_name, roles, status, language,
    relationship_start, birth_date, hetu_encrypted, hetu_index, travel_document_encrypted,
    travel_document_index, turvakielto, turvakielto_start, turvakielto_end, assigned_advisor_id)
SELECT id, num, fn, ln, string_to_array(r, ','), st, lang, rs, bd, he, hi, de, di, tk, ts, te, adv
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::date[], $9::date[], $10::bytea[], $11::bytea[], $12::bytea[], $13::bytea[],
            $14::bool[], $15::date[], $16::date[], $17::uuid[])
     AS t(id, num, fn, ln, r, st, lang, rs, bd, he, hi, de, di, tk, ts, te, adv)
ON CONFLICT DO NOTHING
RETURNING id
"""
INSERT_PHONES: Final = """
INSERT INTO customer_phones (customer_id, number, kind)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING
"""
INSERT_EMAILS: Final = """
INSERT INTO customer_emails (customer_id, email)
SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING
"""
INSERT_ADDRESSES: Final = """
INSERT INTO customer_addresses (id, customer_id, street, postal_code, city, country)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])
"""
# Read the file with ``errors="surrogateescape"``: a byte that is not UTF-8 becomes a lone
# surrogate, which this finds, so one bad cell rejects its row instead of ending the import.
NOT_UTF8: Final = re.compile("[\ud800-\udfff]")
SELECT_EXISTING: Final = "SELECT customer_number FROM customers WHERE customer_number = ANY($1)"


class ImportFileError(Exception):
    """The file as a whole cannot be imported (wrong columns)."""


@dataclass
class ImportReport:
    """What happened to each row."""

    rows: int = 0
    imported: int = 0
    already_present: int = 0
    rejected: list[tuple[int, list[dict[str, str]]]] = field(default_factory=list)


def check_columns(header: Iterable[str]) -> None:
    """Refuse a file without the required columns or with unknown ones (likely typos)."""
    names = list(header)
    if unreadable := [str(n) for n, name in enumerate(names, start=1) if _bad_text(name)]:
        raise ImportFileError(
            f"header column(s) {', '.join(unreadable)} are not valid UTF-8 text without NUL"
        )
    columns = set(names)
    missing = [c for c in REQUIRED if c not in columns]
    unknown = sorted(columns - KNOWN)
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s): {', '.join(unknown)}")
        raise ImportFileError("; ".join(parts) + " (see the README for the columns)")


def _bad_text(value: str) -> bool:
    return "\x00" in value or NOT_UTF8.search(value) is not None


def unreadable_cells(row: dict[str, str]) -> list[dict[str, str]]:
    """One error per cell that PostgreSQL text cannot hold (NUL) or that was not UTF-8.

    The errors name the column only: the cell may hold a name or a henkilötunnus.
    """
    errors = []
    for name in HEADER_ORDER:
        value = row.get(name) or ""
        if "\x00" in value:
            errors.append({"field": name, "message": "must not contain NUL characters"})
        elif NOT_UTF8.search(value):
            errors.append({"field": name, "message": "not valid UTF-8 text"})
    return errors


def _rows(rows: Iterable[dict[str, str]]) -> Iterator[dict[str, str] | None]:
    """``rows``, with None for a row the CSV reader cannot parse (e.g. a huge cell); the
    reader carries on with the next line."""
    iterator = iter(rows)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except csv.Error:
            yield None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def row_to_body(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the JSON body the API takes; empty cells count as absent."""
    cells = {k: v.strip() for k, v in row.items() if k in KNOWN and v and v.strip()}
    body: dict[str, Any] = {k: v for k, v in cells.items() if k not in RESHAPED}
    body["roles"] = _split(cells.get("roles", ""))
    if "turvakielto" in cells:
        flag = cells["turvakielto"].lower()
        body["turvakielto"] = {"true": True, "1": True, "false": False, "0": False}.get(flag, flag)
    if "phones" in cells:
        body["phones"] = [
            {"number": number, "type": kind or "mobile"}
            for number, _, kind in (p.partition(":") for p in _split(cells["phones"]))
        ]
    if "emails" in cells:
        body["emails"] = _split(cells["emails"])
    if any(name in cells for name in ADDRESS):
        body["addresses"] = [{name: cells.get(name, "") for name in ADDRESS}]
    return body


async def import_customers(
    pool: Pool,
    cipher: FieldCipher,
    rows: Iterable[dict[str, str]],
    advisors: Mapping[str, uuid.UUID],
    *,
    first_line: int = 2,
    on_progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Validate and insert ``rows``; existing customer numbers are left as they are.
    ``advisors`` are the enabled housing advisors by username (accounts/ holds them)."""
    report = ImportReport()
    batch: list[tuple[int, NewCustomer]] = []
    for line, row in enumerate(_rows(rows), start=first_line):
        report.rows += 1
        data, errors = _checked(row, advisors)
        if data is None or errors:
            report.rejected.append((line, errors))
        else:
            batch.append((line, data))
        if len(batch) >= BATCH:
            await _write(pool, cipher, batch, advisors, report)
            batch = []
            if on_progress is not None:
                on_progress(report)
    if batch:
        await _write(pool, cipher, batch, advisors, report)
    if on_progress is not None:
        on_progress(report)
    return report


def _checked(
    row: dict[str, str] | None, advisors: Mapping[str, uuid.UUID]
) -> tuple[NewCustomer | None, list[dict[str, str]]]:
    """The row as a customer, or the errors that reject it (never its values)."""
    if row is None:
        return None, [{"field": "row", "message": "not a readable CSV row (check quoting)"}]
    if unreadable := unreadable_cells(row):
        return None, unreadable
    errors: list[dict[str, str]] = []
    data = None
    try:
        data = validate_body(row_to_body(row), NewCustomer)
    except ValidationProblem as problem:
        errors = problem.errors
    advisor = (row.get("assigned_advisor") or "").strip()
    if advisor and advisor not in advisors:
        errors.append({"field": "assigned_advisor", "message": "no such housing advisor"})
    return data, errors


async def _write(
    pool: Pool,
    cipher: FieldCipher,
    batch: list[tuple[int, NewCustomer]],
    advisors: Mapping[str, uuid.UUID],
    report: ImportReport,
) -> None:
    ids = [uuid.uuid4() for _ in batch]
    columns: list[list[Any]] = [[] for _ in range(17)]
    for customer_id, (_, data) in zip(ids, batch, strict=True):
        hetu = data.henkilotunnus
        values = (
            customer_id, data.customer_number, data.first_name, data.last_name,
            ",".join(data.roles), data.status, data.language, data.relationship_start,
            hetu.birth_date if hetu else None,
            *identity_columns(cipher, customer_id, data),
            data.turvakielto, data.turvakielto_start, data.turvakielto_end,
            advisors.get(data.assigned_advisor) if data.assigned_advisor else None,
        )  # fmt: skip
        _append(columns, values)
    numbers = [data.customer_number for _, data in batch]
    async with pool.acquire() as conn, conn.transaction():
        existing = {r["customer_number"] for r in await conn.fetch(SELECT_EXISTING, numbers)}
        inserted = {r["id"] for r in await conn.fetch(INSERT_CUSTOMERS, *columns)}
        phones: list[list[Any]] = [[], [], []]
        emails: list[list[Any]] = [[], []]
        addresses: list[list[Any]] = [[], [], [], [], [], []]
        for customer_id, (line, data) in zip(ids, batch, strict=True):
            if customer_id not in inserted:
                if data.customer_number in existing:
                    report.already_present += 1
                else:
                    report.rejected.append(
                        (line, [{"field": "henkilotunnus", "message": "another customer has it"}])
                    )
                continue
            report.imported += 1
            for phone in data.phones:
                _append(phones, (customer_id, phone.number, phone.type))
            for email in data.emails:
                _append(emails, (customer_id, email))
            for a in data.addresses:
                _append(
                    addresses,
                    (uuid.uuid4(), customer_id, a.street, a.postal_code, a.city, a.country),
                )
        await conn.execute(INSERT_PHONES, *phones)
        await conn.execute(INSERT_EMAILS, *emails)
        await conn.execute(INSERT_ADDRESSES, *addresses)


def _append(columns: list[list[Any]], values: tuple[Any, ...]) -> None:
    """Add one row to column-wise lists (what ``unnest`` takes)."""
    for column, value in zip(columns, values, strict=True):
        column.append(value)
