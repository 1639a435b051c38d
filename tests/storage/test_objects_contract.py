"""One contract, every backend: the filesystem store and the S3 store behave the same."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.fs import FilesystemStore
from storage.objects import (
    InvalidObjectKey,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreUnavailable,
    WriteProbe,
)
from storage.s3 import S3Store
from tests.faults import read_only


async def stream(data: bytes, piece: int = 100_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), piece):
        yield data[i : i + piece]


async def read(store: ObjectStore, key: str, start: int, length: int) -> bytes:
    return b"".join([p async for p in store.get_range(key, start, length)])


async def test_put_stream_of_unknown_length_and_read_ranges(store: ObjectStore) -> None:
    data = os.urandom(9 * 1024 * 1024 + 123)  # over one S3 part: exercises multipart
    written = await store.put("test/aa/one", stream(data))
    assert written == len(data)
    assert await store.size("test/aa/one") == len(data)
    assert await read(store, "test/aa/one", 0, len(data)) == data
    assert await read(store, "test/aa/one", 5_000_000, 70_000) == data[5_000_000:5_070_000]
    assert await read(store, "test/aa/one", len(data) - 10, 100) == data[-10:]


async def test_empty_object(store: ObjectStore) -> None:
    assert await store.put("test/empty", stream(b"")) == 0
    assert await store.size("test/empty") == 0


async def test_missing_object_raises_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        await store.size("test/none")
    with pytest.raises(ObjectNotFound):
        await read(store, "test/none", 0, 10)


async def test_overwrite_then_delete_removes_every_version(store: ObjectStore) -> None:
    await store.put("test/v", stream(b"first"))
    await store.put("test/v", stream(b"second"))
    assert await read(store, "test/v", 0, 100) == b"second"
    await store.delete("test/v")
    with pytest.raises(ObjectNotFound):
        await store.size("test/v")
    await store.delete("test/v")  # deleting again is fine
    assert [o.key async for o in store.list("test/v")] == []


async def test_versioned_bucket_keeps_no_old_version(s3_store: S3Store) -> None:
    client = s3_store._client
    from minio.commonconfig import ENABLED
    from minio.versioningconfig import VersioningConfig

    client.set_bucket_versioning(s3_store.bucket, VersioningConfig(ENABLED))
    await s3_store.put("test/v", stream(b"first"))
    await s3_store.put("test/v", stream(b"second"))
    versions = list(client.list_objects(s3_store.bucket, prefix="test/v", include_version=True))
    assert len(versions) == 2
    await s3_store.delete("test/v")
    left = list(client.list_objects(s3_store.bucket, prefix="test/v", include_version=True))
    assert left == []


async def test_failed_stream_leaves_nothing(store: ObjectStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield os.urandom(9 * 1024 * 1024)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put("test/broken", broken())
    with pytest.raises(ObjectNotFound):
        await store.size("test/broken")
    assert [o.key async for o in store.list("test/")] == []


async def test_list_for_reaping(store: ObjectStore) -> None:
    for key in ("test/a/1", "test/a/2", "test/b/1"):
        await store.put(key, stream(b"x" * 10))
    listed = [o async for o in store.list("test/a/")]
    assert [o.key for o in listed] == ["test/a/1", "test/a/2"]
    assert all(o.size == 10 and o.modified_at.tzinfo is not None for o in listed)


@pytest.mark.parametrize(
    "key",
    ["../escape", "/abs", "UPPER", "a/../b", "a//b", "with space", "", "a/.hidden", "x" * 300],
)
async def test_unsafe_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        await store.put(key, stream(b"x"))


async def test_ping(store: ObjectStore) -> None:
    await store.ping()


async def test_unreachable_s3_is_reported_as_unavailable() -> None:
    store = S3Store("127.0.0.1:9", "k", "s", "bucket", secure=False)
    with pytest.raises(ObjectStoreUnavailable):
        await store.ping()
    await store.close()


async def test_fs_store_writes_atomically(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)

    async def slow() -> AsyncIterator[bytes]:
        yield b"a" * 2_000_000
        assert not (tmp_path / "test" / "atomic").exists()  # not visible mid-write
        yield b"b"

    await store.put("test/atomic", slow())
    assert (tmp_path / "test" / "atomic").stat().st_size == 2_000_001
    assert [p.name for p in (tmp_path / "test").iterdir()] == ["atomic"]


async def test_fs_store_refusing_writes_is_unavailable_and_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = FilesystemStore(root)
    await store.put("test/kept", stream(b"x" * 10))
    with read_only(root) as switch:
        switch(True)
        for key in ("test/new", "other/new"):  # an existing folder and a new one
            with pytest.raises(ObjectStoreUnavailable) as refused:
                await store.put(key, stream(b"y" * 3_000_000))
            assert str(tmp_path) not in str(refused.value)  # the kind, never the path
        with pytest.raises(ObjectStoreUnavailable):
            await store.delete("test/kept")
        assert await store.size("test/kept") == 10  # reads still work
    assert [o.key async for o in store.list()] == ["test/kept"]


async def test_write_probe_writes_for_real_and_caches_its_answer(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    probe = WriteProbe(FilesystemStore(root), ttl=0.3)
    await probe.check()
    assert [o async for o in FilesystemStore(root).list()] == []  # probe object deleted again
    with read_only(root) as switch:
        switch(True)
        await probe.check()  # within the ttl: the answer of the probe before
        await asyncio.sleep(0.3)
        with pytest.raises(ObjectStoreUnavailable):
            await probe.check()
    with pytest.raises(ObjectStoreUnavailable):
        await probe.check()  # a failure is kept as long
    await asyncio.sleep(0.3)
    await probe.check()
