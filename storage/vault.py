"""The vault: encryption wrapped around an object store, headers kept in PostgreSQL.

Everything callrec writes that holds audio or personal data goes through :meth:`Vault.seal`
(incoming uploads, renditions, exports), so nothing reaches the store as plaintext. Reading
any plaintext byte range fetches only the 64 KiB chunks that cover it, which is what makes
seeking inside an hour-long encrypted call instant.

Sealing and persisting are separate steps on purpose: :meth:`Vault.seal` writes the payload
and returns a :class:`SealedObject`; the caller inserts its row inside its own transaction
(with the recording that owns it), so the caller owns atomicity.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from storage.age import (
    CHUNK_SIZE,
    SEALED_CHUNK_SIZE,
    AgeError,
    PayloadDecryptor,
    PayloadLayout,
    encrypt_stream,
    new_header,
    parse_header,
    rewrap_header,
)
from storage.db import Connection, Pool
from storage.keyring import Keyring
from storage.objects import ObjectStore, ObjectStoreError

log = logging.getLogger(__name__)

KINDS: Final = frozenset({"incoming", "recordings", "originals", "exports", "transcripts", "test"})

INSERT_SEALED: Final = """
INSERT INTO sealed_objects (id, object_key, header, key_version, payload_nonce, payload_size,
                            plaintext_size, plaintext_sha256)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
SELECT_SEALED: Final = """
SELECT id, object_key, header, key_version, payload_nonce, payload_size, plaintext_size,
       plaintext_sha256
FROM sealed_objects WHERE id = $1
"""
SELECT_SEALED_MANY: Final = SELECT_SEALED.replace("id = $1", "id = ANY($1::uuid[])")
DELETE_SEALED: Final = "DELETE FROM sealed_objects WHERE id = $1 RETURNING object_key"
SHRED_HEADERS: Final = """
WITH gone AS (DELETE FROM sealed_objects WHERE id = ANY($1) RETURNING object_key)
INSERT INTO pending_object_deletions (object_key) SELECT object_key FROM gone
ON CONFLICT DO NOTHING RETURNING object_key
"""
PENDING_DELETIONS: Final = """
SELECT object_key FROM pending_object_deletions WHERE object_key > $1
ORDER BY object_key LIMIT $2
"""
DONE_DELETING: Final = "DELETE FROM pending_object_deletions WHERE object_key = ANY($1)"
UNREFERENCED: Final = """
SELECT k FROM unnest($1::text[]) AS k
WHERE NOT EXISTS (SELECT 1 FROM sealed_objects s WHERE s.object_key = k)
"""
# Every table that holds age headers: the objects' and the field-encryption data keys'.
WRAPPED_KEYS: Final = (
    (
        "SELECT id, header, key_version FROM sealed_objects"
        " WHERE key_version < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
        "UPDATE sealed_objects SET header = $2, key_version = $3 WHERE id = $1",
    ),
    (
        "SELECT name AS id, header, key_version FROM data_keys"
        " WHERE key_version < $1 ORDER BY name LIMIT $2 FOR UPDATE SKIP LOCKED",
        "UPDATE data_keys SET header = $2, key_version = $3 WHERE name = $1",
    ),
)
HEADERS_BY_VERSION: Final = """
SELECT key_version, count(*) AS headers
FROM (SELECT key_version FROM sealed_objects UNION ALL SELECT key_version FROM data_keys) k
GROUP BY key_version ORDER BY key_version
"""


@dataclass(frozen=True)
class SealedObject:
    """An encrypted object: where its payload is and the header that opens it."""

    id: uuid.UUID
    object_key: str
    header: bytes
    key_version: int
    payload_nonce: bytes
    payload_size: int
    plaintext_size: int
    plaintext_sha256: bytes

    @property
    def layout(self) -> PayloadLayout:
        """Chunk arithmetic for this payload."""
        return PayloadLayout(self.payload_size)


