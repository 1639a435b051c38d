"""Whether the client received a response in full, as far as the server can tell.

``write_eof`` returning only means the bytes reached this machine's kernel, whose send buffer
holds megabytes: a client whose connection dropped a hundred bytes in would count as served.
So after the last write we wait until the peer's TCP stack has acknowledged every byte (Linux
``TIOCOUTQ`` falls to 0 while the connection is still open). A connection reset, or no
progress for :data:`ACK_WAIT` seconds, mean the response was not delivered. An acknowledged
byte may still sit unread in the client's receive buffer: this is the closest a server gets.
Behind a reverse proxy it is the proxy that acknowledges, so it must not buffer whole
responses (nginx: ``proxy_buffering off`` for the routes that rely on this).
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import sys
import termios
from asyncio.trsock import TransportSocket
from typing import Final

from aiohttp import web

ACK_WAIT: Final = 30.0  # seconds without progress before a silent peer counts as gone
ACK_POLL: Final = 0.02
TCP_ESTABLISHED: Final = 1
TCP_CLOSE_WAIT: Final = 8  # the peer closed its side after reading: still delivered
OPEN_STATES: Final = (TCP_ESTABLISHED, TCP_CLOSE_WAIT)


def _unacknowledged(sock: TransportSocket) -> int | None:
    """Bytes sent but not yet acknowledged by the peer, or None once the connection is gone."""
    try:
        queued = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
        # Read after the queue: a reset in between empties the queue but shows here.
        state = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
    except (OSError, AttributeError):  # not TCP, or not Linux: trust write_eof
        return 0
    if state not in OPEN_STATES:
        return None
    return int.from_bytes(queued, sys.byteorder)


async def acknowledged(request: web.Request, patience: float = ACK_WAIT) -> bool:
    """True once every byte written to ``request``'s connection has reached the peer; False if
    the connection closes first or ``patience`` seconds pass without any further progress."""
    transport = request.transport
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    loop = asyncio.get_running_loop()
    deadline, least = loop.time() + patience, None
    while not transport.is_closing():
        pending = _unacknowledged(sock) if sock is not None else 0
        if pending is None:
            return False
        pending += transport.get_write_buffer_size()
        if pending == 0:
            return True
        if least is None or pending < least:  # a slow client is still taking bytes
            deadline, least = loop.time() + patience, pending
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(ACK_POLL)
    return False
