"""What erasing recordings means in the recordings table, and the recordings' retention
categories, as typed functions.

The erasure engine (``retention.erasure``) decides what goes and keeps holds, tombstones and
the report. It sits below this room, so it reaches the recordings table only through
:class:`RecordingRows` (its ``Recordings`` protocol) and the sweep only through
:func:`recording_categories`. There is deliberately no ready-made instance here: one without
the other rooms' parts would erase a call and leave its transcript behind, so every engine is
built by ``rights.sweeps.erasure_engine``, which hands in the transcripts part.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final, Protocol

from common.settings import Settings
from recorder.annotations import delete_of_recordings as delete_notes
from recorder.collections import delete_of_recordings as leave_collections
from retention.erasure import ErasureEngine, Why
from retention.sweep import Category, Eraser
from storage.db import Connection, Pool, due_page

CUSTOMERS_OF: Final = """
SELECT id, customer_id FROM recordings WHERE id = ANY($1) AND customer_id IS NOT NULL
"""
OF_CUSTOMER: Final = "SELECT id FROM recordings WHERE customer_id = $1"
DELETE: Final = """
DELETE FROM recordings WHERE id = ANY($1)
RETURNING id, array_remove(ARRAY[audio_object_id, incoming_object_id], NULL) AS objects
"""
# First, on its own: a render committing meanwhile is waited for, and its new object is
# returned (a snapshot taken before it would miss it and leave a readable header behind);
# a render committing after finds its row gone and discards its object.
DELETE_RENDITIONS: Final = """
DELETE FROM redacted_renditions WHERE recording_id = ANY($1)
RETURNING recording_id, audio_object_id
"""
COUNT_SPANS: Final = "SELECT count(*) FROM redactions WHERE recording_id = ANY($1)"
# Per category: the rows whose period has passed ($1 = cutoff, $2 = keyset after, $3 = limit).
DUE_RECORDINGS: Final = """
SELECT id FROM recordings WHERE started_at < $1 AND training_released_at IS NULL
  AND status <> 'failed' AND id > $2 ORDER BY id LIMIT $3
"""
DUE_TRAINING: Final = """
SELECT id FROM recordings WHERE started_at < $1 AND training_released_at IS NOT NULL
  AND id > $2 ORDER BY id LIMIT $3
"""
DUE_FAILED_INGEST: Final = """
SELECT id FROM recordings WHERE status = 'failed' AND updated_at < $1 AND id > $2
ORDER BY id LIMIT $3
"""


class RecordingPart(Protocol):
    """Rows another room keeps per recording and erases with it (transcripts): handed in by
    the composition root, since that room and this one do not import each other."""

    async def related(self, conn: Connection, ids: Sequence[uuid.UUID]) -> dict[str, int]:
        """What would go with these recordings, by kind, for the erasure report."""
        ...

    async def delete(
        self, conn: Connection, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Delete the rows of these recordings; their sealed objects' ids by recording."""
        ...


class RecordingRows:
    """The recordings table as the erasure engine needs it (``retention.erasure.Recordings``),
    with the ``parts`` other rooms keep per recording."""

    def __init__(self, parts: Sequence[RecordingPart] = ()) -> None:
        self.parts = tuple(parts)

    async def customers_of(
        self, conn: Connection, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        """The customer each of these recordings is linked to (unlinked ones left out)."""
        return {row["id"]: row["customer_id"] for row in await conn.fetch(CUSTOMERS_OF, ids)}

    async def of_customer(self, conn: Connection, customer_id: uuid.UUID) -> list[uuid.UUID]:
        """Ids of every recording linked to the customer."""
        return [row["id"] for row in await conn.fetch(OF_CUSTOMER, customer_id)]

    async def delete(
        self, conn: Connection, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Delete these recordings (their redaction spans and the parts' rows go with them);
        for each one deleted, its payloads' sealed object ids, the redacted rendition's and
        the parts' included."""
        extra: dict[uuid.UUID, list[uuid.UUID]] = {}
        for row in await conn.fetch(DELETE_RENDITIONS, list(ids)):
            if row["audio_object_id"] is not None:
                extra.setdefault(row["recording_id"], []).append(row["audio_object_id"])
        for part in self.parts:
            for recording_id, objects in (await part.delete(conn, ids)).items():
                extra.setdefault(recording_id, []).extend(objects)
        return {
            row["id"]: [*row["objects"], *extra.get(row["id"], [])]
            for row in await conn.fetch(DELETE, list(ids))
        }

    async def related(self, conn: Connection, ids: Sequence[uuid.UUID]) -> dict[str, int]:
        """The redaction spans (and the parts' rows) erased with these recordings."""
        counts = {"redaction": int(await conn.fetchval(COUNT_SPANS, list(ids)))}
        for part in self.parts:
            counts |= await part.related(conn, ids)
        return counts

    async def delete_dependents(
        self, conn: Connection, ids: Sequence[uuid.UUID]
    ) -> list[tuple[str, uuid.UUID]]:
        """Delete the rows that hang on these recordings (trainers' notes, collection items),
        as ``(kind, id)`` for the erasure report; a collection item is named by its
        collection."""
        notes = await delete_notes(conn, ids)
        items = await leave_collections(conn, ids)
        return [("annotation", i) for i in notes] + [("collection_item", c) for c, _ in items]


def recording_categories(pool: Pool, engine: ErasureEngine, settings: Settings) -> list[Category]:
    """The sweep's recordings categories: calls past their period (kept longer when released
    for training), and failed ingests, which hold nothing worth keeping."""

    def erase(reason: str) -> Eraser:
        return lambda ids: engine.erase_recordings(ids, Why(reason))

    s = settings
    return [
        Category(
            "recordings",
            s.retention_recordings_days,
            due_page(pool, DUE_RECORDINGS),
            erase("retention:recordings"),
        ),
        Category(
            "training",
            s.retention_training_days,
            due_page(pool, DUE_TRAINING),
            erase("retention:training"),
        ),
        Category(
            "failed_ingest",
            s.retention_failed_ingest_days,
            due_page(pool, DUE_FAILED_INGEST),
            erase("retention:failed_ingest"),
        ),
    ]
