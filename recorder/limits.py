"""Upload limits that keep unauthenticated, slow clients from starving signed uploads.

The webhook signature covers the whole body, so whether an upload is genuine is only known
at its last byte; until then every upload is a stranger holding one of a few slots. Three
limits bound what a stranger can hold: what the headers alone can refuse (a malformed
signature, a stale timestamp) is refused before a slot is taken; a body must keep arriving
at a minimum average rate after a short grace period, which also puts a deadline on the
whole body; and one peer may hold only a share of the slots. Those still let a stranger with
bandwidth and a few addresses hold every slot at the minimum rate, so a quarter of the slots
is kept for peers that delivered a correctly signed upload in the last day: the telephony
system proves itself with its first call, and strangers can never fill the house.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Final

from aiohttp import StreamReader, web

from common.errors import Problem
from common.settings import IPNetwork, Settings

IDLE_TIMEOUT_SECONDS: Final = 60.0
FORWARDED_FOR: Final = "X-Forwarded-For"
RETRY_AFTER: Final = {"Retry-After": "5"}
IPV6_PREFIX: Final = 64
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
PROVEN_FOR_SECONDS: Final = 24 * 3600.0
MAX_PROVEN_PEERS: Final = 10_000


def _timeout(detail: str) -> Problem:
    return Problem(
        f"{detail}; upload abandoned", status=408, slug="timeout", title="Request timeout"
    )


@dataclass(frozen=True)
class Pace:
    """How fast a body must arrive: ``grace`` seconds of head start, then ``min_rate`` bytes/s,
    and never a silence longer than ``idle`` seconds."""

    grace: float
    min_rate: float
    idle: float = IDLE_TIMEOUT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> Pace:
        """The pace set by ``CALLREC_UPLOAD_GRACE_SECONDS`` and ``_MIN_RATE_KIBPS``."""
        return cls(settings.upload_grace_seconds, settings.upload_min_rate_kibps * 1024)

    def allowed(self, size: int) -> float:
        """Seconds a client may take to deliver ``size`` bytes."""
        return self.grace + size / self.min_rate

    def too_slow(self) -> Problem:
        """408 for a client that fell behind."""
        return _timeout(
            f"the body arrived slower than {self.min_rate / 1024:g} KiB/s "
            f"after the first {self.grace:g} s"
        )

    async def body(self, content: StreamReader, cap: int) -> AsyncIterator[bytes]:
        """The body's chunks as they arrive; 408 once the client falls behind.

        Only time spent waiting for the client counts against its rate, so a slow store
        never aborts a fast client; the whole body must still arrive within the time
        :meth:`allowed` for ``cap`` bytes, and no single wait may exceed the idle timeout.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.allowed(cap)
        received = 0
        waited = 0.0
        while True:
            started = loop.time()
            behind = started + self.allowed(received) - waited
            idle = started + self.idle
            try:
                async with asyncio.timeout_at(min(behind, idle, deadline)):
                    chunk = await content.readany()
            except TimeoutError:
                if behind <= min(idle, deadline):
                    raise self.too_slow() from None
                if idle <= deadline:
                    raise _timeout(f"no data for {self.idle:g} s") from None
                raise _timeout(f"the body took longer than {self.allowed(cap):.0f} s") from None
            waited += loop.time() - started
            if not chunk:
                return
            received += len(chunk)
            yield chunk

    @asynccontextmanager
    async def deadline(self, size: int) -> AsyncIterator[None]:
        """Bound a whole read of at most ``size`` bytes by the time :meth:`allowed` for it."""
        try:
            async with asyncio.timeout(self.allowed(size)):
                yield
        except TimeoutError:
            raise self.too_slow() from None


class UploadSlots:
    """At most ``total`` uploads at once, at most ``per_peer`` of them from one peer, and
    ``reserved`` of them only for peers proven (by a valid signature) in the last day.

    A full house is refused at once (a waiting upload would hold its connection and its
    buffers just the same); the sender retries after ``Retry-After``.
    """

    def __init__(
        self,
        total: int,
        per_peer: int,
        *,
        reserved: int | None = None,
        proven_for: float = PROVEN_FOR_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.per_peer = per_peer
        self.reserved = total // 4 if reserved is None else reserved
        self._proven_for = proven_for
        self._clock = clock
        self._proven: dict[str, float] = {}  # peer -> when its last valid signature came
        self._by_peer: Counter[str] = Counter()
        self._in_use = 0
        self._strangers = 0

    @property
    def in_use(self) -> int:
        """Uploads holding a slot now."""
        return self._in_use

    def prove(self, peer: str) -> None:
        """``peer`` just delivered a correctly signed body: it may use the reserved slots."""
        now = self._clock()
        if len(self._proven) >= MAX_PROVEN_PEERS:  # only holders of the secret get here
            self._proven = {p: at for p, at in self._proven.items() if self._fresh(at, now)}
        self._proven[peer] = now

    def _fresh(self, at: float, now: float) -> bool:
        return now - at < self._proven_for

    def _is_proven(self, peer: str) -> bool:
        at = self._proven.get(peer)
        return at is not None and self._fresh(at, self._clock())

    @asynccontextmanager
    async def take(self, peer: str) -> AsyncIterator[None]:
        """Hold one slot for ``peer``: 429 when it has its share, 503 when all it may use are
        taken (a peer not proven lately may not use the reserved ones)."""
        if self._by_peer[peer] >= self.per_peer:
            raise Problem(
                f"this client already has {self.per_peer} uploads in progress "
                "(CALLREC_MAX_UPLOADS_PER_PEER); retry when one has finished",
                status=429,
                slug="too-many-uploads",
                title="Too many uploads from one client",
                headers=RETRY_AFTER,
            )
        stranger = not self._is_proven(peer)
        if self._in_use >= self.total or (
            stranger and self._strangers >= self.total - self.reserved
        ):
            raise Problem(
                "too many uploads in progress; retry shortly",
                status=503,
                slug="busy",
                title="Busy",
                headers=RETRY_AFTER,
            )
        self._by_peer[peer] += 1
        self._in_use += 1
        self._strangers += stranger
        try:
            yield
        finally:
            self._in_use -= 1
            self._strangers -= stranger
            self._by_peer[peer] -= 1
            if not self._by_peer[peer]:
                del self._by_peer[peer]


def client_address(request: web.Request, trusted: tuple[IPNetwork, ...]) -> str:
    """The address an upload counts against: the TCP peer, or, when that is a trusted proxy,
    the nearest ``X-Forwarded-For`` hop that is not one.

    Hops are read from the right (the end the proxies append to), so a client cannot pick its
    own address by sending the header itself; a hop that does not parse ends the walk. An
    IPv6 client counts as its /64 network, the block one subscriber usually gets whole.
    """
    peer = _address(request.remote or "")
    if peer is None:
        return request.remote or "unknown"
    hops = ",".join(request.headers.getall(FORWARDED_FOR, [])).split(",")
    for hop in reversed(hops):
        if not any(peer in network for network in trusted):
            break
        forwarded = _address(hop.strip())
        if forwarded is None:
            break
        peer = forwarded
    if isinstance(peer, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((peer, IPV6_PREFIX), strict=False))
    return str(peer)


def _address(raw: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
