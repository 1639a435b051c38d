"""Trainers' notes at a moment of a call (``recording_annotations``).

A note says how the agent who answered handled the call, so it is personal data of that
agent: the text is sealed per row with the field cipher, bound to the row by its context,
listed in the agent's access export and deleted with the call (:func:`delete_of_recordings`
lets the erasure report count them).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from storage.db import Connection, Pool
from storage.fieldcrypt import FieldCipher

MAX_TEXT: Final = 2000
INSERT: Final = """
INSERT INTO recording_annotations (id, recording_id, at_ms, text_encrypted, created_by)
VALUES ($1, $2, $3, $4, $5)
RETURNING created_at
"""
COLUMNS: Final = """
SELECT a.id, a.recording_id, a.at_ms, a.text_encrypted, a.created_at, u.username AS author
FROM recording_annotations a LEFT JOIN users u ON u.id = a.created_by
"""
# $1 recording, ($2, $3) the (at_ms, id) to continue after, $4 the page size.
SELECT_PAGE: Final = (
    COLUMNS + "WHERE a.recording_id = $1 AND (a.at_ms, a.id) > ($2, $3) "
    "ORDER BY a.at_ms, a.id LIMIT $4"
)
SELECT_OF_RECORDINGS: Final = (
    COLUMNS + "WHERE a.recording_id = ANY($1) ORDER BY a.recording_id, a.at_ms, a.id"
)
DELETE_OF_RECORDINGS: Final = (
    "DELETE FROM recording_annotations WHERE recording_id = ANY($1) RETURNING id"
)
START: Final = (-1, uuid.UUID(int=0))  # before every note of a call


@dataclass(frozen=True)
class Annotation:
    """One note, its text opened."""

    id: uuid.UUID
    recording_id: uuid.UUID
    at_ms: int
    text: str
    author: str | None
    created_at: datetime

    def as_json(self, *, author: bool = True) -> dict[str, Any]:
        """The API's and the export's shape (the export leaves the author out: a
        colleague's name is their own personal data)."""
        document: dict[str, Any] = {
            "id": str(self.id),
            "recording_id": str(self.recording_id),
            "at_seconds": self.at_ms / 1000,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
        }
        if author:
            document["author"] = self.author
        return document


def context(annotation_id: uuid.UUID) -> str:
    """The associated data that binds a sealed note to its row."""
    return f"recording_annotations.text:{annotation_id}"


def _open(cipher: FieldCipher, row: Any) -> Annotation:
    return Annotation(
        id=row["id"],
        recording_id=row["recording_id"],
        at_ms=row["at_ms"],
        text=cipher.decrypt(row["text_encrypted"], context(row["id"])),
        author=row["author"],
        created_at=row["created_at"],
    )


async def add_annotation(
    db: Connection | Pool,
    cipher: FieldCipher,
    recording_id: uuid.UUID,
    at_ms: int,
    text: str,
    by: uuid.UUID,
) -> tuple[uuid.UUID, datetime]:
    """Store a note, its text sealed; its id and time."""
    annotation_id = uuid.uuid4()
    sealed = cipher.encrypt(text, context(annotation_id))
    created: datetime = await db.fetchval(INSERT, annotation_id, recording_id, at_ms, sealed, by)
    return annotation_id, created


async def list_annotations(
    db: Connection | Pool,
    cipher: FieldCipher,
    recording_id: uuid.UUID,
    after: tuple[int, uuid.UUID] | None,
    limit: int,
) -> list[Annotation]:
    """The call's notes in time order, continuing after ``(at_ms, id)``."""
    at, last = after or START
    rows = await db.fetch(SELECT_PAGE, recording_id, at, last, limit)
    return [_open(cipher, row) for row in rows]


async def annotations_of(
    db: Connection | Pool, cipher: FieldCipher, recording_ids: Sequence[uuid.UUID]
) -> list[Annotation]:
    """Every note about these calls (an agent's access export)."""
    rows = await db.fetch(SELECT_OF_RECORDINGS, list(recording_ids))
    return [_open(cipher, row) for row in rows]


async def delete_of_recordings(conn: Connection, ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Delete the notes about these calls (erasure); their ids."""
    return [row["id"] for row in await conn.fetch(DELETE_OF_RECORDINGS, list(ids))]
