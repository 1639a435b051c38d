"""The disclosure log: what was disclosed about whom, to which recipient, on what legal basis.

It is the evidence for the "recipients" part of an access request (GDPR Art. 15(1)(c)), so an
entry is only ever added, never changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from storage.db import Connection, fetch_newest_first, jsonable

RECIPIENT_KINDS: Final = ("debt_collection", "maintenance", "authority", "contractor", "other")
MAX_TEXT: Final = 1000
INSERT: Final = """
INSERT INTO disclosures (id, customer_id, recipient, recipient_kind, legal_basis,
                         data_disclosed, disclosed_by, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, now()))
RETURNING at
"""
SELECT_ALL: Final = """
SELECT recipient, recipient_kind, legal_basis, data_disclosed, at FROM disclosures
WHERE customer_id = $1 ORDER BY at
"""
SELECT_PAGE: Final = """
SELECT d.id, d.recipient, d.recipient_kind, d.legal_basis, d.data_disclosed, d.at,
       u.username AS disclosed_by
FROM disclosures d LEFT JOIN users u ON u.id = d.disclosed_by
WHERE d.customer_id = $1 AND (d.at, d.id) < ($2, $3)
ORDER BY d.at DESC, d.id DESC LIMIT $4
"""


@dataclass(frozen=True)
class Disclosure:
    """One disclosure as the form sends it."""

    recipient: str
    recipient_kind: str
    legal_basis: str
    data_disclosed: str
    at: datetime | None


async def add_disclosure(
    conn: Connection, customer_id: uuid.UUID, disclosure: Disclosure, by: uuid.UUID
) -> tuple[uuid.UUID, datetime]:
    """Record a disclosure; returns its id and time."""
    disclosure_id = uuid.uuid4()
    at: datetime = await conn.fetchval(
        INSERT,
        disclosure_id,
        customer_id,
        disclosure.recipient,
        disclosure.recipient_kind,
        disclosure.legal_basis,
        disclosure.data_disclosed,
        by,
        disclosure.at,
    )
    return disclosure_id, at


async def list_disclosures(
    conn: Connection, customer_id: uuid.UUID, before: tuple[datetime, uuid.UUID], limit: int
) -> list[dict[str, Any]]:
    """Disclosures about the customer, newest first, continuing before ``(at, id)``."""
    return await fetch_newest_first(conn, SELECT_PAGE, customer_id, before, limit)


async def all_disclosures(conn: Connection, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every disclosure about the customer, oldest first (for an access export)."""
    return [jsonable(row) for row in await conn.fetch(SELECT_ALL, customer_id)]


KINDS_IN_USE: Final = "SELECT DISTINCT recipient_kind FROM disclosures ORDER BY recipient_kind"


async def recipient_kinds(conn: Connection) -> list[str]:
    """The kinds of recipient the log has ever recorded (for the privacy notice: what the
    organisation really discloses, not what it once meant to)."""
    return [row["recipient_kind"] for row in await conn.fetch(KINDS_IN_USE)]
