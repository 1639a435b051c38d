"""Encryption of single sensitive fields (henkilötunnus, travel documents, change history).

One random data key per purpose lives in ``data_keys``, wrapped in an age header to the
keyring exactly like an object's file key, so ``callrec keys rewrap`` and key rotation
cover it and recovery needs nothing but the keyring. From it two keys are derived:

* an AEAD key: each value is ChaCha20-Poly1305 with a random nonce, and the *context*
  (table, column, row id) as associated data, so a ciphertext copied onto another row or
  column fails to decrypt instead of quietly showing someone else's identity code;
* an HMAC key for the blind index: the same normalised value always gives the same
  32 bytes, so an exact lookup is an indexed equality, and the value itself is never stored.

A bearer token (a session's, an export link's) needs no key: it is random, so the database
keeps only its :func:`token_digest` and looks it up by that.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.age import new_header, parse_header
from storage.db import Connection
from storage.keyring import Keyring

NONCE_SIZE: Final = 12
DATA_KEY_LOCK: Final = 0x6361_6C6C_646B_6579  # "calldkey": one creator per data key
SELECT_KEY: Final = "SELECT header, key_version FROM data_keys WHERE name = $1"
INSERT_KEY: Final = "INSERT INTO data_keys (name, header, key_version) VALUES ($1, $2, $3)"


class FieldDecryptionError(Exception):
    """A stored value does not decrypt under this key and context (altered or moved)."""


def derive_key(key: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for one ``purpose`` only, so one data key never serves two jobs."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)


class FieldCipher:
    """Encrypts values to a context and computes blind-index digests."""

    def __init__(self, data_key: bytes) -> None:
        self._aead = ChaCha20Poly1305(derive_key(data_key, b"callrec field encryption"))
        self._index_key = derive_key(data_key, b"callrec blind index")

    def encrypt(self, value: str, context: str) -> bytes:
        """``nonce || ciphertext`` of ``value``, bound to ``context``."""
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, value.encode(), context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        """The value :meth:`encrypt` sealed with the same ``context``."""
        try:
            plain = self._aead.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], context.encode())
        except Exception:  # cryptography raises InvalidTag; never say more than that
            raise FieldDecryptionError(f"value for {context} does not decrypt") from None
        return plain.decode()

    def blind_index(self, kind: str, normalised: str) -> bytes:
        """Keyed digest for exact lookup of ``normalised`` (of ``kind``: hetu, document…)."""
        message = kind.encode() + b"\x00" + normalised.encode()
        return hmac.new(self._index_key, message, hashlib.sha256).digest()


def token_digest(token: str) -> bytes:
    """What the database keeps of a bearer token, and looks it up by: its SHA-256."""
    return hashlib.sha256(token.encode()).digest()


async def load_data_key(conn: Connection, keyring: Keyring, name: str) -> bytes:
    """The data key called ``name``; created (wrapped to the current key) on first use."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", DATA_KEY_LOCK)
        row = await conn.fetchrow(SELECT_KEY, name)
        if row is None:
            file_key, header = new_header([keyring.current.recipient])
            await conn.execute(INSERT_KEY, name, header, keyring.current.version)
            return file_key
    return parse_header(row["header"]).file_key(keyring.identities(row["key_version"]))
