"""Sealing free text that older versions stored in plain text (migrations 0016, 0017).

Notes and reasons staff write about people (the contact log's notes, redaction reasons,
access-export reasons, training release reasons, legal-hold reasons and release reasons,
subject-request denial and extension reasons) are sealed per row with the field cipher.
Rows written before that hold plain text in the old column: at start-up each such column is
sealed in batches and its plain text cleared. The step is idempotent (it picks only rows
whose plain column is still set), so every node may run it; a later migration drops the
emptied columns once every deployment has run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from storage.db import Pool
from storage.fieldcrypt import FieldCipher

BATCH: Final = 500


@dataclass(frozen=True)
class PlainColumn:
    """A column that held plain text and the bytea column that now seals it.

    A row's context (the associated data binding the sealed value to that row) is derived
    here once, ``table.plain:key[:key]``, so no owner spells it by hand."""

    table: str
    keys: tuple[str, ...]
    plain: str
    sealed: str

    def context(self, *keys: object) -> str:
        """The context of the row with these key values, in ``keys`` order."""
        return f"{self.table}.{self.plain}:" + ":".join(str(key) for key in keys)


async def seal_plaintext(pool: Pool, cipher: FieldCipher, column: PlainColumn) -> int:
    """Seal every row of ``column`` still holding plain text and clear it; how many."""
    keys = ", ".join(column.keys)
    select = (
        f"SELECT {keys}, {column.plain} AS plain FROM {column.table} "
        f"WHERE {column.plain} IS NOT NULL LIMIT $1 FOR UPDATE SKIP LOCKED"
    )
    match = " AND ".join(f"{key} = ${n}" for n, key in enumerate(column.keys, start=2))
    update = f"UPDATE {column.table} SET {column.sealed} = $1, {column.plain} = NULL WHERE {match}"
    sealed = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(select, BATCH)
            if not rows:
                return sealed
            await conn.executemany(update, [_sealed_row(cipher, column, row) for row in rows])
            sealed += len(rows)


def _sealed_row(cipher: FieldCipher, column: PlainColumn, row: Any) -> tuple[Any, ...]:
    keys = tuple(row[key] for key in column.keys)
    return (cipher.encrypt(row["plain"], column.context(*keys)), *keys)
