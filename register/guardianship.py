"""Guardianship between people in the register: an edunvalvoja (guardian appointed for an
adult) or the guardian who signed for a minor. Both are customers themselves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Final

import asyncpg

from register.customers import RegisterConflict
from storage.db import Connection

KINDS: Final = ("edunvalvonta", "minor")
INSERT: Final = """
INSERT INTO guardianships (id, guardian_id, ward_id, kind, start_date, end_date)
VALUES ($1, $2, $3, $4, $5, $6)
"""
SELECT_FOR: Final = """
SELECT g.id, g.kind, g.start_date, g.end_date, g.guardian_id, g.ward_id,
       gc.first_name || ' ' || gc.last_name AS guardian_name,
       wc.first_name || ' ' || wc.last_name AS ward_name
FROM guardianships g
JOIN customers gc ON gc.id = g.guardian_id
JOIN customers wc ON wc.id = g.ward_id
WHERE g.guardian_id = $1 OR g.ward_id = $1
ORDER BY g.start_date DESC NULLS LAST, g.id
"""

END_LINK: Final = """
UPDATE guardianships SET end_date = $3
WHERE id = $1 AND (guardian_id = $2 OR ward_id = $2) AND (start_date IS NULL OR start_date <= $3)
RETURNING id
"""
LINK_EXISTS: Final = (
    "SELECT 1 FROM guardianships WHERE id = $1 AND (guardian_id = $2 OR ward_id = $2)"
)


@dataclass(frozen=True)
class Guardianship:
    """``guardian_id`` acts for the customer in the path, of ``kind``, over a period."""

    guardian_id: uuid.UUID
    kind: str
    start_date: date | None
    end_date: date | None


async def add_guardianship(conn: Connection, ward_id: uuid.UUID, link: Guardianship) -> uuid.UUID:
    """Store the link; raises :class:`RegisterConflict` for an unknown or self guardian."""
    if link.guardian_id == ward_id:
        raise RegisterConflict("guardian_id", "a person cannot be their own guardian")
    link_id = uuid.uuid4()
    try:
        await conn.execute(
            INSERT, link_id, link.guardian_id, ward_id, link.kind, link.start_date, link.end_date
        )
    except asyncpg.ForeignKeyViolationError:
        raise RegisterConflict(
            "guardian_id", "the guardian is not a customer in the register"
        ) from None
    return link_id


@dataclass(frozen=True)
class Person:
    """A customer at one end of a guardianship link."""

    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class GuardianshipLink:
    """A stored link, and whether the customer asked about is its ``guardian`` or ``ward``."""

    id: uuid.UUID
    kind: str
    start_date: date | None
    end_date: date | None
    role: str
    guardian: Person
    ward: Person


async def guardianships_of(conn: Connection, customer_id: uuid.UUID) -> list[GuardianshipLink]:
    """Links where the customer is the guardian or the ward."""
    rows = await conn.fetch(SELECT_FOR, customer_id)
    return [
        GuardianshipLink(
            r["id"],
            r["kind"],
            r["start_date"],
            r["end_date"],
            "guardian" if r["guardian_id"] == customer_id else "ward",
            Person(r["guardian_id"], r["guardian_name"]),
            Person(r["ward_id"], r["ward_name"]),
        )
        for r in rows
    ]


async def end_guardianship(
    conn: Connection, link_id: uuid.UUID, customer_id: uuid.UUID, end: date
) -> bool:
    """End the link (of which the customer is guardian or ward) on ``end``; False if there is
    no such link of theirs. Raises :class:`RegisterConflict` for an end before the start."""
    if await conn.fetchval(END_LINK, link_id, customer_id, end) is not None:
        return True
    if await conn.fetchval(LINK_EXISTS, link_id, customer_id) is None:
        return False
    raise RegisterConflict("end_date", "the link cannot end before it starts")
