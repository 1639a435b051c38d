"""A sealed rendition into 16 kHz float32 samples per channel, through ffmpeg's pipes.

The decrypted Opus goes into ffmpeg's stdin and the samples come back on its stdout, so the
call's audio is never a plaintext file; the samples live in this process's memory only for
the length of one transcription (about 7.7 MB per minute of stereo).
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
        _, pcm, log = await asyncio.gather(feed(), process.stdout.read(), process.stderr.read())
        status = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if status != 0:
        raise DecodeError(log.decode(errors="replace").strip()[:LOG_LIMIT] or f"ffmpeg {status}")
    samples = np.frombuffer(pcm, dtype=np.float32)
    width = len(roles)
    samples = samples[: len(samples) - len(samples) % width].reshape(-1, width)
    return [Channel(role, np.ascontiguousarray(samples[:, i])) for i, role in enumerate(roles)]
