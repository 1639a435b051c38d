"""Collections of calls released for training (a course), shared among trainers.

Only released calls go in; a call leaves every collection in the same transaction that
withdraws its release (:func:`remove_recording`) or erases it (:func:`delete_of_recordings`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, Literal

import asyncpg

from storage.db import Connection, Pool, jsonable

MAX_NAME: Final = 200
INSERT: Final = """
INSERT INTO training_collections (id, name, created_by) VALUES ($1, $2, $3)
RETURNING id, name, created_at
"""
SUMMARY: Final = """
SELECT c.id, c.name, c.created_at, u.username AS created_by,
       (SELECT count(*) FROM training_collection_items i WHERE i.collection_id = c.id) AS calls
FROM training_collections c LEFT JOIN users u ON u.id = c.created_by
"""
# ($1, $2) the (created_at, id) to continue before, $3 the page size: newest first, so no
# name travels in a cursor.
SELECT_PAGE: Final = (
    SUMMARY + "WHERE (c.created_at, c.id) < ($1, $2) ORDER BY c.created_at DESC, c.id DESC LIMIT $3"
)
SELECT_ONE: Final = SUMMARY + "WHERE c.id = $1"
# $1 collection, ($2, $3) the (added_at, recording) to continue before, $4 the page size.
SELECT_ITEMS: Final = """
SELECT i.recording_id, i.added_at, r.started_at,
       COALESCE(r.measured_duration_seconds, r.declared_duration_seconds)::float
           AS duration_seconds
FROM training_collection_items i JOIN recordings r ON r.id = i.recording_id
WHERE i.collection_id = $1 AND (i.added_at, i.recording_id) < ($2, $3)
ORDER BY i.added_at DESC, i.recording_id DESC LIMIT $4
"""
ADD_ITEM: Final = """
INSERT INTO training_collection_items (collection_id, recording_id, added_by)
SELECT $1, r.id, $3 FROM recordings r
WHERE r.id = $2 AND r.training_released_at IS NOT NULL
ON CONFLICT DO NOTHING
RETURNING added_at
"""
RELEASED: Final = "SELECT training_released_at IS NOT NULL FROM recordings WHERE id = $1"
ITEM_EXISTS: Final = """
SELECT EXISTS (SELECT 1 FROM training_collection_items WHERE collection_id = $1
               AND recording_id = $2)
"""
COLLECTION_EXISTS: Final = "SELECT EXISTS (SELECT 1 FROM training_collections WHERE id = $1)"
REMOVE_ITEM: Final = """
DELETE FROM training_collection_items WHERE collection_id = $1 AND recording_id = $2
RETURNING recording_id
"""
REMOVE_RECORDING: Final = """
DELETE FROM training_collection_items WHERE recording_id = ANY($1)
RETURNING collection_id, recording_id
"""

AddOutcome = Literal["added", "already", "no_collection", "no_recording"]


class DuplicateName(Exception):
    """Another collection already has this name (names are unique, whatever the case)."""


async def create_collection(db: Connection | Pool, name: str, by: uuid.UUID) -> dict[str, Any]:
    """A new, empty collection; raises :class:`DuplicateName`."""
    try:
        row = await db.fetchrow(INSERT, uuid.uuid4(), name, by)
    except asyncpg.UniqueViolationError:
        raise DuplicateName(name) from None
    assert row is not None
    return jsonable(row) | {"calls": 0}


async def list_collections(
    db: Connection | Pool, before: tuple[datetime, uuid.UUID], limit: int
) -> list[dict[str, Any]]:
    """Collections newest first, continuing before ``(created_at, id)``."""
    return [jsonable(row) for row in await db.fetch(SELECT_PAGE, *before, limit)]


async def get_collection(db: Connection | Pool, collection_id: uuid.UUID) -> dict[str, Any] | None:
    """One collection's summary, or None."""
    row = await db.fetchrow(SELECT_ONE, collection_id)
    return None if row is None else jsonable(row)


async def collection_items(
    db: Connection | Pool,
    collection_id: uuid.UUID,
    before: tuple[datetime, uuid.UUID],
    limit: int,
) -> list[dict[str, Any]]:
    """The calls in a collection, the last added first, continuing before
    ``(added_at, recording_id)``."""
    rows = await db.fetch(SELECT_ITEMS, collection_id, *before, limit)
    return [jsonable(row) for row in rows]


async def add_item(
    conn: Connection, collection_id: uuid.UUID, recording_id: uuid.UUID, by: uuid.UUID
) -> AddOutcome:
    """Put a released call into a collection; say why not when it is not added."""
    if not await conn.fetchval(COLLECTION_EXISTS, collection_id):
        return "no_collection"
    if await conn.fetchval(ADD_ITEM, collection_id, recording_id, by) is not None:
        return "added"
    if await conn.fetchval(ITEM_EXISTS, collection_id, recording_id):
        return "already"
    return "no_recording"


async def remove_item(
    db: Connection | Pool, collection_id: uuid.UUID, recording_id: uuid.UUID
) -> bool:
    """Take a call out of a collection; False when it was not in it."""
    return await db.fetchval(REMOVE_ITEM, collection_id, recording_id) is not None


async def delete_of_recordings(
    conn: Connection, ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Take these calls out of every collection (withdrawn release, erasure); the
    ``(collection, recording)`` pairs removed."""
    rows = await conn.fetch(REMOVE_RECORDING, list(ids))
    return [(row["collection_id"], row["recording_id"]) for row in rows]
