"""Rectification history: every change of a customer field, old and new value encrypted.

One row per changed field, so a correction can be shown and undone (GDPR article 16); the
values are sealed per row (context ``rectifications.old|new:<id>``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from register.staff import StaffDirectory, usernames
from register.validation import CustomerChange
from storage.db import Connection
from storage.fieldcrypt import FieldCipher

if TYPE_CHECKING:  # customers.py calls record_changes; the type alone is needed here
    from register.customers import Customer

INSERT_RECTIFICATION: Final = """
INSERT INTO rectifications (id, customer_id, field, old_encrypted, new_encrypted, changed_by)
VALUES ($1, $2, $3, $4, $5, $6)
"""
HISTORY_COLUMNS: Final = """
SELECT id, field, old_encrypted, new_encrypted, at, changed_by FROM rectifications
"""
SELECT_HISTORY: Final = (
    HISTORY_COLUMNS + "WHERE customer_id = $1 ORDER BY at DESC, id DESC LIMIT 500"
)
SELECT_CHANGE: Final = HISTORY_COLUMNS + "WHERE customer_id = $1 AND id = $2"


@dataclass(frozen=True)
class Change:
    """One rectification: a field's old and new value (as JSON values), who changed it
    (None once their account is gone) and when."""

    id: uuid.UUID
    field: str
    old: Any
    new: Any
    changed_by: str | None
    at: datetime


def _history_value(value: object) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def _current_value(customer: Customer, name: str) -> object:
    if name in ("phones", "addresses"):
        return [asdict(item) for item in getattr(customer, name)]
    return getattr(customer, name)


def _new_value(data: CustomerChange, name: str) -> object:
    value = getattr(data, name)
    if name == "henkilotunnus":
        return value.value if value is not None else None
    if name in ("phones", "addresses"):
        return [item.model_dump() for item in value]
    return value


async def record_changes(
    conn: Connection,
    cipher: FieldCipher,
    customer: Customer,
    data: CustomerChange,
    changed_by: uuid.UUID,
) -> list[str]:
    """Write one rectification per field of ``data`` that really changes; their names.

    Setting a value to itself is no change and leaves no history.
    """
    changed: list[str] = []
    for name in sorted(data.present):
        old, new = _current_value(customer, name), _new_value(data, name)
        if _history_value(old) == _history_value(new):
            continue
        changed.append(name)
        rect_id = uuid.uuid4()
        await conn.execute(
            INSERT_RECTIFICATION,
            rect_id,
            customer.id,
            name,
            cipher.encrypt(_history_value(old), f"rectifications.old:{rect_id}"),
            cipher.encrypt(_history_value(new), f"rectifications.new:{rect_id}"),
            changed_by,
        )
    return changed


def _change(cipher: FieldCipher, row: Any, names: dict[uuid.UUID, str]) -> Change:
    return Change(
        row["id"],
        row["field"],
        json.loads(cipher.decrypt(row["old_encrypted"], f"rectifications.old:{row['id']}")),
        json.loads(cipher.decrypt(row["new_encrypted"], f"rectifications.new:{row['id']}")),
        names.get(row["changed_by"]),
        row["at"],
    )


async def history(
    conn: Connection, cipher: FieldCipher, staff: StaffDirectory, customer_id: uuid.UUID
) -> list[Change]:
    """The customer's rectifications, newest first (the latest 500), decrypted."""
    rows = await conn.fetch(SELECT_HISTORY, customer_id)
    names = await usernames(conn, staff, rows, "changed_by")
    return [_change(cipher, row, names) for row in rows]


async def change_of(
    conn: Connection,
    cipher: FieldCipher,
    staff: StaffDirectory,
    customer_id: uuid.UUID,
    change_id: uuid.UUID,
) -> Change | None:
    """One rectification of this customer, decrypted; None when there is no such change."""
    row = await conn.fetchrow(SELECT_CHANGE, customer_id, change_id)
    if row is None:
        return None
    return _change(cipher, row, await usernames(conn, staff, [row], "changed_by"))
