"""Which copy of a call an access export carries, per request and recording (Art. 15(4)).

The original by default; the DPO may choose the redacted rendition when the call holds other
people's data, with a reason that the export's index repeats to the subject. The reason is
free text about people: it is sealed per row with the field cipher (:func:`context`). The
caller owns connections and transactions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal

from common.errors import Problem
from storage.db import Connection, Pool
from storage.fieldcrypt import FieldCipher
from storage.sealing import PlainColumn

ExportChoice = Literal["original", "redacted"]
REQUEST_STATE: Final = "SELECT kind, status FROM subject_requests WHERE id = $1 FOR UPDATE"
UPSERT: Final = """
INSERT INTO subject_request_exports (request_id, recording_id, export, reason_encrypted,
    decided_by)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (request_id, recording_id) DO UPDATE SET export = $3, reason_encrypted = $4,
    reason = NULL, decided_by = $5, decided_at = now()
"""
SELECT: Final = """
SELECT request_id, recording_id, export, reason_encrypted FROM subject_request_exports
WHERE request_id = $1
"""


class ReasonsSealed(Problem):
    """The request holds reasons this node cannot open (no field cipher: a recipients-only
    keyring). A 503 like the register's own, never a 500: another node can answer."""

    status = 503
    slug = "register-unavailable"
    title = "Register unavailable"

    def __init__(self, request_id: str) -> None:
        super().__init__(
            "this node has a recipients-only keyring and cannot open the request's sealed "
            "reasons; ask a node that holds the keyring"
        )
        self.request_id = request_id


PLAIN_REASONS: Final = PlainColumn(
    "subject_request_exports", ("request_id", "recording_id"), "reason", "reason_encrypted"
)
context: Final = PLAIN_REASONS.context


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
    cipher: FieldCipher,
    request_id: uuid.UUID,
    recording_id: uuid.UUID,
    choice: Choice,
    by: uuid.UUID,
) -> None:
    """Record (or change) the DPO's choice for this request and recording, its reason sealed."""
    sealed = cipher.encrypt(choice.reason, context(request_id, recording_id))
    await conn.execute(UPSERT, request_id, recording_id, choice.export, sealed, by)


async def choices_of(
    db: Connection | Pool, cipher: FieldCipher | None, request_id: uuid.UUID
) -> dict[uuid.UUID, Choice]:
    """Every choice made for the request, by recording, reasons opened. Raises
    :class:`ReasonsSealed` when there are choices and no cipher to open them (never falls
    back to the original copy quietly)."""
    rows = await db.fetch(SELECT, request_id)
    if rows and cipher is None:
        raise ReasonsSealed(str(request_id))
    return {
        row["recording_id"]: Choice(
            row["export"],
            cipher.decrypt(row["reason_encrypted"], context(request_id, row["recording_id"])),
        )
        for row in rows
        if cipher is not None
    }
