"""Marketing consents and bans (direct marketing, surveys): when and how each was given.

Kept as an append-only log; the newest entry per kind is what applies now, and the older
ones show when and how the customer's choice changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from register.staff import StaffDirectory, newest_first
from storage.db import Connection

KINDS: Final = ("direct_marketing", "surveys")
INSERT: Final = """
INSERT INTO marketing_preferences (id, customer_id, kind, allowed, given_via, recorded_by, at)
VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now()))
RETURNING at
"""
SELECT_ALL: Final = """
SELECT kind, allowed, given_via, at FROM marketing_preferences
WHERE customer_id = $1 ORDER BY at
"""
SELECT_PAGE: Final = """
SELECT id, kind, allowed, given_via, at, recorded_by,
       at = max(at) OVER (PARTITION BY kind) AS current
FROM marketing_preferences
WHERE customer_id = $1 AND (at, id) < ($2, $3)
ORDER BY at DESC, id DESC LIMIT $4
"""

SELECT_CURRENT: Final = """
SELECT DISTINCT ON (kind) kind, allowed, given_via, at FROM marketing_preferences
WHERE customer_id = $1 ORDER BY kind, at DESC, id DESC
"""


@dataclass(frozen=True)
class Preference:
    """A consent (``allowed``) or a ban, and how the customer gave it."""

    kind: str
    allowed: bool
    given_via: str
    at: datetime | None


@dataclass(frozen=True)
class LoggedPreference:
    """A consent or ban in the log, who recorded it (None once their account is gone) and
    whether it is the one in force for its kind."""

    id: uuid.UUID
    kind: str
    allowed: bool
    given_via: str
    at: datetime
    recorded_by: str | None
    current: bool


@dataclass(frozen=True)
class InForce:
    """The consent or ban in force for a kind, and when and how it was given."""

    allowed: bool
    given_via: str
    at: datetime


async def add_preference(
    conn: Connection, customer_id: uuid.UUID, preference: Preference, by: uuid.UUID
) -> tuple[uuid.UUID, datetime]:
    """Record a consent or ban; returns its id and time."""
    preference_id = uuid.uuid4()
    at: datetime = await conn.fetchval(
        INSERT,
        preference_id,
        customer_id,
        preference.kind,
        preference.allowed,
        preference.given_via,
        by,
        preference.at,
    )
    return preference_id, at


async def list_preferences(
    conn: Connection,
    staff: StaffDirectory,
    customer_id: uuid.UUID,
    before: tuple[datetime, uuid.UUID],
    limit: int,
) -> list[LoggedPreference]:
    """Consents and bans newest first; ``current`` marks the one in force per kind."""
    return await newest_first(
        conn, staff, SELECT_PAGE, customer_id, before, limit, LoggedPreference, "recorded_by"
    )


async def current_preferences(
    conn: Connection, customer_id: uuid.UUID
) -> dict[str, InForce | None]:
    """The consent or ban in force per kind (``None`` where the customer never said)."""
    rows = {row["kind"]: row for row in await conn.fetch(SELECT_CURRENT, customer_id)}
    return {
        kind: InForce(rows[kind]["allowed"], rows[kind]["given_via"], rows[kind]["at"])
        if kind in rows
        else None
        for kind in KINDS
    }


async def all_preferences(conn: Connection, customer_id: uuid.UUID) -> list[Preference]:
    """Every consent and ban the customer gave, oldest first (for an access export)."""
    return [Preference(**dict(row.items())) for row in await conn.fetch(SELECT_ALL, customer_id)]
