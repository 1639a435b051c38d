"""Which copy of a call an access export carries, per request and recording (Art. 15(4)).

The original by default; the DPO may choose the redacted rendition when the call holds other
people's data, with a reason that the export's index repeats to the subject. The caller owns
connections and transactions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal

from storage.db import Connection, Pool

ExportChoice = Literal["original", "redacted"]
REQUEST_STATE: Final = "SELECT kind, status FROM subject_requests WHERE id = $1 FOR UPDATE"
UPSERT: Final = """
INSERT INTO subject_request_exports (request_id, recording_id, export, reason, decided_by)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (request_id, recording_id) DO UPDATE SET export = $3, reason = $4,
    decided_by = $5, decided_at = now()
"""
SELECT: Final = """
SELECT recording_id, export, reason FROM subject_request_exports WHERE request_id = $1
"""


@dataclass(frozen=True)
class Choice:
    """The copy chosen for one recording and why."""

    export: ExportChoice
    reason: str


async def request_state(conn: Connection, request_id: uuid.UUID) -> tuple[str, str] | None:
    """Lock the request; its (kind, status), or None when there is no such request."""
    row = await conn.fetchrow(REQUEST_STATE, request_id)
    return None if row is None else (row["kind"], row["status"])


async def choose(
    conn: Connection,
    request_id: uuid.UUID,
    recording_id: uuid.UUID,
    choice: Choice,
    by: uuid.UUID,
) -> None:
    """Record (or change) the DPO's choice for this request and recording."""
    await conn.execute(UPSERT, request_id, recording_id, choice.export, choice.reason, by)


async def choices_of(db: Connection | Pool, request_id: uuid.UUID) -> dict[uuid.UUID, Choice]:
    """Every choice made for the request, by recording."""
    rows = await db.fetch(SELECT, request_id)
    return {row["recording_id"]: Choice(row["export"], row["reason"]) for row in rows}
