"""read_ahead: order, overlap, errors where they belong, and a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from storage.readahead import read_ahead


class Source:
    """Streams of two chunks each that note when they were opened."""

    def __init__(self, failing: int | None = None) -> None:
        self.opened: list[int] = []
        self.failing = failing

    async def open(self, item: int) -> AsyncIterator[bytes]:
        self.opened.append(item)
        for part in range(2):
            await asyncio.sleep(0)
            if item == self.failing and part == 1:
                raise OSError("disk gone")
            yield f"{item}.{part};".encode()


async def test_streams_arrive_whole_in_order_while_the_next_is_already_read() -> None:
    source = Source()
    seen: list[tuple[int, bytes]] = []
    async with contextlib.aclosing(read_ahead([0, 1, 2], source.open, depth=8)) as streams:
        async for item, chunks in streams:
            first = await anext(chunks)
            await asyncio.sleep(0.01)  # the consumer is slow; the producer is not waiting
            if item == 0:
                assert source.opened == [0, 1, 2]
            seen.append((item, first + b"".join([c async for c in chunks])))
    assert seen == [(0, b"0.0;0.1;"), (1, b"1.0;1.1;"), (2, b"2.0;2.1;")]


async def test_a_read_error_is_raised_from_the_stream_that_failed() -> None:
    source = Source(failing=1)
    delivered: list[bytes] = []

    async def consume() -> None:
        async with contextlib.aclosing(read_ahead([0, 1, 2], source.open)) as streams:
            async for _item, chunks in streams:
                delivered.extend([chunk async for chunk in chunks])

    with pytest.raises(OSError, match="disk gone"):
        await consume()
    assert delivered == [b"0.0;", b"0.1;"]  # stream 1 failed before it was whole
    assert 2 not in source.opened


async def test_stopping_early_stops_the_reading() -> None:
    source = Source()
    async with contextlib.aclosing(read_ahead(list(range(100)), source.open, depth=2)) as streams:
        async for _item, chunks in streams:
            await anext(chunks)
            break
    opened = len(source.opened)
    await asyncio.sleep(0.01)
    assert len(source.opened) == opened < 100
