"""Benchmark retention and access exports against bare equivalents in the same run.

1. **Erasure.** N expired recordings (rows, header rows and 16 KiB payload files on the
   filesystem store) are erased by the real retention sweep (hold check, crypto-shredding, tombstones,
   the pending-deletion queue, every object deleted, the audit event). Target: >= 1 000 per
   second. The same number are then deleted the bare way (the same set-based DELETEs of
   rows and headers in batches of 500, the same 32 concurrent unlinks, nothing else), and
   the ratio is printed.
2. **Access export.** A caller with M recordings (real sealed objects of the size of a
   90-second call) is exported by the real exporter: every recording decrypted, zipped with
   the metadata, index and manifest, and sealed again as one export object. Its throughput
   is compared with reading the same recordings (decrypting them, in the same order), and
   with reading their ciphertext raw. Target: export / decrypting read >= 0.5.

Setup uses bulk ``unnest`` inserts and plain file writes so that it takes seconds, not the
time the benchmark measures. The database is the embedded one, in a temporary folder.

Run: ``.venv/bin/python -m bench.retention [--recordings 100000] [--exported 1000]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from callrec.app import load_or_create_keyring, open_database
from common.settings import Settings
from rights.export import AccessExport, Subject
from rights.sweeps import erasure_engine, retention_sweep
from storage.db import Pool
from storage.fs import FilesystemStore
from storage.vault import SealedObject, Vault, insert_sealed, load_sealed

CALLER = "+358401234567"
BATCH = 500
CONCURRENCY = 32
CALL_BYTES = 270_000  # 90 s of Opus at 24 kbit/s
ERASED_BYTES = 16_384  # part 1's payloads: 100 000 full-size calls would need 27 GB of disk

INSERT_HEADERS = """
INSERT INTO sealed_objects (id, object_key, header, key_version, payload_nonce, payload_size,
                            plaintext_size, plaintext_sha256)
SELECT id, 'recordings/' || substr(replace(id::text, '-', ''), 1, 2) || '/'
           || replace(id::text, '-', ''), $2, 1, $3, $4::bigint, $4::bigint - 32, $5
FROM unnest($1::uuid[]) AS id
"""
INSERT_RECORDINGS = """
INSERT INTO recordings (id, external_id, status, started_at, declared_duration_seconds,
    answered_by, caller_number, direction, channel_layout, notice_played, audio_object_id)
SELECT r, 'bench-' || r, 'ready', s, 90, 'agent', $4, 'inbound', 'mono', true, o
FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS t(r, o, s)
"""
BARE_DELETE_ROWS = "DELETE FROM recordings WHERE id = ANY($1) RETURNING audio_object_id"
BARE_DELETE_HEADERS = "DELETE FROM sealed_objects WHERE id = ANY($1) RETURNING object_key"


def object_path(root: Path, object_id: uuid.UUID) -> Path:
    return root / "recordings" / object_id.hex[:2] / object_id.hex


def write_payloads(root: Path, ids: list[uuid.UUID], size: int) -> None:
    """Plain file writes (the payloads are never read in part 1; their bytes do not matter)."""
    data = os.urandom(size)
    for object_id in ids:
        path = object_path(root, object_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


async def add_expired(pool: Pool, root: Path, count: int, size: int) -> list[uuid.UUID]:
    """``count`` recordings from 200 days ago with header rows and payload files."""
    objects = [uuid.uuid4() for _ in range(count)]
    recordings = [uuid.uuid4() for _ in range(count)]
    chunks = [objects[i : i + 10_000] for i in range(0, count, 10_000)]
    await asyncio.gather(*(asyncio.to_thread(write_payloads, root, c, size) for c in chunks))
    started = datetime.now(UTC) - timedelta(days=200)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(INSERT_HEADERS, objects, b"h" * 120, b"n" * 16, size, b"s" * 32)
        await conn.execute(INSERT_RECORDINGS, recordings, objects, [started] * count, CALLER)
    await pool.execute("ANALYZE")
    return recordings


async def bare_delete(pool: Pool, store: FilesystemStore, ids: list[uuid.UUID]) -> None:
    """Rows, headers and payloads, nothing else: the floor any erasure pays."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def delete(key: str) -> None:
        async with limit:
            await store.delete(key)

    for i in range(0, len(ids), BATCH):
        async with pool.acquire() as conn, conn.transaction():
            objects = [r[0] for r in await conn.fetch(BARE_DELETE_ROWS, ids[i : i + BATCH])]
            keys = [r[0] for r in await conn.fetch(BARE_DELETE_HEADERS, objects)]
        await asyncio.gather(*map(delete, keys))


