"""Password hashing with scrypt (``cryptography``), in a self-describing string format.

Format: ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>``, so the cost can be raised later
and old hashes still verify. Hashing takes tens of milliseconds on purpose; call it in a thread.
"""

from __future__ import annotations

import base64
import os
from typing import Final

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from accounts.password_policy import MAX_LENGTH, PasswordPolicyError, check_policy

LOG2_N: Final = 15
R: Final = 8
P: Final = 1
__all__ = ["DUMMY_HASH", "PasswordPolicyError", "hash_password", "verify_password"]


def hash_password(password: str, username: str | None = None) -> str:
    """A new salted scrypt hash of ``password``, which must meet the policy (for ``username``)."""
    check_policy(password, username)
    salt = os.urandom(16)
    digest = Scrypt(salt=salt, length=32, n=2**LOG2_N, r=R, p=P).derive(password.encode())
    return _formatted(salt, digest)


def _formatted(salt: bytes, digest: bytes) -> str:
    """The stored form of a hash made with today's cost parameters."""
    encode = base64.b64encode
    return f"scrypt${LOG2_N}${R}${P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; malformed hashes never match."""
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        kdf = Scrypt(salt=base64.b64decode(salt), length=32, n=2 ** int(log2_n), r=int(r), p=int(p))
        kdf.verify(password.encode()[: MAX_LENGTH * 4], base64.b64decode(digest))
    except (ValueError, InvalidKey):
        return False
    return True


# Verifying against this when the user does not exist runs the same scrypt as for a real
# account (same cost, a well-formed hash that no password matches), so login timing does not
# reveal which usernames exist. It is built from the cost constants, so it follows them.
DUMMY_HASH: Final = _formatted(os.urandom(16), os.urandom(32))
