"""A person's open sessions: which device, since when, last used; ending one or all of them.

A session is named by its public id; the token (and its hash) never leaves the server. The
device is a short description made from the User-Agent at login ("Firefox on Linux"), enough
to recognise one's own laptop, and nothing of the whole header is kept.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from storage.db import Connection, Pool

DEVICE_LENGTH: Final = 100
# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
BROWSERS: Final = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("Python/", "Python client"),
)
SYSTEMS: Final = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)

LIST_OPEN: Final = """
SELECT id, device, created_at, last_seen_at, expires_at FROM sessions
WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
ORDER BY created_at DESC, id
"""
END_ONE: Final = """
UPDATE sessions SET revoked_at = now()
WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
RETURNING id
"""
END_ALL: Final = """
WITH ended AS (
    UPDATE sessions SET revoked_at = now()
    WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
      AND id IS DISTINCT FROM $2
    RETURNING 1
)
SELECT count(*) FROM ended
"""


@dataclass(frozen=True)
class OpenSession:
    """One live session of an account, as its owner sees it."""

    id: uuid.UUID
    device: str | None
    started_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def describe_device(user_agent: str | None) -> str | None:
    """ "Firefox on Linux" from a User-Agent; its first words when nothing is recognised."""
    if not user_agent:
        return None
    browser = next((name for mark, name in BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    printable = re.sub(r"[^\x20-\x7e]", "", user_agent).strip()
    return printable[:40] or None


async def open_sessions(db: Connection | Pool, user_id: uuid.UUID) -> list[OpenSession]:
    """The account's live sessions, newest first."""
    return [
        OpenSession(
            row["id"], row["device"], row["created_at"], row["last_seen_at"], row["expires_at"]
        )
        for row in await db.fetch(LIST_OPEN, user_id)
    ]


async def end_session(db: Connection | Pool, user_id: uuid.UUID, session_id: uuid.UUID) -> bool:
    """End one live session of this account; False when it has no such session."""
    return await db.fetchval(END_ONE, session_id, user_id) is not None


async def end_sessions(
    db: Connection | Pool, user_id: uuid.UUID, *, keep: uuid.UUID | None = None
) -> int:
    """End every live session of the account but ``keep``; how many ended."""
    ended: int = await db.fetchval(END_ALL, user_id, keep)
    return ended
