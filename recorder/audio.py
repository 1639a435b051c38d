"""Audio processing in pipes: validate, measure, compute peaks and encode Opus, no temp files.

Two ffmpeg processes, with Python in between:

    incoming plaintext ──► ffmpeg decode ──► 16-bit PCM ──► ffmpeg encode ──► Ogg/Opus
           │ (container checks)               │ (duration, peaks per channel)

Nothing touches the disk: the plaintext comes decrypted from the vault, and the Opus output
goes straight back into the vault's encryptor. ffmpeg decodes truncated WAV, MP3 and Ogg
without complaint, so :class:`ContainerInspector` checks the containers that can tell (WAV
data size, Ogg end-of-stream page); a truncated MP3 shows up as a duration mismatch.

pydub is deliberately not on this path: it loads whole files into memory.
"""

from __future__ import annotations

import array
import asyncio
import shutil
import struct
import sys
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, TypeVar

T = TypeVar("T")

PEAKS_PER_SECOND: Final = 10
PEAK_SCALE: Final = 1000
READ_SIZE: Final = 64 * 1024
STDERR_LIMIT: Final = 4096
# first audio stream, at most stereo (more channels are folded down), as 16-bit PCM in WAV
DECODE_TO_WAV: Final = (
    "-i pipe:0 -vn -map 0:a:0 -af aformat=channel_layouts=mono|stereo -c:a pcm_s16le -f wav pipe:1"
)
ENCODE_OPUS: Final = "-c:a libopus -b:a {bitrate}k -application voip -f ogg pipe:1"


class AudioError(Exception):
    """The audio cannot be used; the message tells a person what is wrong with it."""


def ffmpeg_exe() -> str:
    """The ffmpeg binary: the imageio-ffmpeg wheel's, or the system's as a fallback."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        system = shutil.which("ffmpeg")
        if system is None:
            raise AudioError("ffmpeg not found: install imageio-ffmpeg or ffmpeg") from None
        return system


@dataclass
class AudioReport:
    """What the pipeline learned about one recording."""

    container: str
    channels: int
    sample_rate: int
    duration_seconds: Decimal
    peaks: list[list[int]]


@dataclass
class ContainerInspector:
    """Watches the incoming bytes for container-level truncation."""

    head: bytearray = field(default_factory=bytearray)
    tail: bytearray = field(default_factory=bytearray)
    total: int = 0

    def feed(self, data: bytes) -> None:
        """Observe the next piece of input."""
        if len(self.head) < 4096:
            self.head += data[: 4096 - len(self.head)]
        self.total += len(data)
        self.tail += data
        if len(self.tail) > 128 * 1024:
            del self.tail[: len(self.tail) - 64 * 1024]

    @property
    def container(self) -> str:
        """A best guess at the container from its magic bytes."""
        head = bytes(self.head[:12])
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            return "wav"
        if head[:4] == b"OggS":
            return "ogg"
        if head[:4] == b"fLaC":
            return "flac"
        if head[:4] == b"\x1a\x45\xdf\xa3":
            return "webm"
        if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
            return "mp3"
        return "unknown"

    def check(self) -> None:
        """Raise :class:`AudioError` if the container says data is missing."""
        if self.total == 0:
            raise AudioError("the audio is empty")
        if self.container == "wav":
            expected = _wav_data_end(bytes(self.head))
            if expected is not None and self.total < expected:
                raise AudioError(
                    f"the WAV file is truncated: {self.total} of {expected} bytes arrived"
                )
        elif self.container == "ogg":
            last_page = bytes(self.tail).rfind(b"OggS")
            if (
                last_page < 0
                or len(self.tail) < last_page + 6
                or not self.tail[last_page + 5] & 0x04
            ):
                raise AudioError("the Ogg file is truncated: its last page is missing")


def _wav_data_end(head: bytes) -> int | None:
    """Byte offset where a WAV file's data chunk ends, when the header states it."""
    position = 12
    while position + 8 <= len(head):
        chunk_id = head[position : position + 4]
        size = int.from_bytes(head[position + 4 : position + 8], "little")
        if chunk_id == b"data":
            if size in (0, 0xFFFFFFFF):  # streamed WAV: length unknown
                return None
            return position + 8 + size
        position += 8 + size + (size & 1)
    return None


