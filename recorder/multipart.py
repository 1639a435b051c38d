"""A streaming ``multipart/form-data`` reader over raw body chunks.

aiohttp's own reader pulls from the request directly; callrec needs to see every raw byte
too (the webhook signature covers the whole body), so this reader takes any async iterator
of chunks, and hands each part's data on as it arrives: memory stays at one chunk plus a
boundary's length, whatever the size of the audio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from aiohttp.multipart import parse_content_disposition

MAX_HEADER_BYTES: Final = 16 * 1024
MAX_PARTS: Final = 8


class MultipartError(ValueError):
    """The body is not well-formed multipart; the message says where it went wrong."""


@dataclass(frozen=True)
class PartInfo:
    """What a part's headers say."""

    name: str
    filename: str | None
    content_type: str | None


class MultipartStream:
    """Iterate parts with :meth:`next_part`, read each with :meth:`read_part`."""

    def __init__(self, chunks: AsyncIterator[bytes], boundary: str) -> None:
        if not boundary or len(boundary) > 70:
            raise MultipartError("missing or invalid multipart boundary")
        self._chunks = chunks
        self._dash_boundary = b"--" + boundary.encode("latin-1")
        self._delimiter = b"\r\n" + self._dash_boundary
        self._buffer = bytearray()
        self._eof = False
        self._started = False
        self._in_part = False
        self._finished = False
        self._parts = 0

    async def _next_chunk(self) -> bytes | None:
        if self._eof:
            return None
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            self._eof = True
            return None

    async def _fill(self) -> bool:
        chunk = await self._next_chunk()
        if chunk is None:
            return False
        self._buffer += chunk
        return True

    async def _read_until(self, marker: bytes, limit: int, what: str) -> bytes:
        """The bytes before ``marker`` (consumed with it); at most ``limit`` of them, however
        many arrived in the chunk that held the marker."""
        while True:
            index = self._buffer.find(marker)
            if index > limit or (index < 0 and len(self._buffer) > limit):
                raise MultipartError(f"{what} too long")
            if index >= 0:
                data = bytes(self._buffer[:index])
                del self._buffer[: index + len(marker)]
                return data
            if not await self._fill():
                raise MultipartError(f"body ended inside the {what}")

    async def _need(self, count: int) -> None:
        while len(self._buffer) < count:
            if not await self._fill():
                raise MultipartError("body ended early (truncated upload?)")

    async def next_part(self) -> PartInfo | None:
        """Advance to the next part; None after the closing boundary."""
        if self._finished:
            return None
        if self._in_part:
            async for _ in self.read_part():
                pass
        if not self._started:
            await self._read_until(self._dash_boundary, MAX_HEADER_BYTES, "preamble")
            self._started = True
        await self._need(2)
        if self._buffer[:2] == b"--":
            self._finished = True
            return None
        if self._buffer[:2] != b"\r\n":
            raise MultipartError("malformed boundary line")
        del self._buffer[:2]
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise MultipartError(f"more than {MAX_PARTS} parts")
        raw_headers = await self._read_until(b"\r\n\r\n", MAX_HEADER_BYTES, "part headers")
        self._in_part = True
        return _parse_headers(raw_headers)

    async def read_part(self) -> AsyncIterator[bytes]:
        """Yield the current part's data as it arrives.

        Only the few bytes that could start a delimiter are ever copied into the buffer;
        the rest of each received chunk is handed on as a slice of it.
        """
        keep = len(self._delimiter) - 1
        while self._in_part:
            index = self._buffer.find(self._delimiter)
            if index >= 0:
                data = bytes(self._buffer[:index])
                del self._buffer[: index + len(self._delimiter)]
                self._in_part = False
                if data:
                    yield data
                return
            if len(self._buffer) > keep:
                data = bytes(self._buffer[: len(self._buffer) - keep])
                del self._buffer[: len(data)]
                yield data
            chunk = await self._next_chunk()
            if chunk is None:
                raise MultipartError("body ended inside a part (truncated upload?)")
            head = bytes(self._buffer)  # at most ``keep`` bytes here
            if self._delimiter in head + chunk[:keep]:
                self._buffer += chunk  # a delimiter across the seam: the buffered path
                continue
            index = chunk.find(self._delimiter)
            end = _safe_end(chunk, self._delimiter) if index < 0 else index
            self._buffer = bytearray()
            if head:
                yield head
            if end:
                yield chunk if end == len(chunk) else chunk[:end]
            if index < 0:
                self._buffer += chunk[end:]
            else:
                self._buffer += chunk[index + len(self._delimiter) :]
                self._in_part = False

    async def read_small(self, limit: int) -> bytes:
        """The current part's data, refusing more than ``limit`` bytes."""
        pieces: list[bytes] = []
        size = 0
        async for piece in self.read_part():
            size += len(piece)
            if size > limit:
                raise MultipartError(f"part larger than {limit} bytes")
            pieces.append(piece)
        return b"".join(pieces)


def _safe_end(chunk: bytes, delimiter: bytes) -> int:
    """How much of ``chunk`` cannot be the start of ``delimiter`` (which starts with CR).

    Audio rarely ends a chunk with a CR that begins a delimiter, so nearly every chunk is
    passed on whole, without a copy.
    """
    position = chunk.find(b"\r", max(0, len(chunk) - len(delimiter) + 1))
    while position >= 0:
        if delimiter.startswith(chunk[position:]):
            return position
        position = chunk.find(b"\r", position + 1)
    return len(chunk)


def _parse_headers(raw: bytes) -> PartInfo:
    headers: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep:
            raise MultipartError("malformed part header")
        headers[name.strip().lower()] = value.strip()
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise MultipartError("part without Content-Disposition")
    kind, params = parse_content_disposition(disposition)
    if kind != "form-data" or "name" not in params:
        raise MultipartError("part is not form-data with a name")
    return PartInfo(params["name"], params.get("filename"), headers.get("content-type"))
