"""The customer-service contact log ("asiakkuuteen liittyvä yhteydenpito")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import asyncpg

from register.customers import UnknownReference
from register.staff import StaffDirectory, newest_first
from storage.db import Connection

CHANNELS: Final = ("phone", "email", "visit", "letter", "web")
DIRECTIONS: Final = ("inbound", "outbound")
TOPICS: Final = (
    "fault_report",
    "rent",
    "application",
    "termination",
    "complaint",
    "feedback",
    "other",
)
MAX_NOTE: Final = 4000
INSERT_ENTRY: Final = """
INSERT INTO contact_log (id, customer_id, channel, direction, topic, note, staff_id,
                         recording_id, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, now()))
RETURNING at
"""
SELECT_ALL: Final = """
SELECT channel, direction, topic, note, recording_id, at FROM contact_log
WHERE customer_id = $1 ORDER BY at
"""
SELECT_PAGE: Final = """
SELECT id, channel, direction, topic, note, recording_id, at, staff_id AS staff
FROM contact_log
WHERE customer_id = $1 AND (at, id) < ($2, $3)
ORDER BY at DESC, id DESC LIMIT $4
"""


@dataclass(frozen=True)
class ContactEntry:
    """One contact with a customer, as the form sends it and the access export lists it."""

    channel: str
    direction: str
    topic: str
    note: str
    recording_id: uuid.UUID | None
    at: datetime | None


@dataclass(frozen=True)
class LoggedContact:
    """An entry of the contact log and who wrote it (None once their account is gone)."""

    id: uuid.UUID
    channel: str
    direction: str
    topic: str
    note: str
    recording_id: uuid.UUID | None
    at: datetime
    staff: str | None


async def add_entry(
    conn: Connection, customer_id: uuid.UUID, entry: ContactEntry, staff_id: uuid.UUID
) -> tuple[uuid.UUID, datetime]:
    """Store the entry; returns its id and time. Raises :class:`UnknownReference` for a
    recording id that does not exist."""
    entry_id = uuid.uuid4()
    try:
        at: datetime = await conn.fetchval(
            INSERT_ENTRY,
            entry_id,
            customer_id,
            entry.channel,
            entry.direction,
            entry.topic,
            entry.note,
            staff_id,
            entry.recording_id,
            entry.at,
        )
    except asyncpg.ForeignKeyViolationError:
        raise UnknownReference("recording_id", "no such recording") from None
    return entry_id, at


async def list_entries(
    conn: Connection,
    staff: StaffDirectory,
    customer_id: uuid.UUID,
    before: tuple[datetime, uuid.UUID],
    limit: int,
) -> list[LoggedContact]:
    """Entries newest first, continuing before ``(at, id)``."""
    return await newest_first(
        conn, staff, SELECT_PAGE, customer_id, before, limit, LoggedContact, "staff"
    )


async def all_entries(conn: Connection, customer_id: uuid.UUID) -> list[ContactEntry]:
    """The whole contact log about the customer, oldest first (for an access export)."""
    return [ContactEntry(**dict(row.items())) for row in await conn.fetch(SELECT_ALL, customer_id)]
