"""S3 object store through the ``minio`` client (MinIO in production, any S3 server works).

The ``minio`` client is blocking, so every call runs in a worker thread. Uploads of unknown
length are multipart: a small file-like adapter lets minio's thread pull the next piece of
the async stream from the event loop, so memory is bounded by minio's part size, never the
object size. A failed stream aborts the multipart upload, so no partial object appears.
"""

from __future__ import annotations

import asyncio
import builtins
import io
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Final, ParamSpec, TypeVar

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from storage.objects import (
    ObjectNotFound,
    ObjectStoreError,
    ObjectStoreUnavailable,
    StoredObject,
    check_key,
)

P = ParamSpec("P")
T = TypeVar("T")

PART_SIZE: Final = 8 * 1024 * 1024
_READ_SIZE: Final = 256 * 1024
_MISSING_CODES: Final = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchObject"})


class S3Store:
    """An :class:`~storage.objects.ObjectStore` in one S3 bucket."""

    def __init__(
        self, endpoint: str, access_key: str, secret_key: str, bucket: str, *, secure: bool
    ) -> None:
        http = urllib3.PoolManager(
            num_pools=4,
            maxsize=32,
            timeout=urllib3.Timeout(connect=5, read=60),
            retries=urllib3.Retry(
                total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
        )
        self._client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, http_client=http
        )
        self._http = http
        self.bucket = bucket

    async def _call(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking minio call in a thread and convert its errors at this boundary."""
        try:
            return await asyncio.to_thread(func, *args, **kwargs)
        except S3Error as exc:
            if exc.code in _MISSING_CODES:
                raise ObjectNotFound("no such object") from None
            raise ObjectStoreUnavailable(f"S3 refused the request: {exc.code}") from None
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise ObjectStoreUnavailable(f"S3 unreachable: {type(exc).__name__}") from None

    async def ensure_bucket(self) -> None:
        """Create the bucket if it is missing (idempotent, safe to race)."""
        if not await self._call(self._client.bucket_exists, self.bucket):
            try:
                await self._call(self._client.make_bucket, self.bucket)
            except ObjectStoreUnavailable:
                if not await self._call(self._client.bucket_exists, self.bucket):
                    raise

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Multipart upload of unknown length; nothing is left behind if the stream fails."""
        check_key(key)
        reader = _AsyncStreamReader(chunks, asyncio.get_running_loop())
        try:
            await self._call(
                self._client.put_object,
                self.bucket,
                key,
                reader,  # type: ignore[arg-type]  # a readable file-like is all minio needs
                -1,
                part_size=PART_SIZE,
                num_parallel_uploads=1,
            )
        except ObjectStoreError:
            if reader.error is not None:
                raise reader.error from None
            raise
        return reader.consumed

    async def get_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        """One ranged GET, streamed in pieces."""
        check_key(key)
        if length <= 0:
            return
        response = await self._call(self._client.get_object, self.bucket, key, start, length)
        try:
            stream = response.stream(_READ_SIZE)
            while True:
                data = await self._call(next, stream, b"")
                if not data:
                    break
                yield data
        finally:
            response.close()
            response.release_conn()

    async def size(self, key: str) -> int:
        """Size from a HEAD request."""
        info = await self._call(self._client.stat_object, self.bucket, check_key(key))
        return int(info.size or 0)

    async def delete(self, key: str) -> None:
        """Delete every version and delete marker, so nothing of the object survives."""
        check_key(key)
        versions = await self._call(self._list_versions, key)
        for version_id in versions:
            await self._call(self._client.remove_object, self.bucket, key, version_id)

    def _list_versions(self, key: str) -> builtins.list[str | None]:
        found = self._client.list_objects(self.bucket, prefix=key, include_version=True)
        return [item.version_id for item in found if item.object_name == key] or [None]

    async def list(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        """Current objects under ``prefix``."""
        items = await self._call(_list, self._client, self.bucket, prefix)
        for item in items:
            yield item

    async def ping(self) -> None:
        """The bucket must exist and answer."""
        if not await self._call(self._client.bucket_exists, self.bucket):
            raise ObjectStoreUnavailable(f"bucket {self.bucket!r} does not exist")

    async def close(self) -> None:
        """Close pooled connections."""
        self._http.clear()


class _AsyncStreamReader(io.RawIOBase):
    """A blocking ``read()`` for minio's thread that pulls from an async iterator on the loop.

    An error raised by the stream is kept and re-raised to the caller of ``put`` unchanged
    (minio would otherwise wrap it); minio sees it as an error and aborts the upload.
    """

    def __init__(self, chunks: AsyncIterable[bytes], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._iterator = aiter(chunks)
        self._loop = loop
        self._buffer = bytearray()
        self._done = False
        self.consumed = 0
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        want = PART_SIZE if size is None or size < 0 else size
        while len(self._buffer) < want and not self._done:
            future = asyncio.run_coroutine_threadsafe(self._next(), self._loop)
            try:
                piece = future.result()
            except BaseException as exc:
                self.error = exc
                raise ObjectStoreError("upload stream failed") from None
            if piece is None:
                self._done = True
            else:
                self._buffer += piece
        data = bytes(self._buffer[:want])
        del self._buffer[:want]
        self.consumed += len(data)
        return data

    async def _next(self) -> bytes | None:
        try:
            return await anext(self._iterator)
        except StopAsyncIteration:
            return None


def _list(client: Minio, bucket: str, prefix: str) -> list[StoredObject]:
    found = client.list_objects(bucket, prefix=prefix or None, recursive=True)
    return [
        StoredObject(
            str(item.object_name),
            int(item.size or 0),
            item.last_modified or datetime.fromtimestamp(0, tz=UTC),
        )
        for item in found
    ]
