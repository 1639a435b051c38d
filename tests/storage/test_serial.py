"""SerialWorker: calls run in order in one background thread, results come back in order."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from storage.serial import SerialWorker


async def test_calls_run_in_submission_order_off_the_loop() -> None:
    worker: SerialWorker[tuple[int, str]] = SerialWorker("test", depth=4)
    seen: list[int] = []

    def call(n: int) -> tuple[int, str]:
        time.sleep(0.002 * (4 - n))  # later calls are quicker: order must still hold
        seen.append(n)
        return n, threading.current_thread().name

    for n in range(4):
        worker.submit(lambda n=n: call(n))  # type: ignore[misc]
    assert worker.full
    results = [await worker.next() for _ in range(4)]
    worker.close()
    assert [n for n, _ in results] == [0, 1, 2, 3] == seen
    assert {name for _, name in results} != {threading.current_thread().name}
    assert not worker


async def test_an_exception_comes_back_from_next() -> None:
    worker: SerialWorker[None] = SerialWorker("test")

    def fail() -> None:
        raise ValueError("bad piece")

    worker.submit(fail)
    with pytest.raises(ValueError, match="bad piece"):
        await worker.next()
    worker.close()


async def test_close_drops_calls_not_started_without_waiting() -> None:
    worker: SerialWorker[None] = SerialWorker("test", depth=3)
    started = threading.Event()
    release = threading.Event()
    finished = threading.Event()
    ran: list[int] = []

    def slow() -> None:
        started.set()
        release.wait(5)
        finished.set()

    worker.submit(slow)
    worker.submit(lambda: ran.append(1))
    started.wait(5)
    worker.close()
    assert not finished.is_set()  # close returned while the running call still ran
    release.set()
    await asyncio.to_thread(finished.wait, 5)
    await asyncio.sleep(0.05)
    assert ran == []
