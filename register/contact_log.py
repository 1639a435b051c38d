"""The customer-service contact log ("asiakkuuteen liittyvä yhteydenpito").

The note says what was agreed with a person: it is sealed per row with the field cipher,
bound to its row by :func:`context`, and opened only to answer the API and the access export.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from register.customers import UnknownReference
from register.staff import StaffDirectory, newest_first
from storage.db import Connection
from storage.fieldcrypt import FieldCipher
from storage.sealing import PlainColumn

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
INSERT INTO contact_log (id, customer_id, channel, direction, topic, note_encrypted,
                         staff_id, recording_id, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, now()))
RETURNING at
"""
SELECT_ALL: Final = """
SELECT id, channel, direction, topic, note_encrypted, recording_id, at FROM contact_log
WHERE customer_id = $1 ORDER BY at
"""
SELECT_PAGE: Final = """
SELECT id, channel, direction, topic, note_encrypted, recording_id, at, staff_id AS staff
FROM contact_log
WHERE customer_id = $1 AND (at, id) < ($2, $3)
ORDER BY at DESC, id DESC LIMIT $4
"""


PLAIN_NOTES: Final = PlainColumn("contact_log", ("id",), "note", "note_encrypted")
context: Final = PLAIN_NOTES.context


def _opened(cipher: FieldCipher, columns: dict[str, Any]) -> dict[str, Any]:
    """The row's columns with the sealed note replaced by its text."""
    sealed = columns.pop("note_encrypted")
    return columns | {"note": cipher.decrypt(sealed, context(columns["id"]))}


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
    conn: Connection,
    cipher: FieldCipher,
    customer_id: uuid.UUID,
    entry: ContactEntry,
    staff_id: uuid.UUID,
) -> tuple[uuid.UUID, datetime]:
    """Store the entry, its note sealed; returns its id and time. Raises
    :class:`UnknownReference` for a recording id that does not exist."""
    entry_id = uuid.uuid4()
    try:
        at: datetime = await conn.fetchval(
            INSERT_ENTRY,
            entry_id,
            customer_id,
            entry.channel,
            entry.direction,
            entry.topic,
            cipher.encrypt(entry.note, context(entry_id)),
            staff_id,
            entry.recording_id,
            entry.at,
        )
    except asyncpg.ForeignKeyViolationError:
        raise UnknownReference("recording_id", "no such recording") from None
    return entry_id, at


async def list_entries(
    conn: Connection,
    cipher: FieldCipher,
    staff: StaffDirectory,
    customer_id: uuid.UUID,
    before: tuple[datetime, uuid.UUID],
    limit: int,
) -> list[LoggedContact]:
    """Entries newest first, continuing before ``(at, id)``."""

    def entry(**columns: Any) -> LoggedContact:
        return LoggedContact(**_opened(cipher, columns))

    return await newest_first(conn, staff, SELECT_PAGE, customer_id, before, limit, entry, "staff")


async def all_entries(
    conn: Connection, cipher: FieldCipher, customer_id: uuid.UUID
) -> list[ContactEntry]:
    """The whole contact log about the customer, oldest first (for an access export)."""
    rows = await conn.fetch(SELECT_ALL, customer_id)
    opened = [_opened(cipher, dict(row.items())) for row in rows]
    return [ContactEntry(**{k: v for k, v in cols.items() if k != "id"}) for cols in opened]
