"""Staff accounts: creation, lookup and the queries behind login and sessions."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import asyncpg

from accounts.passwords import DUMMY_HASH, hash_password, verify_password
from accounts.roles import ROLES, Permission, permissions_of
from storage.db import Connection, Pool
from storage.fieldcrypt import token_digest

SESSION_LIFETIME: Final = timedelta(hours=8)
MAX_FAILED_LOGINS: Final = 5
LOCKOUT: Final = timedelta(minutes=15)

INSERT_USER: Final = """
INSERT INTO users (id, username, display_name, extension, password_hash, roles)
VALUES ($1, $2, $3, $4, $5, $6)
"""
SELECT_FOR_LOGIN: Final = """
SELECT id, password_hash, locked_until > now() AS locked, disabled, must_change_password,
       EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = users.id
               AND f.confirmed_at IS NOT NULL) AS second_factor
FROM users WHERE username = $1
"""
RECORD_FAILURE: Final = """
UPDATE users SET
    failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
    locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + $3::interval ELSE locked_until END
WHERE id = $1
"""
RECORD_SUCCESS: Final = "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1"
INSERT_SESSION: Final = """
INSERT INTO sessions (token_sha256, user_id, expires_at, device)
VALUES ($1, $2, now() + $3::interval, $4)
RETURNING expires_at
"""
# "Last seen" is written at most once a minute per session, not on every request.
SELECT_SESSION_USER: Final = """
WITH live AS (
    SELECT u.id, u.username, u.roles, u.must_change_password, s.id AS session_id,
           s.last_seen_at,
           EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = u.id
                   AND f.confirmed_at IS NOT NULL) AS second_factor
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_sha256 = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
      AND NOT u.disabled
), seen AS (
    UPDATE sessions SET last_seen_at = now()
    WHERE id IN (SELECT session_id FROM live WHERE last_seen_at < now() - interval '1 minute')
)
SELECT id, username, roles, must_change_password, session_id, second_factor FROM live
"""
REVOKE_SESSION: Final = "UPDATE sessions SET revoked_at = now() WHERE token_sha256 = $1"
# One statement, so switching an account off and ending its sessions happen together: a
# session merely refused while disabled would come back when the account is switched on.
UPDATE_USER: Final = """
WITH changed AS (
    UPDATE users SET roles = coalesce($2, roles), disabled = coalesce($3, disabled)
    WHERE id = $1 RETURNING id
), ended AS (
    UPDATE sessions SET revoked_at = now()
    WHERE $3 IS TRUE AND revoked_at IS NULL AND user_id IN (SELECT id FROM changed)
)
SELECT id FROM changed
"""
ACCOUNT_EXISTS: Final = "SELECT EXISTS (SELECT 1 FROM users WHERE username = $1)"
ACCOUNT_ID: Final = "SELECT id FROM users WHERE username = $1"
EXTENSION_OF: Final = "SELECT extension FROM users WHERE username = $1"
ROLES_BY_ID: Final = "SELECT id, roles FROM users WHERE id = ANY($1)"
SELECT_HOUSING_ADVISORS: Final = """
SELECT username, id FROM users
WHERE 'housing_advisor' = ANY (roles) AND NOT disabled AND ($1::text[] IS NULL OR username = ANY ($1))
"""
LIST_USERS: Final = """
SELECT id, username, display_name, extension, roles, disabled, locked_until > now() AS locked,
       created_at, EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = users.id
                           AND f.confirmed_at IS NOT NULL) AS second_factor
FROM users WHERE username > $1 ORDER BY username LIMIT $2
"""


class UserError(ValueError):
    """A user cannot be created as asked; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Account:
    """A staff account as the administrator sees it (never its password hash)."""

    id: uuid.UUID
    username: str
    display_name: str | None
    extension: str | None
    roles: tuple[str, ...]
    disabled: bool
    locked: bool
    created_at: datetime
    second_factor: bool  # two-factor sign-in on: the administrator can switch it off


