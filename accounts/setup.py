"""First run: a one-time setup link creates the first administrator, without a terminal.

While no enabled account has the admin role, ``callrec serve`` issues a token (valid one
hour, or until used) and prints the link that carries it; each start issues a new one and
kills the last. Only the token's SHA-256 is stored. The link's token travels after ``#`` in
the URL, which browsers never send to a server, so it ends up in no proxy's log.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Final

from accounts.users import create_user
from storage.db import Connection, Pool
from storage.fieldcrypt import token_digest

SETUP_TOKEN_LIFETIME: Final = timedelta(hours=1)
SETUP_LOCK: Final = 0x6361_6C6C_7365_7475  # "callsetu": one first administrator at a time

NO_ADMIN: Final = """
SELECT NOT EXISTS (SELECT 1 FROM users WHERE 'admin' = ANY (roles) AND NOT disabled)
"""
FORGET_TOKENS: Final = "DELETE FROM setup_tokens"
INSERT_LINK: Final = """
INSERT INTO setup_tokens (token_sha256, expires_at) VALUES ($1, now() + $2::interval)
"""
TAKE_LINK: Final = """
UPDATE setup_tokens SET used_at = now()
WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > now()
RETURNING 1
"""


async def needs_setup(db: Connection | Pool) -> bool:
    """True while no enabled account is an administrator."""
    return bool(await db.fetchval(NO_ADMIN))


async def issue_setup_token(pool: Pool) -> str | None:
    """A new setup token replacing any earlier one; None (and none kept) once an
    administrator exists."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SETUP_LOCK)
        await conn.execute(FORGET_TOKENS)
        if not await needs_setup(conn):
            return None
        token = secrets.token_urlsafe(32)
        await conn.execute(INSERT_LINK, token_digest(token), SETUP_TOKEN_LIFETIME)
    return token


async def create_first_admin(
    pool: Pool, token: str, username: str, password: str
) -> uuid.UUID | None:
    """Create the first administrator if ``token`` is live and there is still none.

    None when the token is wrong, used or expired, or an administrator exists (the caller
    answers all alike). A refused username or password raises and leaves the token usable.
    """
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SETUP_LOCK)
        if not await needs_setup(conn):
            return None
        if await conn.fetchval(TAKE_LINK, token_digest(token)) is None:
            return None
        user_id = await create_user(conn, username, password, ["admin"])
        await conn.execute(FORGET_TOKENS)
    return user_id
