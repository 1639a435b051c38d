"""Legal holds: recordings (listed, or all of a customer's) kept from erasure and retention
while a dispute or a legal duty needs them (GDPR Art. 17(3)(e)). Placing and releasing take
the erasure lock, so a running sweep either sees a new hold or finishes before it lands."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from accounts.users import names_of
from retention.erasure import ERASURE_LOCK
from storage.db import Connection, jsonable
from storage.fieldcrypt import FieldCipher
from storage.sealing import PlainColumn

MAX_REASON: Final = 1000
MAX_RECORDINGS: Final = 1000
BY: Final = ("placed_by", "released_by")  # account ids, shown as usernames
INSERT_HOLD: Final = """
INSERT INTO legal_holds (id, reason_encrypted, customer_id, placed_by) VALUES ($1, $2, $3, $4)
RETURNING placed_at
"""
INSERT_ITEMS: Final = """
INSERT INTO legal_hold_recordings (hold_id, recording_id) SELECT $1, unnest($2::uuid[])
"""
RELEASE: Final = """
UPDATE legal_holds SET released_at = now(), released_by = $2, release_reason_encrypted = $3
WHERE id = $1 AND released_at IS NULL RETURNING id
"""
SELECT_PAGE: Final = """
SELECT h.id, h.reason_encrypted AS reason, h.customer_id, h.placed_at, h.placed_by,
       h.released_at, h.released_by, h.release_reason_encrypted AS release_reason,
       coalesce((SELECT array_agg(i.recording_id::text ORDER BY i.recording_id)
                 FROM legal_hold_recordings i WHERE i.hold_id = h.id), '{}') AS recording_ids
FROM legal_holds h
WHERE ($1 OR h.released_at IS NULL) AND (h.placed_at, h.id) < ($2, $3)
ORDER BY h.placed_at DESC, h.id DESC LIMIT $4
"""


# The reasons are free text about people, sealed per row; older versions stored them plain.
PLAIN_HOLD_REASONS: Final = PlainColumn("legal_holds", ("id",), "reason", "reason_encrypted")
reason_context: Final = PLAIN_HOLD_REASONS.context
PLAIN_RELEASE_REASONS: Final = PlainColumn(
    "legal_holds", ("id",), "release_reason", "release_reason_encrypted"
)
release_context: Final = PLAIN_RELEASE_REASONS.context


@dataclass(frozen=True)
class HoldInput:
    """What to hold and why: listed recordings, or a customer (all their recordings and
    their register record)."""

    reason: str
    recording_ids: tuple[uuid.UUID, ...]
    customer_id: uuid.UUID | None


class UnknownItem(LookupError):
    """A recording or customer named in a hold does not exist."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"{field}: no such item (or it has already been erased)")


async def place_hold(
    conn: Connection, cipher: FieldCipher, hold: HoldInput, by: uuid.UUID
) -> tuple[uuid.UUID, datetime]:
    """Store the hold, its reason sealed; raises :class:`UnknownItem` and stores nothing if
    an item is missing."""
    hold_id = uuid.uuid4()
    sealed = cipher.encrypt(hold.reason, reason_context(hold_id))
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", ERASURE_LOCK)
        try:
            placed_at: datetime = await conn.fetchval(
                INSERT_HOLD, hold_id, sealed, hold.customer_id, by
            )
        except asyncpg.ForeignKeyViolationError:
            raise UnknownItem("customer_id") from None
        try:
            await conn.execute(INSERT_ITEMS, hold_id, list(hold.recording_ids))
        except asyncpg.ForeignKeyViolationError:
            raise UnknownItem("recording_ids") from None
    return hold_id, placed_at


async def release_hold(
    conn: Connection, cipher: FieldCipher, hold_id: uuid.UUID, by: uuid.UUID, reason: str
) -> bool:
    """Release an active hold, the reason sealed; False if there is no active hold with that id."""
    sealed = cipher.encrypt(reason, release_context(hold_id))
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", ERASURE_LOCK)
        return await conn.fetchval(RELEASE, hold_id, by, sealed) is not None


async def list_holds(
    conn: Connection,
    cipher: FieldCipher,
    *,
    include_released: bool,
    before: tuple[datetime, uuid.UUID],
    limit: int,
) -> list[dict[str, Any]]:
    """Holds newest first, each with its recordings, who placed and released it, and the
    reasons opened."""
    rows = await conn.fetch(SELECT_PAGE, include_released, before[0], before[1], limit)
    names = await names_of(conn, {r[k] for r in rows for k in BY if r[k] is not None})
    return [jsonable(_opened(cipher, row)) | {k: names.get(row[k]) for k in BY} for row in rows]


def _opened(cipher: FieldCipher, row: Any) -> dict[str, Any]:
    released = row["release_reason"]
    return dict(row) | {
        "reason": cipher.decrypt(row["reason"], reason_context(row["id"])),
        "release_reason": None
        if released is None
        else cipher.decrypt(released, release_context(row["id"])),
    }
