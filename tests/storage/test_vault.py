"""The vault: sealed objects on every backend, ranged reads, shredding, rewrap, memory."""

from __future__ import annotations

import hashlib
import os
import random
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pyrage
import pytest

from storage.age import CHUNK_SIZE, AgeError
from storage.db import Pool
from storage.fs import FilesystemStore
from storage.keyring import Keyring
from storage.objects import ObjectStore
from storage.vault import SealedObject, Vault, insert_sealed, load_sealed, rewrap, shred


async def stream(data: bytes, piece: int = 50_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), piece):
        yield data[i : i + piece]


async def payload_of(store: ObjectStore, sealed: SealedObject) -> bytes:
    return b"".join([p async for p in store.get_range(sealed.object_key, 0, sealed.payload_size)])


async def read(vault: Vault, sealed: SealedObject, start: int, end: int) -> bytes:
    return b"".join([p async for p in vault.open_range(sealed, start, end)])


async def test_seal_stores_only_ciphertext_and_opens_any_range(vault: Vault) -> None:
    data = os.urandom(5 * CHUNK_SIZE + 1234)
    sealed = await vault.seal(stream(data), kind="test")
    assert sealed.plaintext_size == len(data)
    assert sealed.plaintext_sha256 == hashlib.sha256(data).digest()
    assert sealed.id.hex in sealed.object_key
    payload = await payload_of(vault.store, sealed)
    assert data[:4096] not in payload
    rng = random.Random(1)
    cases = [(0, len(data)), (0, 1), (len(data) - 1, len(data)), (CHUNK_SIZE - 1, CHUNK_SIZE + 1)]
    cases += [tuple(sorted(rng.sample(range(len(data) + 1), 2))) for _ in range(15)]  # type: ignore[misc]
    for start, end in cases:
        assert await read(vault, sealed, start, end) == data[start:end], (start, end)


async def test_stock_age_format_recovers_object_with_keyring_file(
    vault: Vault, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    sealed = await vault.seal(stream(data), kind="test")
    blob = sealed.header + await payload_of(vault.store, sealed)
    identity_line = next(
        line
        for line in (tmp_path / "keyring.txt").read_text().splitlines()
        if line.startswith("AGE-SECRET-KEY-1")
    )
    assert pyrage.decrypt(blob, [pyrage.x25519.Identity.from_str(identity_line)]) == data


async def test_truncated_stored_payload_fails_loudly(tmp_path: Path, keyring: Keyring) -> None:
    store = FilesystemStore(tmp_path / "objects")
    vault = Vault(store, keyring)
    data = os.urandom(3 * CHUNK_SIZE)
    sealed = await vault.seal(stream(data), kind="test")
    path = tmp_path / "objects" / sealed.object_key
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(AgeError):
        await read(vault, sealed, 0, len(data))


async def test_header_rows_round_trip_and_shred(pool: Pool, vault: Vault) -> None:
    sealed = await vault.seal(stream(b"secret words"), kind="test")
    async with pool.acquire() as conn:
        await insert_sealed(conn, sealed)
        assert await load_sealed(conn, sealed.id) == sealed
        assert await shred(conn, vault.store, sealed.id)
        assert await load_sealed(conn, sealed.id) is None
        assert not await shred(conn, vault.store, sealed.id)
    assert [o async for o in vault.store.list(sealed.object_key)] == []


async def test_rotate_and_rewrap_keeps_payload(
    pool: Pool, store: ObjectStore, tmp_path: Path
) -> None:
    path = tmp_path / "ring.txt"
    keyring = Keyring.create(path)
    vault = Vault(store, keyring)
    items = []
    for n in range(3):
        data = os.urandom(100_000 + n)
        sealed = await vault.seal(stream(data), kind="test")
        async with pool.acquire() as conn:
            await insert_sealed(conn, sealed)
        items.append((sealed, data, await payload_of(store, sealed)))
    keyring.rotate(path)
    assert await rewrap(pool, keyring, batch=2) == 3
    assert await rewrap(pool, keyring) == 0
    only_new = Keyring.load(path)
    del only_new.entries[1]  # the old identity is retired after rewrap
    for sealed, data, payload in items:
        async with pool.acquire() as conn:
            row = await load_sealed(conn, sealed.id)
        assert row is not None
        assert row.key_version == 2
        assert await payload_of(store, row) == payload  # payload untouched
        assert await Vault(store, only_new).read_all(row) == data


async def test_recipient_only_keyring_seals_but_cannot_open(
    store: ObjectStore, keyring: Keyring, tmp_path: Path
) -> None:
    path = tmp_path / "recipients.txt"
    path.write_text(keyring.recipients_only())
    ingest_only = Keyring.load(path)
    assert not ingest_only.can_open
    sealed = await Vault(store, ingest_only).seal(stream(b"hello"), kind="test")
    with pytest.raises(Exception, match="recipients only"):
        await Vault(store, ingest_only).read_all(sealed)
    assert await Vault(store, keyring).read_all(sealed) == b"hello"


async def test_200_mb_stream_uses_bounded_memory(tmp_path: Path, keyring: Keyring) -> None:
    vault = Vault(FilesystemStore(tmp_path / "objects"), keyring)
    total = 200 * 1024 * 1024
    block = os.urandom(1024 * 1024)

    async def big() -> AsyncIterator[bytes]:
        for _ in range(total // len(block)):
            yield block

    tracemalloc.start()
    try:
        sealed = await vault.seal(big(), kind="test")
        _, seal_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        async for piece in vault.open_range(sealed):
            digest.update(piece)
        _, open_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sealed.plaintext_size == total
    assert digest.digest() == sealed.plaintext_sha256
    assert seal_peak < 8 * 1024 * 1024, seal_peak
    assert open_peak < 8 * 1024 * 1024, open_peak
