"""The object-store interface every backend implements, and the errors it may raise.

Backends only ever see ciphertext: encryption wraps the store (:mod:`storage.vault`), not the
other way round. Keys are opaque, random and free of personal data; :func:`check_key` keeps
them to a safe alphabet so no backend has to think about path escapes or URL quoting.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

_KEY_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_.-]*)*$")
MAX_KEY_LENGTH: Final = 200
PROBE_KEY: Final = "health/write-probe"  # fixed and free of personal data; reaped if left


class ObjectStoreError(Exception):
    """Base of every error an object store raises; nothing backend-specific leaks out."""


class ObjectNotFound(ObjectStoreError):
    """No object under that key."""


class InvalidObjectKey(ObjectStoreError):
    """The key does not match the safe key alphabet."""


class ObjectStoreUnavailable(ObjectStoreError):
    """The backend could not be reached or refused the operation; worth retrying later."""


@dataclass(frozen=True)
class StoredObject:
    """What a listing says about one object."""

    key: str
    size: int
    modified_at: datetime


def check_key(key: str) -> str:
    """Return ``key`` if it is safe: lower-case segments, no ``..``, no leading slash."""
    if len(key) > MAX_KEY_LENGTH or not _KEY_PATTERN.match(key) or ".." in key:
        raise InvalidObjectKey("object keys are lower-case a-z 0-9 _ - . segments separated by /")
    return key


class ObjectStore(Protocol):
    """A place for opaque encrypted blobs."""

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store a stream of unknown length under ``key``; return the bytes written.

        Atomic: the object appears whole or not at all, also when the stream raises.
        """
        ...

    def get_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        """Yield ``length`` bytes starting at ``start`` (fewer if the object ends first)."""
        ...

    async def size(self, key: str) -> int:
        """The object's size in bytes."""
        ...

    async def delete(self, key: str) -> None:
        """Delete every version of the object; deleting a missing object is not an error."""
        ...

    def list(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        """Every object whose key starts with ``prefix`` (for the orphan reaper)."""
        ...

    async def ping(self) -> None:
        """Raise :class:`ObjectStoreUnavailable` unless the store is usable."""
        ...

    async def close(self) -> None:
        """Release connections and threads."""
        ...


class WriteProbe:
    """Proves the store takes writes by putting and deleting a tiny object under
    :data:`PROBE_KEY`, at most once per ``ttl`` seconds: a store can answer reads (or a
    bucket listing) and still refuse every upload, which only a write shows. Concurrent
    callers share one probe, so a busy readiness endpoint costs the store nothing more."""

    def __init__(self, store: ObjectStore, *, ttl: float = 5.0, timeout: float = 5.0) -> None:
        self.store = store
        self.ttl = ttl
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._checked_at: float | None = None
        self._failure: str | None = None

    async def check(self) -> None:
        """Raise :class:`ObjectStoreUnavailable` unless the last probe (fresh enough) wrote."""
        async with self._lock:
            if self._checked_at is None or time.monotonic() - self._checked_at >= self.ttl:
                self._failure = await self._probe()
                self._checked_at = time.monotonic()
        if self._failure is not None:
            raise ObjectStoreUnavailable(self._failure)

    async def _probe(self) -> str | None:
        try:
            async with asyncio.timeout(self.timeout):
                await self.store.put(PROBE_KEY, once(b"callrec write probe"))
                await self.store.delete(PROBE_KEY)
        except ObjectStoreError as exc:
            return str(exc)
        except TimeoutError:
            return f"no answer to a write within {self.timeout:.0f} s"
        return None


async def once(data: bytes) -> AsyncIterator[bytes]:
    """``data`` as a stream of one piece, for the calls that take a stream."""
    yield data
