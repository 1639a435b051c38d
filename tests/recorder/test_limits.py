"""The pace a body must keep, and the slot accounting, on their own."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import StreamReader
from aiohttp.base_protocol import BaseProtocol

from common.errors import Problem
from recorder.limits import Pace, UploadSlots


def _stream() -> StreamReader:
    """A request body stream the test feeds by hand."""
    loop = asyncio.get_running_loop()
    protocol = BaseProtocol(loop)
    protocol.connection_made(asyncio.Transport())  # a connected peer that sends nothing itself
    return StreamReader(protocol, 2**16, loop=loop)


async def _consume(pace: Pace, stream: StreamReader, cap: int) -> int:
    return sum([len(chunk) async for chunk in pace.body(stream, cap)])


async def _slow_server(pace: Pace, pieces: int, cap: int, *, pause: float, eof: bool) -> int:
    """A client that sends its next 100 bytes 10 ms after a slow server asks for them."""
    loop = asyncio.get_running_loop()
    stream = _stream()
    stream.feed_data(b"x" * 100)
    received = 0
    async for chunk in pace.body(stream, cap):
        received += len(chunk)
        await asyncio.sleep(pause)  # the server's own work (a slow store)
        if received < pieces * 100:
            loop.call_later(0.01, stream.feed_data, b"x" * 100)
        elif eof:
            loop.call_later(0.01, stream.feed_eof)
    return received


async def test_a_slow_server_does_not_count_against_a_fast_client() -> None:
    """Only waiting for the client counts: here it never makes us wait."""
    pace = Pace(grace=0.1, min_rate=1000)  # 400 bytes in 1.2 s of wall time would be too slow
    assert await _slow_server(pace, 4, cap=10_000, pause=0.3, eof=True) == 400


async def test_but_the_whole_body_must_arrive_within_the_deadline() -> None:
    """The deadline is wall time: the client then has none left to wait for."""
    pace = Pace(grace=0.1, min_rate=1000)  # a 200-byte cap: 0.3 s in all
    with pytest.raises(Problem) as caught:
        await _slow_server(pace, 3, cap=200, pause=0.15, eof=False)
    assert caught.value.status == 408
    assert "longer than" in caught.value.detail


async def test_a_client_behind_the_pace_is_cut_after_the_grace() -> None:
    stream = _stream()
    stream.feed_data(b"x" * 100)  # credit for 0.1 s at 1000 B/s
    pace = Pace(grace=0.2, min_rate=1000)
    started = asyncio.get_running_loop().time()
    with pytest.raises(Problem) as caught:
        await _consume(pace, stream, cap=10_000)
    assert 0.25 <= asyncio.get_running_loop().time() - started < 1
    assert "slower than" in caught.value.detail


async def test_a_silent_client_is_cut_at_the_idle_timeout() -> None:
    pace = Pace(grace=100, min_rate=1, idle=0.2)
    with pytest.raises(Problem) as caught:
        await _consume(pace, _stream(), cap=10_000)
    assert "no data for 0.2 s" in caught.value.detail


async def _refusal(slots: UploadSlots, peer: str) -> int:
    try:
        async with slots.take(peer):
            return 0
    except Problem as problem:
        return problem.status


async def test_slots_are_given_back_whatever_happens() -> None:
    slots = UploadSlots(total=2, per_peer=1)

    async def upload_that_fails() -> None:
        async with slots.take("a"):
            assert await _refusal(slots, "a") == 429  # its share is one
            async with slots.take("b"):
                assert await _refusal(slots, "c") == 503  # all are taken
            raise RuntimeError

    with pytest.raises(RuntimeError):
        await upload_that_fails()
    assert slots.in_use == 0
    assert await _refusal(slots, "a") == 0


async def test_strangers_never_fill_the_slots_kept_for_proven_senders() -> None:
    """Enough addresses at the minimum rate could hold every slot; a quarter stays for peers
    that delivered a valid signature lately, so the telephony system always gets in."""
    now = [0.0]
    slots = UploadSlots(total=4, per_peer=4, proven_for=100.0, clock=lambda: now[0])
    assert slots.reserved == 1
    slots.prove("pbx")
    async with slots.take("s1"), slots.take("s2"), slots.take("s3"):
        assert await _refusal(slots, "s4") == 503  # the last slot is kept
        assert await _refusal(slots, "pbx") == 0  # the proven sender takes it
        now[0] = 100.0
        assert await _refusal(slots, "pbx") == 503  # proof lasts proven_for only
    assert slots.in_use == 0
    assert await _refusal(slots, "s4") == 0


async def test_a_proven_sender_still_counts_against_the_whole_house() -> None:
    slots = UploadSlots(total=2, per_peer=2, reserved=1)
    slots.prove("pbx")
    async with slots.take("pbx"), slots.take("pbx"):
        assert await _refusal(slots, "stranger") == 503
