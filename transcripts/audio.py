"""A sealed rendition into 16 kHz float32 samples per channel, through ffmpeg's pipes.

The decrypted Opus goes into ffmpeg's stdin and the samples come back on its stdout, so the
call's audio is never a plaintext file; the samples live in this process's memory only for
the length of one transcription (about 7.7 MB per minute of stereo). They are split into
channels as they arrive, so a call is held once, not also interleaved beside its channels.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable
from typing import Final

import numpy as np

from common.ffmpeg import ffmpeg_exe
from transcripts.engine import SAMPLE_RATE, Channel

ROLES: Final = {"agent-left": ("agent", "customer"), "agent-right": ("customer", "agent")}
LOG_LIMIT: Final = 2000
READ_SIZE: Final = 1024 * 1024
SAMPLE_BYTES: Final = 4  # float32
# The longest call transcribed: the samples are held whole (230 MB per channel per hour), and
# a worker killed by memory would crash-loop; a longer call fails with this said.
MAX_SECONDS: Final = 3 * 3600


class TooLong(Exception):
    """The call runs longer than :data:`MAX_SECONDS`; the public reason says so."""

    public = f"the call is longer than {MAX_SECONDS // 3600} hours, the most transcribed"


class DecodeError(Exception):
    """ffmpeg could not decode the rendition (its own words, trimmed)."""


def roles_of(channels: int, channel_layout: str) -> tuple[str, ...]:
    """Whose voice each decoded channel carries; a call whose layout does not tell the
    speakers apart is decoded as one mixed channel."""
    if channels == 2 and channel_layout in ROLES:
        return ROLES[channel_layout]
    return ("mono",)


async def decode(audio: AsyncIterable[bytes], channels: int, channel_layout: str) -> list[Channel]:
    """The channels of ``audio`` (any container ffmpeg reads) as :class:`Channel` samples."""
    roles = roles_of(channels, channel_layout)
    process = await asyncio.create_subprocess_exec(
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        "pipe:0",
        "-map",
        "0:a:0",
        "-ac",
        str(len(roles)),
        "-ar",
        str(SAMPLE_RATE),
        "-f",
        "f32le",
        "pipe:1",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None

    async def feed() -> None:
        assert process.stdin
        try:
            async for piece in audio:
                process.stdin.write(piece)
                await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # ffmpeg stopped reading: its exit status and log say why
        finally:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                process.stdin.close()

    try:
        _, planes, log = await asyncio.gather(
            feed(), _split(process.stdout, len(roles)), process.stderr.read()
        )
        status = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if status != 0:
        raise DecodeError(log.decode(errors="replace").strip()[:LOG_LIMIT] or f"ffmpeg {status}")
    return [
        Channel(role, np.frombuffer(plane, dtype=np.float32))
        for role, plane in zip(roles, planes, strict=True)
    ]


async def _split(stdout: asyncio.StreamReader, width: int) -> list[bytearray]:
    """Interleaved float32 frames from ``stdout`` as one byte plane per channel."""
    planes = [bytearray() for _ in range(width)]
    frame = SAMPLE_BYTES * width
    rest = b""
    most = MAX_SECONDS * SAMPLE_RATE * SAMPLE_BYTES
    while piece := await stdout.read(READ_SIZE):
        piece = rest + piece
        whole = len(piece) - len(piece) % frame
        rest = piece[whole:]
        frames = np.frombuffer(piece, dtype=np.float32, count=whole // SAMPLE_BYTES)
        for index, plane in enumerate(planes):
            plane += frames[index::width].tobytes()
        if len(planes[0]) > most:
            raise TooLong
    return planes
