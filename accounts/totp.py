"""Two-factor sign-in with TOTP (RFC 6238): enrolment, codes accepted once, recovery codes,
and the short-lived challenge between a right password and its code.

The secret is sealed with the field cipher, bound to its account, and never leaves this
module except in the one enrolment answer (the QR code is drawn here, with segno, so no
other service sees it). A code is accepted once: the newest time step accepted is kept,
and a code of that step or an older one is refused. Recovery codes are kept as keyed
hashes, each usable once.
"""

from __future__ import annotations

import hmac
import io
import secrets
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import pyotp
import segno

from accounts.users import User, record_failure
from storage.db import Connection, Pool
from storage.fieldcrypt import FieldCipher, token_digest

ISSUER: Final = "callrec"
STEP_SECONDS: Final = 30
DRIFT_STEPS: Final = 1  # a code of the step before or after still counts (clock drift)
CHALLENGE_LIFETIME: Final = timedelta(minutes=5)
RECOVERY_CODE_COUNT: Final = 10
RECOVERY_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_LENGTH: Final = 10  # about 50 bits each
CODE_DIGITS: Final = 6

UPSERT_PENDING: Final = """
INSERT INTO totp_factors (user_id, secret_sealed) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET secret_sealed = $2, last_step = 0, created_at = now()
    WHERE totp_factors.confirmed_at IS NULL
RETURNING user_id
"""
SELECT_PENDING: Final = """
SELECT secret_sealed FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NULL
"""
CONFIRM: Final = """
UPDATE totp_factors SET confirmed_at = now(), last_step = $2
WHERE user_id = $1 AND confirmed_at IS NULL RETURNING user_id
"""
DELETE_RECOVERY: Final = "DELETE FROM totp_recovery_codes WHERE user_id = $1"
INSERT_RECOVERY: Final = "INSERT INTO totp_recovery_codes (user_id, code_hmac) VALUES ($1, $2)"
SELECT_FOR_CODE: Final = """
SELECT u.locked_until > now() AS locked, u.disabled, f.secret_sealed
FROM users u JOIN totp_factors f ON f.user_id = u.id
WHERE u.id = $1 AND f.confirmed_at IS NOT NULL
"""
ADVANCE_STEP: Final = """
UPDATE totp_factors SET last_step = $2 WHERE user_id = $1 AND last_step < $2 RETURNING user_id
"""
USE_RECOVERY: Final = """
UPDATE totp_recovery_codes SET used_at = now()
WHERE user_id = $1 AND code_hmac = $2 AND used_at IS NULL RETURNING user_id
"""
RECOVERY_LEFT: Final = """
SELECT count(*) FROM totp_recovery_codes WHERE user_id = $1 AND used_at IS NULL
"""
REMOVE_FACTOR: Final = """
WITH codes AS (DELETE FROM totp_recovery_codes WHERE user_id = $1),
     waiting AS (DELETE FROM login_challenges WHERE user_id = $1)
DELETE FROM totp_factors WHERE user_id = $1 RETURNING user_id
"""
INSERT_CHALLENGE: Final = """
WITH stale AS (DELETE FROM login_challenges WHERE expires_at < now())
INSERT INTO login_challenges (token_sha256, user_id, cookie, expires_at)
VALUES ($1, $2, $3, now() + $4::interval)
"""
TAKE_CHALLENGE: Final = """
DELETE FROM login_challenges WHERE token_sha256 = $1
RETURNING user_id, cookie, expires_at > now() AS live,
          (SELECT username FROM users WHERE users.id = login_challenges.user_id)
"""


@dataclass(frozen=True)
class Enrolment:
    """What the person enrolling needs once: the secret, as a URI and as a QR code."""

    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True)
class Challenge:
    """A login waiting for its code."""

    user_id: uuid.UUID
    username: str
    cookie: bool  # began at the console's login, so it ends in the cookie


class AlreadyEnrolled(Exception):
    """The account has a confirmed second factor; enrolling again would replace it."""


class NothingToConfirm(Exception):
    """No enrolment was started (or it was confirmed already)."""


def secret_context(user_id: uuid.UUID) -> str:
    """The associated data that binds a sealed secret to its account."""
    return f"users.totp_secret:{user_id}"


def must_enrol(user: User, required_roles: Collection[str]) -> bool:
    """Whether ``user`` holds a role that needs a second factor and has none yet."""
    return not user.second_factor and not set(required_roles).isdisjoint(user.roles)


