"""Filesystem object store: the embedded default, one file per object under a root folder.

Writes go to a temporary file in the same folder and are renamed into place after fsync, so
a crash or a failed upload never leaves a half object under a real key. Blocking file calls
run in a thread so the event loop keeps serving other requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Final, ParamSpec, TypeVar

from storage.flush import start_writeback
from storage.objects import (
    ObjectNotFound,
    ObjectStoreUnavailable,
    StoredObject,
    check_key,
)

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

_TEMP_SUFFIX: Final = ".partial-"
_WRITE_BATCH: Final = 1024 * 1024
_READ_SIZE: Final = 256 * 1024


class FilesystemStore:
    """An :class:`~storage.objects.ObjectStore` in a local directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # belt and braces after check_key
            raise ObjectNotFound(key)
        return path

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Write to a temporary file, fsync, then rename into place.

        One batch is written in a thread while the next is being produced, so disk time
        overlaps with the producer's work (hashing, encryption); memory stays at two batches.
        A refused write (read-only or full disk, permissions) is :class:`ObjectStoreUnavailable`;
        errors of the stream itself pass through unchanged.
        """
        path = self._path(key)
        await _disk(path.parent.mkdir, parents=True, exist_ok=True)
        temp = path.with_name(path.name + _TEMP_SUFFIX + secrets.token_hex(8))
        handle: BinaryIO = await _disk(temp.open, "xb")
        written = 0
        in_flight: asyncio.Future[None] | None = None
        try:
            pending: list[bytes] = []
            pending_size = 0
            async for chunk in chunks:
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size >= _WRITE_BATCH:
                    if in_flight is not None:
                        await in_flight
                    in_flight = asyncio.ensure_future(
                        _disk(_write, handle, pending, written, pending_size)
                    )
                    written += pending_size
                    pending, pending_size = [], 0
            if in_flight is not None:
                await in_flight
            await _disk(_finish, handle, pending)
            written += pending_size
            await _disk(os.replace, temp, path)
        except BaseException:
            if in_flight is not None:
                await asyncio.gather(in_flight, return_exceptions=True)
            with contextlib.suppress(OSError):  # flushes what a failed write left: may fail
                handle.close()
            with contextlib.suppress(OSError):  # a leftover temporary file is reaped later
                temp.unlink(missing_ok=True)
            raise
        return written

    async def get_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        """Seek and read only the requested bytes; a small read (a transcript, a header's
        worth) takes one trip to a thread instead of three."""
        if length <= _READ_SIZE:
            data = await _disk(_read_small, self._path(key), start, length)
            if data:
                yield data
            return
        handle = await _disk(self._path(key).open, "rb")
        try:
            await _disk(handle.seek, start)
            remaining = length
            while remaining > 0:
                data = await _disk(handle.read, min(remaining, _READ_SIZE))
                if not data:
                    break
                remaining -= len(data)
                yield data
        finally:
            handle.close()

    async def size(self, key: str) -> int:
        """Size from the file's metadata."""
        return (await _disk(self._path(key).stat)).st_size

    async def delete(self, key: str) -> None:
        """Remove the file; a filesystem keeps no older versions."""
        await _disk(self._path(key).unlink, missing_ok=True)

    async def list(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        """Walk the tree; temporary files of unfinished writes are listed too, for reaping."""
        found = await _disk(_scan, self.root, prefix)
        for item in found:
            yield item

    async def ping(self) -> None:
        """The root must exist and be writable."""
        await _disk(self.root.mkdir, parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise ObjectStoreUnavailable("object folder is not writable")

    async def close(self) -> None:
        """Nothing to release."""


async def _disk(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking file call in a thread; a missing file is :class:`ObjectNotFound`, any
    other refusal :class:`ObjectStoreUnavailable` naming the kind of error, never the path."""
    try:
        return await asyncio.to_thread(func, *args, **kwargs)
    except FileNotFoundError:
        raise ObjectNotFound("no such object") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ObjectStoreUnavailable(f"object folder refused the operation: {reason}") from None


def _write(handle: BinaryIO, pending: list[bytes], offset: int, size: int) -> None:
    handle.writelines(pending)
    handle.flush()
    start_writeback(handle.fileno(), offset, size)


def _finish(handle: BinaryIO, pending: list[bytes]) -> None:
    handle.writelines(pending)
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _scan(root: Path, prefix: str) -> list[StoredObject]:
    items: list[StoredObject] = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            key = path.relative_to(root).as_posix()
            if key.startswith(prefix):
                try:
                    stat = path.stat()
                except FileNotFoundError:  # deleted while we walked
                    continue
                modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
                items.append(StoredObject(key, stat.st_size, modified))
    return sorted(items, key=lambda item: item.key)


def _read_small(path: Path, start: int, length: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(start)
        return handle.read(length)