@dataclass(frozen=True)
class User:
    """The logged-in person behind a request."""

    id: uuid.UUID
    username: str
    roles: tuple[str, ...]
    session_id: uuid.UUID | None = None  # the session this request rides on
    must_change_password: bool = False  # a one-time password: nothing but changing it
    second_factor: bool = False  # enrolled in two-factor sign-in

    @property
    def permissions(self) -> frozenset[Permission]:
        """Everything this user's roles allow."""
        return permissions_of(list(self.roles))


async def create_user(
    conn: Connection | Pool,
    username: str,
    password: str,
    roles: list[str],
    *,
    display_name: str | None = None,
    extension: str | None = None,
) -> uuid.UUID:
    """Create an account; raises :class:`UserError` or PasswordPolicyError with the reason."""
    check_roles(roles)
    password_hash = await asyncio.to_thread(hash_password, password, username)
    user_id = uuid.uuid4()
    try:
        await conn.execute(
            INSERT_USER,
            user_id,
            username,
            display_name,
            extension,
            password_hash,
            sorted(set(roles)),
        )
    except asyncpg.UniqueViolationError:
        raise UserError("username", "that username or extension is taken") from None
    except asyncpg.CheckViolationError:
        raise UserError(
            "username", "usernames are 2-63 of a-z 0-9 . _ - starting with a letter or digit"
        ) from None
    return user_id


