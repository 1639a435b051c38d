"""Finding customers: by henkilötunnus (blind index), phone number, customer number or name."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Final

from register.customers import (
    FIRST_NAME,
    LAST_NAME,
    PROTECTED,
    SELECT_SUMMARIES,
    CustomerSummary,
    summaries,
)
from register.identity import parse_henkilotunnus
from register.identity_fields import HETU
from register.phones import normalise_phone
from storage.db import Connection, Pool
from storage.fieldcrypt import FieldCipher

CUSTOMERS_WITH_PHONE: Final = """
SELECT DISTINCT customer_id FROM customer_phones WHERE number = $1 LIMIT $2
"""


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
    return summaries(list(rows))


async def customers_with_phone(db: Connection | Pool, number: str, limit: int) -> list[uuid.UUID]:
    """Ids of (at most ``limit``) customers who have the E.164 ``number``."""
    return [row["customer_id"] for row in await db.fetch(CUSTOMERS_WITH_PHONE, number, limit)]
