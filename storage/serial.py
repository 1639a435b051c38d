"""Run CPU-heavy steps of one stream in a background thread, in order, ahead of the caller.

A stream of bytes passes several C-speed steps (HMAC, SHA-256, ChaCha20-Poly1305, disk
writes) that release the GIL. Awaiting each step in turn keeps only one core busy; handing
them to a thread *without waiting* lets the event loop receive the next piece while the
thread works on this one, and the store writes the piece before. The order of the calls is
kept (one thread per stream), and memory is bounded: :meth:`SerialWorker.submit` waits once
``depth`` calls are outstanding.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")


class SerialWorker(Generic[T]):
    """One thread running submitted calls in submission order; results come back in order."""

    def __init__(self, name: str, *, depth: int = 2) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._running: deque[asyncio.Future[T]] = deque()
        self._depth = depth

    def submit(self, call: Callable[[], T]) -> None:
        """Start ``call`` after the calls before it; call :meth:`ready` or :meth:`next` to collect."""
        self._running.append(asyncio.wrap_future(self._executor.submit(call)))

    @property
    def full(self) -> bool:
        """As many calls are outstanding as the depth allows: collect one before submitting."""
        return len(self._running) >= self._depth

    @property
    def ready(self) -> bool:
        """The oldest outstanding call has finished."""
        return bool(self._running) and self._running[0].done()

    def __len__(self) -> int:
        return len(self._running)

    async def next(self) -> T:
        """The result of the oldest outstanding call (its exception, if it raised)."""
        return await self._running.popleft()

    def close(self) -> None:
        """Drop calls not yet started and let the thread end; never blocks the event loop."""
        for future in self._running:
            future.cancel()
        self._running.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)