def check_roles(roles: list[str]) -> None:
    """Raise :class:`UserError` unless ``roles`` is a non-empty list of known roles."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise UserError("roles", f"roles must be some of {', '.join(ROLES)}; got {roles}")


async def update_user(
    conn: Connection | Pool,
    user_id: uuid.UUID,
    *,
    roles: list[str] | None = None,
    disabled: bool | None = None,
) -> bool:
    """Change an account's roles or switch it off; False if there is no such account.

    Sessions read the roles on every request, so a change applies at once; switching an
    account off revokes its sessions, so switching it on again does not revive them.
    """
    if roles is not None:
        check_roles(roles)
    changed = await conn.fetchval(
        UPDATE_USER, user_id, None if roles is None else sorted(set(roles)), disabled
    )
    return changed is not None


@dataclass(frozen=True)
class LoginAttempt:
    """How a login went: a session on success, else why not (for the audit log only)."""

    user_id: uuid.UUID | None  # None: no such account
    outcome: str  # ok | second_factor | wrong_password | locked | disabled | unknown_account
    token: str | None = None
    expires_at: datetime | None = None
    must_change_password: bool = False


async def login(
    pool: Pool, username: str, password: str, device: str | None = None
) -> LoginAttempt:
    """Check the password and open a session that expires.

    An unknown username still costs one scrypt verification, so timing tells nothing; the
    caller answers every failure alike and keeps the reason for the audit log. An account
    with a second factor gets no session yet (outcome ``second_factor``) and keeps its count
    of failures, so wrong codes that follow count toward the same lockout.
    """
    row = await pool.fetchrow(SELECT_FOR_LOGIN, username)
    stored = row["password_hash"] if row is not None else DUMMY_HASH
    matches = await asyncio.to_thread(verify_password, password, stored)
    if row is None:
        return LoginAttempt(None, "unknown_account")
    if row["locked"] or row["disabled"]:
        return LoginAttempt(row["id"], "locked" if row["locked"] else "disabled")
    if not matches:
        await record_failure(pool, row["id"])
        return LoginAttempt(row["id"], "wrong_password")
    if row["second_factor"]:
        return LoginAttempt(row["id"], "second_factor")
    token, expires_at = await open_session(pool, row["id"], device)
    return LoginAttempt(row["id"], "ok", token, expires_at, row["must_change_password"])


async def record_failure(db: Connection | Pool, user_id: uuid.UUID) -> None:
    """Count a failed password or code; the fifth in a row locks the account."""
    await db.execute(RECORD_FAILURE, user_id, MAX_FAILED_LOGINS, LOCKOUT)


async def open_session(
    db: Connection | Pool, user_id: uuid.UUID, device: str | None = None
) -> tuple[str, datetime]:
    """Clear the failure count and open a session of an account whose identity was proven
    (password, second factor, single sign-on): its token and when it expires. ``device`` is
    the short description the sessions page shows ("Firefox on Linux")."""
    await db.execute(RECORD_SUCCESS, user_id)
    token = secrets.token_urlsafe(32)
    expires_at: datetime = await db.fetchval(
        INSERT_SESSION, token_digest(token), user_id, SESSION_LIFETIME, device
    )
    return token, expires_at


async def user_for_token(pool: Pool, token: str) -> User | None:
    """The user of a live session."""
    row = await pool.fetchrow(SELECT_SESSION_USER, token_digest(token))
    if row is None:
        return None
    return User(
        row["id"],
        row["username"],
        tuple(row["roles"]),
        row["session_id"],
        row["must_change_password"],
        row["second_factor"],
    )


async def revoke(pool: Pool, token: str) -> None:
    """End a session now."""
    await pool.execute(REVOKE_SESSION, token_digest(token))


async def list_accounts(db: Connection | Pool, after: str, limit: int) -> list[Account]:
    """Accounts in username order, starting after the username ``after``."""
    return [
        Account(
            row["id"],
            row["username"],
            row["display_name"],
            row["extension"],
            tuple(row["roles"]),
            row["disabled"],
            bool(row["locked"]),
            row["created_at"],
            row["second_factor"],
        )
        for row in await db.fetch(LIST_USERS, after, limit)
    ]


async def account_exists(db: Connection | Pool, username: str) -> bool:
    """Whether a staff account (enabled or not) has this username."""
    return bool(await db.fetchval(ACCOUNT_EXISTS, username))


async def account_id(db: Connection | Pool, username: str) -> uuid.UUID | None:
    """The id of the account with this username, if any."""
    found: uuid.UUID | None = await db.fetchval(ACCOUNT_ID, username)
    return found


async def housing_advisors(
    db: Connection | Pool, usernames: Collection[str] | None = None
) -> dict[str, uuid.UUID]:
    """The enabled housing advisors (of ``usernames``, or all) by username: whom a customer
    can be assigned to."""
    wanted = None if usernames is None else sorted(set(usernames))
    return {row["username"]: row["id"] for row in await db.fetch(SELECT_HOUSING_ADVISORS, wanted)}


async def extension_of(db: Connection | Pool, username: str) -> str | None:
    """The telephone extension of the account with this username, if it has one."""
    extension: str | None = await db.fetchval(EXTENSION_OF, username)
    return extension


async def roles_by_id(
    db: Connection | Pool, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, ...]]:
    """The roles of each of these accounts that still exists."""
    rows = await db.fetch(ROLES_BY_ID, list(ids))
    return {row["id"]: tuple(row["roles"]) for row in rows}


USERNAMES: Final = "SELECT id, username FROM users WHERE id = ANY($1)"


DISPLAY_NAMES: Final = """
SELECT id, COALESCE(NULLIF(display_name, ''), username) AS name FROM users WHERE id = ANY($1)"""


async def display_names_of(
    db: Connection | Pool, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each account's display name (its username when it has none): how staff lists name the
    agent who answered a call, where the telephony sent only an extension."""
    if not ids:
        return {}
    return {row["id"]: row["name"] for row in await db.fetch(DISPLAY_NAMES, list(ids))}


async def names_of(db: Connection | Pool, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The username of each of these accounts that still exists, for the rooms that show who
    did something (the account id is what they keep)."""
    if not ids:
        return {}
    return {row["id"]: row["username"] for row in await db.fetch(USERNAMES, list(ids))}