class PeakMeter:
    """Per-channel peak levels over fixed windows of 16-bit PCM."""

    def __init__(self, channels: int, sample_rate: int) -> None:
        self.channels = channels
        self.window = max(1, sample_rate // PEAKS_PER_SECOND) * channels
        self.peaks: list[list[int]] = [[] for _ in range(channels)]
        self.frames = 0
        self._pending = bytearray()

    def feed(self, pcm: bytes) -> None:
        """Add PCM bytes (little-endian int16, interleaved)."""
        self._pending += pcm
        usable = len(self._pending) - len(self._pending) % (2 * self.window)
        if usable:
            self._measure(self._pending[:usable])
            del self._pending[:usable]

    def finish(self) -> None:
        """Measure the final partial window."""
        usable = len(self._pending) - len(self._pending) % (2 * self.channels)
        if usable:
            self._measure(self._pending[:usable])
        self._pending.clear()

    def _measure(self, data: bytes | bytearray) -> None:
        samples = array.array("h")
        samples.frombytes(bytes(data))
        if sys.byteorder == "big":  # pragma: no cover - PCM is little-endian
            samples.byteswap()
        self.frames += len(samples) // self.channels
        for start in range(0, len(samples), self.window):
            block = samples[start : start + self.window]
            for channel in range(self.channels):
                values = block[channel :: self.channels]
                peak = max(max(values), -min(values)) if values else 0
                self.peaks[channel].append(min(PEAK_SCALE, peak * PEAK_SCALE // 32768))


async def _drain_stderr(stream: asyncio.StreamReader | None) -> bytes:
    if stream is None:
        return b""
    kept = bytearray()
    while chunk := await stream.read(READ_SIZE):
        kept += chunk[: max(0, STDERR_LIMIT - len(kept))]
    return bytes(kept)


def _last_line(stderr: bytes) -> str:
    lines = [
        line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()
    ]
    return lines[-1][:300] if lines else "no details"


async def _read_wav_header(stdout: asyncio.StreamReader) -> tuple[int, int]:
    """Read ffmpeg's WAV header up to the data chunk; return (channels, sample rate)."""
    riff = await stdout.readexactly(12)
    if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise AudioError("decoder produced no audio")
    channels = sample_rate = 0
    while True:
        chunk_id, size = struct.unpack("<4sI", await stdout.readexactly(8))
        if chunk_id == b"data":
            break
        body = await stdout.readexactly(size + (size & 1))
        if chunk_id == b"fmt ":
            channels, sample_rate = struct.unpack("<HI", body[2:8])
    if not channels or not sample_rate:
        raise AudioError("decoder produced no audio format")
    return channels, sample_rate


async def _ffmpeg(exe: str, *args: str) -> asyncio.subprocess.Process:
    """Start ffmpeg with all three standard streams piped (quiet unless something is wrong)."""
    pipe = asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(
        exe, "-nostdin", "-v", "error", *args, stdin=pipe, stdout=pipe, stderr=pipe
    )


async def process_audio(
    source: AsyncIterable[bytes],
    store_rendition: Callable[[AsyncIterator[bytes]], Awaitable[T]],
    *,
    bitrate_kbps: int = 24,
) -> tuple[AudioReport, T]:
    """Decode ``source``, measure it and hand an Ogg/Opus stream to ``store_rendition``."""
    exe = ffmpeg_exe()
    inspector = ContainerInspector()
    decoder = await _ffmpeg(exe, *DECODE_TO_WAV.split())
    encoder: asyncio.subprocess.Process | None = None
    tasks: list[asyncio.Task[object]] = []
    try:
        assert decoder.stdin is not None
        assert decoder.stdout is not None
        decoder_errors = asyncio.ensure_future(_drain_stderr(decoder.stderr))

        async def feed() -> None:
            assert decoder.stdin is not None
            try:
                async for piece in source:
                    inspector.feed(piece)
                    decoder.stdin.write(piece)
                    await decoder.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the decoder gave up; its stderr says why
            finally:
                decoder.stdin.close()

        feeding = asyncio.ensure_future(feed())
        tasks += [feeding, decoder_errors]
        try:
            channels, sample_rate = await _read_wav_header(decoder.stdout)
        except asyncio.IncompleteReadError:
            await feeding
            await decoder.wait()
            inspector.check()
            raise AudioError(f"not decodable audio: {_last_line(await decoder_errors)}") from None

        encoder = await _ffmpeg(
            exe,
            *f"-f s16le -ar {sample_rate} -ac {channels} -i pipe:0".split(),
            *ENCODE_OPUS.format(bitrate=bitrate_kbps).split(),
        )
        meter = PeakMeter(channels, sample_rate)
        encoder_errors = asyncio.ensure_future(_drain_stderr(encoder.stderr))
        tasks.append(encoder_errors)

        async def pump() -> None:
            assert decoder.stdout is not None
            assert encoder is not None
            assert encoder.stdin is not None
            try:
                while pcm := await decoder.stdout.read(READ_SIZE):
                    meter.feed(pcm)
                    encoder.stdin.write(pcm)
                    await encoder.stdin.drain()
                meter.finish()
            finally:
                encoder.stdin.close()

        async def rendition() -> AsyncIterator[bytes]:
            assert encoder is not None
            assert encoder.stdout is not None
            while data := await encoder.stdout.read(READ_SIZE):
                yield data

        pumping = asyncio.ensure_future(pump())
        tasks.append(pumping)
        stored = await store_rendition(rendition())
        await asyncio.gather(feeding, pumping)
        decode_rc, encode_rc = await decoder.wait(), await encoder.wait()
        inspector.check()
        decode_errors = await decoder_errors
        if decode_rc != 0 or decode_errors:
            raise AudioError(f"the audio has decoding errors: {_last_line(decode_errors)}")
        if encode_rc != 0:
            raise AudioError(f"encoding failed: {_last_line(await encoder_errors)}")
        if meter.frames == 0:
            raise AudioError("the audio holds no samples")
        duration = (Decimal(meter.frames) / Decimal(sample_rate)).quantize(Decimal("0.001"))
        report = AudioReport(inspector.container, channels, sample_rate, duration, meter.peaks)
        return report, stored
    finally:
        for task in tasks:
            task.cancel()
        for process in (decoder, encoder):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()


def duration_mismatch(declared: Decimal, measured: Decimal) -> bool:
    """True when the real length differs from the declared one by more than max(2 s, 2 %)."""
    tolerance = max(Decimal(2), declared * Decimal("0.02"))
    return abs(declared - measured) > tolerance
