"""Changing passwords: one's own (knowing the current one) and an administrator's reset.

A change ends every other session of the account, so whoever learnt the old password is out
at once. A reset sets a random one-time password that its owner must replace at the next
login (until then the session can do nothing else), ends every session and lifts a lockout.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass
from typing import Final

from accounts.password_policy import PasswordPolicyError
from accounts.passwords import hash_password, verify_password
from accounts.sessions import end_sessions
from accounts.users import LOCKOUT, MAX_FAILED_LOGINS, RECORD_FAILURE
from storage.db import Pool

# No 0/o, 1/l/i: the one-time password is read aloud or typed from a note.
ONE_TIME_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"
ONE_TIME_GROUPS: Final = 4
ONE_TIME_GROUP_LENGTH: Final = 5

SELECT_OWN: Final = """
SELECT username, password_hash, locked_until > now() AS locked FROM users WHERE id = $1
"""
STORE_NEW_HASH: Final = """
UPDATE users SET password_hash = $2, must_change_password = $3, failed_logins = 0,
                 locked_until = NULL
WHERE id = $1 RETURNING username
"""


class CurrentPasswordWrong(ValueError):
    """The current password given with a change was not the account's (or it is locked)."""


@dataclass(frozen=True)
class Reset:
    """The outcome of an administrator's reset: shown once, never stored in the clear."""

    username: str
    one_time_password: str
    sessions_ended: int


def one_time_password() -> str:
    """About 98 bits in four groups of five easily read characters."""
    groups = (
        "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(ONE_TIME_GROUP_LENGTH))
        for _ in range(ONE_TIME_GROUPS)
    )
    return "-".join(groups)


async def change_own_password(
    pool: Pool, user_id: uuid.UUID, session_id: uuid.UUID | None, current: str, new: str
) -> int:
    """Replace the password after checking the current one; ends every other session.

    A wrong current password counts toward the lockout like a failed login, so a stolen
    session cannot be used to guess it. Raises :class:`CurrentPasswordWrong` or the policy's
    error; returns how many other sessions ended.
    """
    row = await pool.fetchrow(SELECT_OWN, user_id)
    if row is None:
        raise CurrentPasswordWrong("the account no longer exists")
    matches = await asyncio.to_thread(verify_password, current, row["password_hash"])
    if row["locked"]:
        raise CurrentPasswordWrong("too many wrong passwords: try again in 15 minutes")
    if not matches:
        await pool.execute(RECORD_FAILURE, user_id, MAX_FAILED_LOGINS, LOCKOUT)
        raise CurrentPasswordWrong("this is not your current password")
    if current == new:
        raise PasswordPolicyError("the new password must differ from the current one")
    new_hash = await asyncio.to_thread(hash_password, new, row["username"])
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(STORE_NEW_HASH, user_id, new_hash, False)
        return await end_sessions(conn, user_id, keep=session_id)


async def reset_password(pool: Pool, user_id: uuid.UUID) -> Reset | None:
    """Give the account a one-time password and end all its sessions; None: no such account."""
    password = one_time_password()
    new_hash = await asyncio.to_thread(hash_password, password)
    async with pool.acquire() as conn, conn.transaction():
        username = await conn.fetchval(STORE_NEW_HASH, user_id, new_hash, True)
        if username is None:
            return None
        ended = await end_sessions(conn, user_id)
    return Reset(username, password, ended)
