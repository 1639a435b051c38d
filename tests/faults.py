"""Real faults for tests: a folder that refuses writes, even to root; a disk quota; a TCP
endpoint (in front of the S3 server) that goes down and comes back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Callable[[bool], None]]:
    """Yields a switch that makes ``folder`` and everything in it refuse writes (and back).

    ``chmod`` does not stop root, so as root the immutable attribute is set instead; the
    test is skipped where neither works.
    """

    def switch(on: bool) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-R", "+i" if on else "-i", str(folder)], check=True)
        else:
            for path in [folder, *folder.rglob("*")]:
                if path.is_dir():
                    path.chmod(0o555 if on else 0o755)

    probe = folder / "probe"
    switch(True)
    try:
        probe.mkdir()
    except OSError:
        refused = True
    else:
        refused = False
    switch(False)
    if not refused:
        probe.rmdir()
        pytest.skip("cannot make a folder read-only here")
    try:
        yield switch
    finally:
        switch(False)


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """In this process, writing a file past ``limit`` bytes fails (EFBIG) as on a full
    quota, while every permission check still says the folder is writable."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills us
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


class Endpoint:
    """A TCP endpoint in front of the S3 server that can be stopped: open connections are
    reset and new ones refused, as when the S3 service or its load balancer goes down."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self._open |= {writer, upstream_writer}
        try:
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        finally:
            self._open -= {writer, upstream_writer}
            for end in (writer, upstream_writer):
                end.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(256 * 1024):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