async def erasure(pool: Pool, store: FilesystemStore, settings: Settings, count: int) -> None:
    root = store.root
    print(f"part 1: erasing {count:,} expired recordings of {ERASED_BYTES // 1024} KiB each")
    started = time.perf_counter()
    await add_expired(pool, root, count, ERASED_BYTES)
    print(f"  setup {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    engine = erasure_engine(pool, store)
    report = await retention_sweep(pool, engine, settings).run(only=("recordings",))
    swept = time.perf_counter() - started
    erased = report.counts()["recordings"].get("recording.erased", 0)
    assert erased == count, report.counts()
    assert report.categories["recordings"].objects_deleted == count
    assert not any(root.glob("recordings/*/*")), "payloads left behind"

    ids = await add_expired(pool, root, count, ERASED_BYTES)
    started = time.perf_counter()
    await bare_delete(pool, store, ids)
    bare = time.perf_counter() - started
    assert await pool.fetchval("SELECT count(*) FROM recordings") == 0

    print(
        f"  retention sweep: {count / swept:,.0f} recordings/s ({swept:.1f} s; target >= 1,000/s)"
    )
    print(f"  bare delete:     {count / bare:,.0f} recordings/s ({bare:.1f} s)")
    print(f"  sweep / bare rate: {bare / swept:.2f}")


async def call_audio(size: int) -> AsyncIterator[bytes]:
    data = os.urandom(size)
    for i in range(0, size, 65536):
        yield data[i : i + 65536]


async def add_caller_recordings(pool: Pool, vault: Vault, count: int) -> list[SealedObject]:
    """``count`` real sealed calls of one caller, a minute apart, 30 days ago."""
    limit = asyncio.Semaphore(8)
    base = datetime.now(UTC) - timedelta(days=30)

    async def one() -> SealedObject:
        async with limit:
            return await vault.seal(call_audio(CALL_BYTES), kind="recordings")

    sealed = list(await asyncio.gather(*(one() for _ in range(count))))
    async with pool.acquire() as conn, conn.transaction():
        for item in sealed:
            await insert_sealed(conn, item)
        await conn.execute(
            INSERT_RECORDINGS,
            [uuid.uuid4() for _ in sealed],
            [item.id for item in sealed],
            [base + timedelta(minutes=n) for n in range(count)],
            CALLER,
        )
    return sealed


async def export_once(pool: Pool, vault: Vault, settings: Settings) -> SealedObject:
    async with pool.acquire() as conn:
        export = AccessExport(conn, vault, None, settings, Subject("phone", CALLER))
        sealed = await vault.seal(export.stream(), kind="exports")
    assert export.result.recordings > 0
    return sealed


async def export(pool: Pool, vault: Vault, settings: Settings, count: int, rounds: int) -> None:
    print(f"part 2: exporting a caller with {count:,} recordings of {CALL_BYTES // 1000} kB")
    started = time.perf_counter()
    await add_caller_recordings(pool, vault, count)
    print(f"  setup {time.perf_counter() - started:.1f} s")
    ids = [
        r[0] for r in await pool.fetch("SELECT audio_object_id FROM recordings ORDER BY started_at")
    ]
    async with pool.acquire() as conn:
        sealed = [s for s in [await load_sealed(conn, i) for i in ids] if s is not None]
    audio_bytes = sum(s.plaintext_size for s in sealed)

    async def decrypting_read() -> None:
        for item in sealed:
            async for _ in vault.open_range(item):
                pass

    async def raw_read() -> None:
        for item in sealed:
            async for _ in vault.store.get_range(item.object_key, 0, item.payload_size):
                pass

    timings: dict[str, list[float]] = {"export": [], "read": [], "raw": []}
    zip_bytes = 0
    for _ in range(rounds):  # interleaved, so drift on a shared machine hits all three alike
        for name, action in (("read", decrypting_read), ("raw", raw_read)):
            started = time.perf_counter()
            await action()
            timings[name].append(time.perf_counter() - started)
        started = time.perf_counter()
        exported = await export_once(pool, vault, settings)
        timings["export"].append(time.perf_counter() - started)
        zip_bytes = exported.plaintext_size
        await vault.store.delete(exported.object_key)  # each round starts with the same disk
    best = {name: statistics.median(values) for name, values in timings.items()}
    mb = audio_bytes / 1e6
    print(
        f"  export:          {mb / best['export']:,.0f} MB/s of audio ({best['export']:.2f} s;"
        f" ZIP {zip_bytes / 1e6:,.0f} MB)"
    )
    print(f"  decrypting read: {mb / best['read']:,.0f} MB/s ({best['read']:.2f} s)")
    print(f"  raw read:        {mb / best['raw']:,.0f} MB/s ({best['raw']:.2f} s)")
    print(f"  export / decrypting read: {best['read'] / best['export']:.2f} (target >= 0.5)")
    print(f"  export / raw read:        {best['raw'] / best['export']:.2f}")


async def run(recordings: int, exported: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        settings = Settings(data_dir=folder / "var", log_format="text", scheduler=False)
        keyring = load_or_create_keyring(settings)
        store = FilesystemStore(folder / "objects")
        async with open_database(settings) as pool:
            await erasure(pool, store, settings, recordings)
            await export(pool, Vault(store, keyring), settings, exported, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recordings", type=int, default=100_000)
    parser.add_argument("--exported", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.recordings, args.exported, args.rounds))


if __name__ == "__main__":
    main()
