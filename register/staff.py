"""The staff accounts the register refers to (the assigned housing advisor, who changed what).

The users table is accounts/'s, and register/ may not import accounts/ (they are sibling
rooms), so the caller hands the register accounts' typed look-ups in a
:class:`StaffDirectory`; the register keeps no SQL on users.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from storage.db import Connection

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
