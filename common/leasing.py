"""Work under a lease: a heartbeat renews it, and a lost lease stops the work.

Ingest, redaction renders and transcriptions are leased jobs in PostgreSQL queues. Each
runs its work as a task while this loop renews the lease every ``every`` seconds; when the
renewal says another worker holds the job now, the work is cancelled so two workers never
both commit. A renewal that cannot reach the database is skipped, not fatal: the lease is a
few heartbeats long, and the commit is fenced anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")


class LeaseLost(Exception):
    """Another worker holds the job now; this one's work was stopped."""


async def while_leased(
    work: Coroutine[Any, Any, T], renew: Callable[[], Awaitable[bool]], every: float
) -> T:
    """The result of ``work``, renewing the lease every ``every`` seconds meanwhile; raises
    :class:`LeaseLost` (after cancelling the work) when a renewal says the lease is gone."""
    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=every)
            if task.done():
                break
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                if not await renew():
                    task.cancel()
                    await asyncio.wait({task})
                    raise LeaseLost
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