def qr_svg(uri: str) -> str:
    """The URI as a QR code, an SVG document drawn here (dark on white, for any theme)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer, kind="svg", scale=5, xmldecl=False, light="#fff", title="QR"
    )
    return buffer.getvalue().decode()


async def start_enrolment(
    db: Connection | Pool, cipher: FieldCipher, user_id: uuid.UUID, username: str
) -> Enrolment:
    """A new secret, waiting for its first code; raises :class:`AlreadyEnrolled`."""
    secret = pyotp.random_base32()  # 160 bits
    sealed = cipher.encrypt(secret, secret_context(user_id))
    if await db.fetchval(UPSERT_PENDING, user_id, sealed) is None:
        raise AlreadyEnrolled
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    return Enrolment(secret, uri, qr_svg(uri))


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is, within the drift allowed; None if none."""
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):  # constant time
            found = step
    return found


def new_recovery_code() -> str:
    """A random code shown as ``xxxxx-xxxxx``."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _normalised(code: str) -> str:
    return code.replace("-", "").replace(" ", "").lower()


def _recovery_hmac(cipher: FieldCipher, user_id: uuid.UUID, code: str) -> bytes:
    return cipher.blind_index("totp-recovery", f"{user_id}:{_normalised(code)}")


async def confirm_enrolment(
    pool: Pool, cipher: FieldCipher, user_id: uuid.UUID, code: str
) -> list[str] | None:
    """Switch the factor on with its first code: the recovery codes (shown once), or None
    for a wrong code. Raises :class:`NothingToConfirm` without a pending enrolment."""
    sealed = await pool.fetchval(SELECT_PENDING, user_id)
    if sealed is None:
        raise NothingToConfirm
    step = matching_step(cipher.decrypt(sealed, secret_context(user_id)), _normalised(code))
    if step is None:
        return None
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    async with pool.acquire() as conn, conn.transaction():
        if await conn.fetchval(CONFIRM, user_id, step) is None:
            raise NothingToConfirm  # confirmed meanwhile by another request
        await conn.execute(DELETE_RECOVERY, user_id)
        await conn.executemany(
            INSERT_RECOVERY, [(user_id, _recovery_hmac(cipher, user_id, c)) for c in codes]
        )
    return codes


async def open_challenge(db: Connection | Pool, user_id: uuid.UUID, *, cookie: bool) -> str:
    """A challenge for the second step of this login (its token; stored hashed)."""
    token = secrets.token_urlsafe(32)
    await db.execute(INSERT_CHALLENGE, token_digest(token), user_id, cookie, CHALLENGE_LIFETIME)
    return token


async def take_challenge(db: Connection | Pool, token: str) -> Challenge | None:
    """The login a challenge belongs to; the challenge is used up whatever follows. None
    for an unknown, used or expired one."""
    row = await db.fetchrow(TAKE_CHALLENGE, token_digest(token))
    if row is None or not row["live"]:
        return None
    return Challenge(row["user_id"], row["username"], row["cookie"])


async def check_code(pool: Pool, cipher: FieldCipher, user_id: uuid.UUID, code: str) -> str:
    """Check a second-factor code of a challenged login: ``totp`` or ``recovery`` when it
    is accepted, else ``locked``, ``disabled``, ``replayed`` or ``wrong_code``; a replayed
    or wrong code counts toward the lockout like a wrong password."""
    row = await pool.fetchrow(SELECT_FOR_CODE, user_id)
    if row is None or row["disabled"]:
        return "disabled"
    if row["locked"]:
        return "locked"
    typed = _normalised(code)
    outcome = "wrong_code"
    if len(typed) == CODE_DIGITS and typed.isascii() and typed.isdigit():
        step = matching_step(cipher.decrypt(row["secret_sealed"], secret_context(user_id)), typed)
        if step is not None:
            advanced = await pool.fetchval(ADVANCE_STEP, user_id, step)
            outcome = "totp" if advanced is not None else "replayed"
    elif await pool.fetchval(USE_RECOVERY, user_id, _recovery_hmac(cipher, user_id, typed)):
        outcome = "recovery"
    if outcome in ("wrong_code", "replayed"):
        await record_failure(pool, user_id)
    return outcome


async def recovery_codes_left(db: Connection | Pool, user_id: uuid.UUID) -> int:
    """How many recovery codes the account has not used."""
    left: int = await db.fetchval(RECOVERY_LEFT, user_id)
    return left


async def remove_factor(db: Connection | Pool, user_id: uuid.UUID) -> bool:
    """Switch an account's second factor off (a lost device), with its recovery codes and
    waiting logins; False when it had none. A role that needs one must enrol again."""
    return await db.fetchval(REMOVE_FACTOR, user_id) is not None
