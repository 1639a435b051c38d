"""Read ahead across a sequence of byte streams, so reading overlaps the consumer's work.

An access export reads a thousand recordings one after another and, for each chunk, zips,
hashes, encrypts and writes it. Pulled in turn, the disk waits for the CPU and the CPU for
the disk. :func:`read_ahead` runs the reading in a background task that stays up to
``depth`` chunks ahead, across the boundary from one stream to the next, and hands the
streams to the consumer in order. Memory stays at ``depth`` chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from typing import Final, TypeVar

T = TypeVar("T")
_END: Final = object()


async def read_ahead(
    items: Sequence[T], open_stream: Callable[[T], AsyncIterator[bytes]], *, depth: int = 32
) -> AsyncGenerator[tuple[T, AsyncIterator[bytes]], None]:
    """Yield each item with its stream, in order; consume each stream before the next.

    An error while reading a stream is raised from that stream's iterator, where the
    consumer would have met it reading directly.
    """
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=depth)

    async def produce() -> None:
        for item in items:
            try:
                async for chunk in open_stream(item):
                    await queue.put(chunk)
            except Exception as exc:  # handed over to the consumer, raised there
                await queue.put(exc)
                return
            await queue.put(_END)

    async def stream() -> AsyncIterator[bytes]:
        while (chunk := await queue.get()) is not _END:
            if isinstance(chunk, BaseException):
                raise chunk
            assert isinstance(chunk, bytes)
            yield chunk

    producer = asyncio.ensure_future(produce())
    try:
        for item in items:
            yield item, stream()
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
