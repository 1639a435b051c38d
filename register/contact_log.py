"""The customer-service contact log ("asiakkuuteen liittyvä yhteydenpito")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from register.customers import UnknownReference
from register.validation import optional_time
from storage.db import Connection, fetch_newest_first, jsonable

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
SELECT channel, direction, topic, note, at, recording_id FROM contact_log
WHERE customer_id = $1 ORDER BY at
"""
SELECT_PAGE: Final = """
SELECT l.id, l.channel, l.direction, l.topic, l.note, l.recording_id, l.at, u.username AS staff
FROM contact_log l LEFT JOIN users u ON u.id = l.staff_id
WHERE l.customer_id = $1 AND (l.at, l.id) < ($2, $3)
ORDER BY l.at DESC, l.id DESC LIMIT $4
"""


@dataclass(frozen=True)
class ContactEntry:
    """One contact with a customer, as the form sends it."""

    channel: str
    direction: str
    topic: str
    note: str
    recording_id: uuid.UUID | None
    at: datetime | None


def parse_entry(body: dict[str, Any]) -> tuple[ContactEntry | None, list[dict[str, str]]]:
    """The entry in ``body`` and every field error."""
    errors: list[dict[str, str]] = []
    for name, allowed in (("channel", CHANNELS), ("direction", DIRECTIONS), ("topic", TOPICS)):
        if body.get(name) not in allowed:
            errors.append({"field": name, "message": f"one of: {', '.join(allowed)}"})
    note = body.get("note")
    if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE:
        errors.append({"field": "note", "message": f"what was agreed, 1-{MAX_NOTE} characters"})
    recording_id = None
    if body.get("recording_id") is not None:
        try:
            recording_id = uuid.UUID(str(body["recording_id"]))
        except ValueError:
            errors.append({"field": "recording_id", "message": "a recording id (UUID)"})
    at = optional_time(body, "at", errors)
    if errors:
        return None, errors
    assert isinstance(note, str)
    entry = ContactEntry(
        str(body["channel"]), str(body["direction"]), str(body["topic"]), note.strip(),
        recording_id, at,
    )  # fmt: skip
    return entry, []


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
    conn: Connection, customer_id: uuid.UUID, before: tuple[datetime, uuid.UUID], limit: int
) -> list[dict[str, Any]]:
    """Entries newest first, continuing before ``(at, id)``."""
    return await fetch_newest_first(conn, SELECT_PAGE, customer_id, before, limit)


async def all_entries(conn: Connection, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    """The whole contact log about the customer, oldest first (for an access export)."""
    return [jsonable(row) for row in await conn.fetch(SELECT_ALL, customer_id)]