class Vault:
    """Seal streams into the store and open plaintext ranges of sealed objects."""

    def __init__(self, store: ObjectStore, keyring: Keyring) -> None:
        self.store = store
        self.keyring = keyring

    async def seal(self, plaintext: AsyncIterable[bytes], *, kind: str) -> SealedObject:
        """Encrypt ``plaintext`` to the current key into a new object under ``kind/``."""
        if kind not in KINDS:
            raise ValueError(f"unknown object kind {kind!r}")
        object_id = uuid.uuid4()
        object_key = f"{kind}/{object_id.hex[:2]}/{object_id.hex}"
        current = self.keyring.current
        file_key, header = new_header([current.recipient])
        digest = hashlib.sha256()
        size = 0

        async def measured() -> AsyncIterator[bytes]:
            nonlocal size
            async for piece in plaintext:
                size += len(piece)
                yield piece

        payload = encrypt_stream(file_key, measured(), digest=digest)
        nonce = await anext(payload)

        async def with_nonce() -> AsyncIterator[bytes]:
            yield nonce
            async for sealed in payload:
                yield sealed

        written = await self.store.put(object_key, with_nonce())
        return SealedObject(
            object_id, object_key, header, current.version, nonce, written, size, digest.digest()
        )

    async def open_range(
        self, sealed: SealedObject, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """Yield plaintext bytes ``[start, end)``, reading and decrypting only their chunks."""
        layout = sealed.layout
        end = layout.plaintext_size if end is None else end
        if start == end:
            return
        first, last = layout.chunk_range(start, end)
        identities = self.keyring.identities(sealed.key_version)
        file_key = parse_header(sealed.header).file_key(identities)
        decryptor = PayloadDecryptor(file_key, sealed.payload_nonce, layout)
        offset = layout.payload_offset(first)
        length = min(layout.payload_offset(last + 1), sealed.payload_size) - offset
        buffer = bytearray()
        index = first
        skip = start - first * CHUNK_SIZE
        remaining = end - start
        received = 0
        async for piece in self.store.get_range(sealed.object_key, offset, length):
            received += len(piece)
            buffer += piece
            while len(buffer) >= SEALED_CHUNK_SIZE or (received == length and buffer):
                take = min(SEALED_CHUNK_SIZE, len(buffer))
                plain = decryptor.decrypt(index, bytes(buffer[:take]))
                del buffer[:take]
                index += 1
                out = plain[skip : skip + remaining]
                skip = 0
                remaining -= len(out)
                if out:
                    yield out
        if remaining > 0 or received != length:
            raise AgeError("encrypted object is shorter than its header says (truncated)")

    async def read_all(self, sealed: SealedObject) -> bytes:
        """Decrypt a whole (small) object into memory; for tests and tiny objects only."""
        return b"".join([piece async for piece in self.open_range(sealed)])


async def insert_sealed(conn: Connection, sealed: SealedObject) -> None:
    """Persist the header row of a freshly sealed object."""
    await conn.execute(
        INSERT_SEALED,
        sealed.id,
        sealed.object_key,
        sealed.header,
        sealed.key_version,
        sealed.payload_nonce,
        sealed.payload_size,
        sealed.plaintext_size,
        sealed.plaintext_sha256,
    )


async def load_sealed(conn: Connection | Pool, object_id: uuid.UUID) -> SealedObject | None:
    """The sealed object with this id, or None once it has been shredded."""
    row = await conn.fetchrow(SELECT_SEALED, object_id)
    return None if row is None else SealedObject(**dict(row))


async def load_sealed_many(
    conn: Connection | Pool, object_ids: list[uuid.UUID]
) -> dict[uuid.UUID, SealedObject]:
    """The sealed objects among ``object_ids`` that still exist, by id, in one query."""
    rows = await conn.fetch(SELECT_SEALED_MANY, object_ids)
    return {row["id"]: SealedObject(**dict(row)) for row in rows}


async def shred_headers(conn: Connection, object_ids: Sequence[uuid.UUID]) -> list[str]:
    """Crypto-shred in the caller's transaction: delete the key headers, queue the payloads.

    From the commit on, the payloads are unreadable and the orphan reaper owns them: deleting
    them later can fail without anything moving backwards. Returns the queued object keys.
    """
    return [row["object_key"] for row in await conn.fetch(SHRED_HEADERS, list(object_ids))]


async def pending_deletions(db: Connection | Pool, after: str, limit: int) -> list[str]:
    """Queued payload keys (already unreadable) after ``after``, in key order: the reaper's
    page through the payloads the store has not yet confirmed deleting."""
    return [row["object_key"] for row in await db.fetch(PENDING_DELETIONS, after, limit)]


async def forget_deleted(db: Connection | Pool, keys: Sequence[str]) -> None:
    """Take payloads the store confirmed deleting off the pending list."""
    await db.execute(DONE_DELETING, list(keys))


async def unreferenced(db: Connection | Pool, keys: Sequence[str]) -> list[str]:
    """The object keys among ``keys`` that no header row names: payloads nobody can read."""
    return [row["k"] for row in await db.fetch(UNREFERENCED, list(keys))]


async def shred(conn: Connection, store: ObjectStore, object_id: uuid.UUID) -> bool:
    """Crypto-shred: delete the header row (the only wrapped key), then every object version.

    The row goes first, so even if the store is down the object is already unreadable; the
    orphan reaper removes payloads whose delete failed.
    """
    object_key = await conn.fetchval(DELETE_SEALED, object_id)
    if object_key is None:
        return False
    await store.delete(object_key)
    return True


async def rewrap(
    pool: Pool,
    keyring: Keyring,
    *,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-encrypt every header not yet on the current key; payloads stay untouched."""
    current = keyring.current
    total = 0
    for select_stale, update in WRAPPED_KEYS:
        while True:
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(select_stale, current.version, batch)
                for row in rows:
                    identities = keyring.identities(row["key_version"])
                    header = rewrap_header(row["header"], identities, current.recipient)
                    await conn.execute(update, row["id"], header, current.version)
            total += len(rows)
            if progress is not None and rows:
                progress(total)
            if len(rows) < batch:
                break
    return total


async def headers_by_key_version(db: Connection | Pool) -> dict[int, int]:
    """How many wrapped keys (object headers and data keys) each key version opens: after a
    rotation, the ones on older versions are what ``keys rewrap`` has still to move."""
    return {row["key_version"]: row["headers"] for row in await db.fetch(HEADERS_BY_VERSION)}


async def discard(vault: Vault, object_key: str) -> None:
    """Delete an object no committed row refers to; if that fails the reaper finds it."""
    with contextlib.suppress(ObjectStoreError, OSError):
        await vault.store.delete(object_key)
