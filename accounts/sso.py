"""Single sign-on accounts: sign-ins in progress, the group-to-role map, and the accounts
linked to a provider's (issuer, subject).

An account is found by the provider's subject, never by e-mail or username: an address can
be given to someone else, a subject cannot. Every SSO login sets the account's roles from
the provider's groups through ``CALLREC_OIDC_ROLE_MAP``, so the organisation's directory
decides who may do what; someone left with no mapped group cannot sign in, and the sessions
they still had end.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from accounts.passwords import DUMMY_HASH, verify_password
from accounts.roles import ROLES
from accounts.sessions import end_sessions
from accounts.users import LoginAttempt, account_exists, create_user, open_session, update_user
from common.settings import Settings, SettingsError
from storage.db import Connection, Pool

PENDING_LIFETIME: Final = timedelta(minutes=10)

INSERT_PENDING: Final = """
WITH swept AS (DELETE FROM sso_pending WHERE expires_at < now())
INSERT INTO sso_pending (browser_sha256, state, nonce, code_verifier, expires_at)
VALUES ($1, $2, $3, $4, now() + $5::interval)
"""
TAKE_PENDING: Final = """
DELETE FROM sso_pending WHERE browser_sha256 = $1 RETURNING state, nonce, code_verifier,
    expires_at > now() AS live
"""
LINKED: Final = """
SELECT l.user_id, u.username, u.disabled FROM sso_links l JOIN users u ON u.id = l.user_id
WHERE l.issuer = $1 AND l.subject = $2 FOR UPDATE OF u
"""
INSERT_LINK: Final = "INSERT INTO sso_links (user_id, issuer, subject) VALUES ($1, $2, $3)"
TOUCH_LINK: Final = """
WITH named AS (UPDATE users SET display_name = coalesce($2, display_name) WHERE id = $1)
UPDATE sso_links SET last_login_at = now() WHERE user_id = $1
"""
SSO_ACCOUNT: Final = """
SELECT u.id FROM users u JOIN sso_links l ON l.user_id = u.id WHERE u.username = $1
"""
_NOT_IN_USERNAME: Final = re.compile(r"[^a-z0-9._-]+")


def check_role_map(settings: Settings) -> None:
    """Stop start-up when ``CALLREC_OIDC_ROLE_MAP`` names a role callrec does not have."""
    unknown = sorted({role for _, role in settings.oidc_role_map} - set(ROLES))
    if unknown:
        raise SettingsError(
            [
                f"CALLREC_OIDC_ROLE_MAP: no such role {', '.join(unknown)}; "
                f"roles are {', '.join(ROLES)}"
            ]
        )


def mapped_roles(claims: Mapping[str, Any], settings: Settings) -> list[str]:
    """The callrec roles the groups in the token's roles claim map to (may be none)."""
    groups = claims.get(settings.oidc_roles_claim)
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return []
    held = {group for group in groups if isinstance(group, str)}
    return sorted({role for group, role in settings.oidc_role_map if group in held})


@dataclass(frozen=True)
class Pending:
    """What the callback must see again: the state, and what only the server keeps."""

    state: str
    nonce: str
    code_verifier: str


def _digest(browser_token: str) -> bytes:
    return hashlib.sha256(b"callrec-sso\0" + browser_token.encode()).digest()


async def begin(pool: Pool) -> tuple[str, Pending]:
    """Start a sign-in: the browser's cookie value and the fresh state, nonce and verifier."""
    browser_token = secrets.token_urlsafe(32)
    pending = Pending(
        secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    )
    await pool.execute(
        INSERT_PENDING,
        _digest(browser_token),
        pending.state,
        pending.nonce,
        pending.code_verifier,
        PENDING_LIFETIME,
    )
    return browser_token, pending


async def take(pool: Pool, browser_token: str) -> Pending | None:
    """The sign-in this browser started, used up by the reading; None when there is none or
    it is older than ten minutes."""
    row = await pool.fetchrow(TAKE_PENDING, _digest(browser_token))
    if row is None or not row["live"]:
        return None
    return Pending(row["state"], row["nonce"], row["code_verifier"])


@dataclass(frozen=True)
class SignIn:
    """How an SSO login went; a session only when ``outcome`` is ok."""

    user_id: uuid.UUID | None
    username: str | None
    outcome: str  # ok | no_mapped_group | disabled
    roles: tuple[str, ...]
    created: bool = False
    token: str | None = None
    expires_at: datetime | None = None


async def sign_in(pool: Pool, issuer: str, claims: Mapping[str, Any], roles: list[str]) -> SignIn:
    """Create or update the account linked to (issuer, subject) and open its session.

    Without a mapped role nobody is created, and an existing account's sessions end.
    """
    subject = str(claims["sub"])
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    async with pool.acquire() as conn, conn.transaction():
        linked = await conn.fetchrow(LINKED, issuer, subject)
        if not roles:
            if linked is not None:
                await end_sessions(conn, linked["user_id"])
            user_id = None if linked is None else linked["user_id"]
            username = None if linked is None else linked["username"]
            return SignIn(user_id, username, "no_mapped_group", ())
        if linked is not None and linked["disabled"]:
            return SignIn(linked["user_id"], linked["username"], "disabled", tuple(roles))
        created = linked is None
        if linked is None:
            username = await _free_username(conn, issuer, subject, claims)
            user_id = await create_user(
                conn, username, secrets.token_urlsafe(32), roles, display_name=name
            )
            await conn.execute(INSERT_LINK, user_id, issuer, subject)
        else:
            user_id, username = linked["user_id"], linked["username"]
            await update_user(conn, user_id, roles=roles)
        await conn.execute(TOUCH_LINK, user_id, name)
        token, expires_at = await open_session(conn, user_id)
    return SignIn(user_id, username, "ok", tuple(roles), created, token, expires_at)


async def _free_username(
    conn: Connection, issuer: str, subject: str, claims: Mapping[str, Any]
) -> str:
    """A username from the provider's preferred username, made to fit; when taken by
    another account (which is never linked for that), with a suffix from the subject."""
    wanted = claims.get("preferred_username")
    local = wanted.lower().split("@")[0] if isinstance(wanted, str) else ""
    base = _NOT_IN_USERNAME.sub("-", local).strip("._-")[:50]
    suffix = hashlib.sha256(f"{issuer}\0{subject}".encode()).hexdigest()[:8]
    if len(base) < 2:
        return f"sso-{suffix}"
    if not await account_exists(conn, base):
        return base
    return f"{base}-{suffix}"


async def refuse_password(
    pool: Pool, settings: Settings, username: str, password: str
) -> LoginAttempt | None:
    """When local passwords are off for SSO users: a refusal for an account linked to the
    provider (after the same scrypt work a real check costs, so timing tells nothing);
    None when the password may be checked as usual."""
    if settings.oidc_local_passwords:
        return None
    user_id = await pool.fetchval(SSO_ACCOUNT, username)
    if user_id is None:
        return None
    await asyncio.to_thread(verify_password, password, DUMMY_HASH)
    return LoginAttempt(user_id, "sso_only")
