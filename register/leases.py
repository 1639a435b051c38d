"""Leases and households: which apartment, from when to when, who is on the lease and who
lives there (household members need not be customers themselves)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Final

import asyncpg

from register.customers import RegisterConflict
from storage.db import Connection

PARTY_ROLES: Final = ("tenant", "co_tenant", "joint_payer", "occupant")
_LEASE_NUMBER: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/-]{0,31}$")
MAX_PEOPLE: Final = 20
INSERT_LEASE: Final = """
INSERT INTO leases (id, lease_number, property, apartment, start_date, end_date, terminated_on)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
INSERT_PARTIES: Final = """
INSERT INTO lease_parties (lease_id, customer_id, role)
SELECT $1, * FROM unnest($2::uuid[], $3::text[])
"""
INSERT_MEMBERS: Final = """
INSERT INTO household_members (id, lease_id, name, birth_date)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::date[])
"""
SELECT_LEASES_OF: Final = """
SELECT l.id, l.lease_number, l.property, l.apartment, l.start_date, l.end_date, l.terminated_on
FROM leases l JOIN lease_parties p ON p.lease_id = l.id
WHERE p.customer_id = $1 ORDER BY l.start_date DESC, l.id
"""
SELECT_PARTIES: Final = """
SELECT p.lease_id, p.customer_id, p.role, c.first_name || ' ' || c.last_name AS name
FROM lease_parties p JOIN customers c ON c.id = p.customer_id
WHERE p.lease_id = ANY($1) ORDER BY c.last_name, c.first_name
"""
SELECT_CURRENT_OF: Final = """
SELECT l.id, l.lease_number, l.property, l.apartment, l.start_date, l.end_date, l.terminated_on,
       p.role
FROM leases l JOIN lease_parties p ON p.lease_id = l.id
WHERE p.customer_id = $1 AND (l.end_date IS NULL OR l.end_date >= $2)
ORDER BY l.start_date DESC, l.id
"""
LOCK_LEASE: Final = """
SELECT start_date, end_date, terminated_on FROM leases WHERE id = $1 FOR UPDATE
"""
UPDATE_LEASE: Final = "UPDATE leases SET end_date = $2, terminated_on = $3 WHERE id = $1"
CHANGEABLE: Final = ("end_date", "terminated_on")
SELECT_MEMBERS: Final = """
SELECT lease_id, name, birth_date FROM household_members WHERE lease_id = ANY($1) ORDER BY name
"""


@dataclass(frozen=True)
class LeaseInput:
    """A lease as the form sends it."""

    lease_number: str
    property: str
    apartment: str
    start_date: date
    end_date: date | None
    terminated_on: date | None
    parties: list[tuple[uuid.UUID, str]]
    household: list[tuple[str, date | None]]


@dataclass(frozen=True)
class LeaseChange:
    """The end of a lease and the day notice was given; ``None`` clears a date."""

    fields: dict[str, date | None]


@dataclass(frozen=True)
class LeaseParty:
    """A customer on a lease, their part in it and their name."""

    customer_id: uuid.UUID
    role: str
    name: str


@dataclass(frozen=True)
class HouseholdMember:
    """Someone living in the apartment who is no party."""

    name: str
    birth_date: date | None


@dataclass(frozen=True)
class Lease:
    """A lease with its parties and household."""

    id: uuid.UUID
    lease_number: str
    property: str
    apartment: str
    start_date: date
    end_date: date | None
    terminated_on: date | None
    parties: list[LeaseParty]
    household: list[HouseholdMember]


@dataclass(frozen=True)
class CurrentLease:
    """A lease in force and the customer's part in it."""

    id: uuid.UUID
    lease_number: str
    property: str
    apartment: str
    start_date: date
    end_date: date | None
    terminated_on: date | None
    role: str


class LeaseNotFound(LookupError):
    """No lease with that id."""


async def create_lease(conn: Connection, lease: LeaseInput) -> uuid.UUID:
    """Insert the lease, its parties and household in one transaction."""
    lease_id = uuid.uuid4()
    async with conn.transaction():
        try:
            await conn.execute(
                INSERT_LEASE, lease_id, lease.lease_number, lease.property, lease.apartment,
                lease.start_date, lease.end_date, lease.terminated_on,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise RegisterConflict("lease_number", "another lease has this number") from None
        try:
            await conn.execute(
                INSERT_PARTIES,
                lease_id,
                [p[0] for p in lease.parties],
                [p[1] for p in lease.parties],
            )
        except asyncpg.ForeignKeyViolationError:
            raise RegisterConflict("parties", "a party is not a customer in the register") from None
        await conn.execute(
            INSERT_MEMBERS,
            [uuid.uuid4() for _ in lease.household],
            [lease_id] * len(lease.household),
            [m[0] for m in lease.household],
            [m[1] for m in lease.household],
        )
    return lease_id


async def leases_of(conn: Connection, customer_id: uuid.UUID) -> list[Lease]:
    """The customer's leases, newest first, each with its parties and household."""
    leases = await conn.fetch(SELECT_LEASES_OF, customer_id)
    ids = [row["id"] for row in leases]
    parties = await conn.fetch(SELECT_PARTIES, ids)
    members = await conn.fetch(SELECT_MEMBERS, ids)
    return [
        Lease(
            **dict(row.items()),
            parties=[
                LeaseParty(p["customer_id"], p["role"], p["name"])
                for p in parties
                if p["lease_id"] == row["id"]
            ],
            household=[
                HouseholdMember(m["name"], m["birth_date"])
                for m in members
                if m["lease_id"] == row["id"]
            ],
        )
        for row in leases
    ]


async def change_lease(conn: Connection, lease_id: uuid.UUID, change: LeaseChange) -> None:
    """End or terminate the lease; raises :class:`LeaseNotFound` or :class:`RegisterConflict`
    (an end before the start)."""
    async with conn.transaction():
        row = await conn.fetchrow(LOCK_LEASE, lease_id)
        if row is None:
            raise LeaseNotFound(lease_id)
        end = change.fields.get("end_date", row["end_date"])
        terminated = change.fields.get("terminated_on", row["terminated_on"])
        if end is not None and end < row["start_date"]:
            raise RegisterConflict("end_date", "the lease cannot end before it starts")
        await conn.execute(UPDATE_LEASE, lease_id, end, terminated)


async def current_leases(
    conn: Connection, customer_id: uuid.UUID, today: date
) -> list[CurrentLease]:
    """Leases the customer is a party to that have not ended by ``today``, with their role."""
    rows = await conn.fetch(SELECT_CURRENT_OF, customer_id, today)
    return [CurrentLease(**dict(row.items())) for row in rows]
