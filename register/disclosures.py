"""The disclosure log: what was disclosed about whom, to which recipient, on what legal basis.

It is the evidence for the "recipients" part of an access request (GDPR Art. 15(1)(c)), so an
entry is only ever added, never changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from register.staff import StaffDirectory, newest_first
from storage.db import Connection

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
SELECT id, recipient, recipient_kind, legal_basis, data_disclosed, at, disclosed_by
FROM disclosures
WHERE customer_id = $1 AND (at, id) < ($2, $3)
ORDER BY at DESC, id DESC LIMIT $4
"""


@dataclass(frozen=True)
class Disclosure:
    """One disclosure, as the form sends it and the access export lists it."""

    recipient: str
    recipient_kind: str
    legal_basis: str
    data_disclosed: str
    at: datetime | None


@dataclass(frozen=True)
class LoggedDisclosure:
    """A disclosure in the log and who recorded it (None once their account is gone)."""

    id: uuid.UUID
    recipient: str
    recipient_kind: str
    legal_basis: str
    data_disclosed: str
    at: datetime
    disclosed_by: str | None


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
    conn: Connection,
    staff: StaffDirectory,
    customer_id: uuid.UUID,
    before: tuple[datetime, uuid.UUID],
    limit: int,
) -> list[LoggedDisclosure]:
    """Disclosures about the customer, newest first, continuing before ``(at, id)``."""
    return await newest_first(
        conn, staff, SELECT_PAGE, customer_id, before, limit, LoggedDisclosure, "disclosed_by"
    )


async def all_disclosures(conn: Connection, customer_id: uuid.UUID) -> list[Disclosure]:
    """Every disclosure about the customer, oldest first (for an access export)."""
    return [Disclosure(**dict(row.items())) for row in await conn.fetch(SELECT_ALL, customer_id)]


KINDS_IN_USE: Final = "SELECT DISTINCT recipient_kind FROM disclosures ORDER BY recipient_kind"


async def recipient_kinds(conn: Connection) -> list[str]:
    """The kinds of recipient the log has ever recorded (for the privacy notice: what the
    organisation really discloses, not what it once meant to)."""
    return [row["recipient_kind"] for row in await conn.fetch(KINDS_IN_USE)]
