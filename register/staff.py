"""The staff accounts the register refers to (the assigned housing advisor, who changed what).

The users table is accounts/'s, and register/ may not import accounts/ (they are sibling
rooms), so the caller hands the register accounts' typed look-ups in a
:class:`StaffDirectory`; the register keeps no SQL on users.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from storage.db import Connection

T = TypeVar("T")
NamesOf = Callable[[Connection, Collection[uuid.UUID]], Awaitable[dict[uuid.UUID, str]]]
AdvisorsOf = Callable[[Connection, Collection[str]], Awaitable[dict[str, uuid.UUID]]]


@dataclass(frozen=True)
class StaffDirectory:
    """``names_of``: the username of each account id; ``housing_advisors``: the id of each
    enabled housing advisor among the usernames."""

    names_of: NamesOf
    housing_advisors: AdvisorsOf


async def usernames(
    conn: Connection, staff: StaffDirectory, rows: Iterable[Any], column: str
) -> dict[uuid.UUID, str]:
    """The username of each account the ``column`` of ``rows`` holds the id of."""
    ids = {row[column] for row in rows if row[column] is not None}
    return await staff.names_of(conn, ids) if ids else {}


async def newest_first(
    conn: Connection,
    staff: StaffDirectory,
    query: str,
    owner_id: uuid.UUID,
    before: tuple[datetime, uuid.UUID],
    limit: int,
    entry: Callable[..., T],
    by: str,
) -> list[T]:
    """One page of a newest-first log: ``query`` takes the owner ($1), the ``(at, id)`` to
    continue before ($2, $3) and the page size ($4); each row becomes an ``entry`` of its
    columns, the account id in column ``by`` replaced by that account's username."""
    rows = await conn.fetch(query, owner_id, *before, limit)
    names = await usernames(conn, staff, rows, by)
    return [entry(**(dict(row.items()) | {by: names.get(row[by])})) for row in rows]
