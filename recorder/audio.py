"""Audio processing in pipes: validate, measure, compute peaks and encode Opus, no temp files.

One ffmpeg process with two outputs:

    incoming plaintext ──► ffmpeg ─┬─► Ogg/Opus (stdout) ──► vault (encrypted rendition)
           │ (container checks)    └─► 16-bit PCM (extra pipe) ──► duration, peaks per channel

The rendition's encoding depends on the channel count, learned first from the container's
header (WAV, Ogg, FLAC) or by decoding the first frame of the upload's start in a short
ffmpeg run: mono as one Opus stream, stereo as two uncoupled ones so the agent's and the
customer's channels stay apart (:data:`UNCOUPLED`).

Nothing touches the disk: the plaintext comes decrypted from the vault, and the Opus output
goes straight back into the vault's encryptor. ffmpeg decodes truncated WAV, MP3 and Ogg
without complaint, so :class:`ContainerInspector` checks the containers that can tell (WAV
data size, Ogg end-of-stream page); a truncated MP3 shows up as a duration mismatch.
ffmpeg's log is read for its level tags only (errors, and a video stream in the input, which
is refused): its texts can quote paths and the file's own tags, so none of it is kept.

pydub is deliberately not used: it writes plaintext temporary files and holds the whole PCM
in memory, where these pipes keep neither.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import os
import re
import struct
import sys
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Final, TypeVar

from common.ffmpeg import ffmpeg_exe

T = TypeVar("T")

PEAKS_PER_SECOND: Final = 10
PEAK_SCALE: Final = 1000
READ_SIZE: Final = 64 * 1024
LOG_LINE_LIMIT: Final = 4096
# the first audio stream, at most stereo (more channels are folded down), twice: as the Opus
# rendition on stdout, and as 16-bit PCM in WAV on a pipe of its own for measuring
_FIRST_AUDIO: Final = "-map 0:a:0 -af aformat=channel_layouts=mono|stereo"
OUTPUT_OPUS: Final = _FIRST_AUDIO + " -c:a libopus -b:a {bitrate}k -application voip -f ogg pipe:1"
# Stereo calls keep the agent and the customer on channels of their own. Coupled Opus stereo
# (mapping family 0, ffmpeg's default) codes them jointly and, at call bitrates, leaks one
# into the other (bench/channels.py: a silent channel peaks at -40 dB); two uncoupled mono
# streams (mapping family 255) keep a silent channel at -90 dB, so silencing one speaker
# (redaction per channel) stays silent. Chromium plays and seeks these; the bitrate is the
# total, so each channel gets half of it.
UNCOUPLED: Final = "-mapping_family 255"
# bytes of the upload looked at to learn its channel count before encoding starts
PROBE_BYTES: Final = 256 * 1024
# 2 kHz is plenty for ~10 peaks a second and keeps Python's share of the CPU small
MEASURE_RATE: Final = 2000
OUTPUT_WAV: Final = _FIRST_AUDIO + f" -ar {MEASURE_RATE} -c:a pcm_s16le -f wav pipe:{{fd}}"


class Unusable(StrEnum):
    """Why audio cannot be used: the fixed texts the telephony side is shown, nothing more."""

    EMPTY = "the audio is empty"
    TRUNCATED_WAV = "the WAV file is truncated"
    TRUNCATED_OGG = "the Ogg file is truncated: its last page is missing"
    UNDECODABLE = "the audio could not be decoded"
    DECODING_ERRORS = "the audio has decoding errors"
    NO_SAMPLES = "the audio holds no samples"
    VIDEO = "the file has a video track: send audio only (WAV, MP3, Ogg/Opus, FLAC or WebM)"
    MISSING = "the received audio was deleted before processing"
    NO_SOURCE = "the recording has neither an audio upload nor an audio_url"


class AudioError(Exception):
    """The audio cannot be used; :attr:`reason` tells a person what is wrong with it."""

    def __init__(self, reason: Unusable) -> None:
        super().__init__(reason.value)
        self.reason = reason


class LaneExceeded(Exception):
    """The audio runs longer than the caller allowed (a slot kept for ordinary calls)."""


@dataclass
class AudioReport:
    """What the pipeline learned about one recording."""

    container: str
    channels: int
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
            raise AudioError(Unusable.EMPTY)
        if self.container == "wav":
            expected = _wav_data_end(bytes(self.head))
            if expected is not None and self.total < expected:
                raise AudioError(Unusable.TRUNCATED_WAV)
        elif self.container == "ogg":
            last_page = bytes(self.tail).rfind(b"OggS")
            if (
                last_page < 0
                or len(self.tail) < last_page + 6
                or not self.tail[last_page + 5] & 0x04
            ):
                raise AudioError(Unusable.TRUNCATED_OGG)


def opus_output(bitrate_kbps: int, channels: int | None) -> list[str]:
    """ffmpeg's output options for the rendition: mono as ever, anything else uncoupled.

    ``channels`` is the input's count (None when it could not be learned early): two or
    more are folded to stereo and coded as two uncoupled streams, which is also the safe
    choice for an unknown count.
    """
    options = OUTPUT_OPUS.format(bitrate=bitrate_kbps).split()
    if channels == 1:
        return options
    at = options.index("-f")
    return [*options[:at], *UNCOUPLED.split(), *options[at:]]


def header_channels(head: bytes) -> int | None:
    """The channel count a container states in its first bytes (WAV, Ogg Opus/Vorbis, FLAC).

    Cheap enough for every upload; other containers (MP3, WebM) are probed by decoding.
    """
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        position = 12
        while position + 8 <= len(head):
            chunk_id = head[position : position + 4]
            size = int.from_bytes(head[position + 4 : position + 8], "little")
            if chunk_id == b"fmt " and position + 12 <= len(head):
                return int.from_bytes(head[position + 10 : position + 12], "little") or None
            position += 8 + size + (size & 1)
        return None
    if head[:4] == b"OggS":
        for magic, offset in ((b"OpusHead", 9), (b"\x01vorbis", 11)):
            at = head.find(magic, 0, 512)
            if at >= 0 and at + offset < len(head):
                return head[at + offset] or None
        return None
    if head[:4] == b"fLaC" and len(head) > 20:  # STREAMINFO: 3 bits of (channels - 1)
        return ((head[20] >> 1) & 0x07) + 1
    return None


async def probe_channels(head: bytes) -> int | None:
    """The channel count of the first audio frame ffmpeg decodes from ``head``, after the
    same fold-down as the pipeline; None if it decodes nothing (the main pass then tells why).
    """
    process = await asyncio.create_subprocess_exec(
        ffmpeg_exe(),
        "-nostdin",
        "-v",
        "quiet",
        "-i",
        "pipe:0",
        *_FIRST_AUDIO.split(),
        "-frames:a",
        "1",
        "-c:a",
        "pcm_s16le",
        "-f",
        "wav",
        "pipe:1",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    output, _ = await process.communicate(head)
    if not output:
        return None
    reader = asyncio.StreamReader()
    reader.feed_data(output)
    reader.feed_eof()
    try:
        channels, _ = await _read_wav_header(reader)
    except (asyncio.IncompleteReadError, AudioError):
        return None
    return channels


async def _channels_then_all(
    source: AsyncIterable[bytes],
) -> tuple[int | None, AsyncIterator[bytes]]:
    """Learn the channel count from the start of ``source``; return it and the whole source.

    The container's header answers for WAV, Ogg and FLAC; otherwise up to
    :data:`PROBE_BYTES` are decoded by a short ffmpeg run. The bytes read are handed on first.
    """
    iterator = aiter(source)
    head: list[bytes] = []
    size = 0
    channels: int | None = None
    async for piece in iterator:
        head.append(piece)
        size += len(piece)
        if size >= 4096 and (channels := header_channels(b"".join(head))) is not None:
            break
        if size >= PROBE_BYTES:
            break
    else:
        channels = header_channels(b"".join(head))
    if channels is None and size:
        channels = await probe_channels(b"".join(head))

    async def everything() -> AsyncIterator[bytes]:
        for piece in head:
            yield piece
        async for piece in iterator:
            yield piece

    return channels, everything()


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
        self.sample_rate = sample_rate
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


# ffmpeg runs with ``-v level+info``: every line carries its level, and the input's streams
# are listed between "Input #0" and "Stream mapping:"/"Output #0"
_LEVEL: Final = re.compile(rb"\[(panic|fatal|error|warning|info|verbose|debug|trace)\] ")
_ERROR_LEVELS: Final = frozenset({b"panic", b"fatal", b"error"})
_VIDEO_STREAM: Final = re.compile(rb"^\s*Stream #\d+:\d+.*?: Video: ")


@dataclass
class DecoderLog:
    """What ffmpeg's level-tagged log says, without keeping any of its text.

    Counts error lines (what ``-v error`` used to print) and notes a video stream in the
    input; a cover picture (``attached pic``) in an MP3 or FLAC is not video.
    """

    errors: int = 0
    video: bool = False
    _in_input: bool = False

    def line(self, raw: bytes) -> None:
        """Take one line of ffmpeg's log."""
        level = _LEVEL.search(raw, 0, 160)
        if level is None:
            return
        body = raw[level.end() :]
        if level.group(1) in _ERROR_LEVELS:
            self.errors += 1
        elif body.startswith(b"Input #"):
            self._in_input = True
        elif body.startswith((b"Stream mapping:", b"Output #")):
            self._in_input = False
        elif (
            self._in_input
            and _VIDEO_STREAM.match(body) is not None
            and b"(attached pic)" not in body
        ):
            self.video = True


async def _read_log(
    stream: asyncio.StreamReader | None, on_video: Callable[[], None]
) -> DecoderLog:
    """Read ffmpeg's stderr line by line (long lines cut), calling ``on_video`` at once."""
    found = DecoderLog()
    if stream is None:
        return found
    partial = bytearray()
    while chunk := await stream.read(READ_SIZE):
        partial += chunk
        *lines, rest = re.split(rb"[\r\n]", bytes(partial))
        partial = bytearray(rest[:LOG_LINE_LIMIT])
        for line in lines:
            had_video = found.video
            found.line(line[:LOG_LINE_LIMIT])
            if found.video and not had_video:
                on_video()
    found.line(bytes(partial))
    return found


async def _read_wav_header(stdout: asyncio.StreamReader) -> tuple[int, int]:
    """Read ffmpeg's WAV header up to the data chunk; return (channels, sample rate)."""
    riff = await stdout.readexactly(12)
    if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise AudioError(Unusable.UNDECODABLE)
    channels = sample_rate = 0
    while True:
        chunk_id, size = struct.unpack("<4sI", await stdout.readexactly(8))
        if chunk_id == b"data":
            break
        body = await stdout.readexactly(size + (size & 1))
        if chunk_id == b"fmt ":
            channels, sample_rate = struct.unpack("<HI", body[2:8])
    if not channels or not sample_rate:
        raise AudioError(Unusable.UNDECODABLE)
    return channels, sample_rate


async def _pipe_reader(fd: int) -> asyncio.StreamReader:
    """An asyncio stream over the read end of an OS pipe."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_SIZE * 4)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader


def with_filter(output: str, audio_filter: str) -> list[str]:
    """One output's arguments with ``audio_filter`` put before its own filter."""
    arguments = output.split()
    at = arguments.index("-af") + 1
    arguments[at] = f"{audio_filter},{arguments[at]}"
    return arguments


def _outputs(
    bitrate_kbps: int, channels: int | None, pcm_fd: int, audio_filter: str | None
) -> list[str]:
    """Both outputs' arguments. A filter runs once, split after it for the two outputs
    (each output's own ``-af`` would run it twice)."""
    opus = opus_output(bitrate_kbps, channels)
    wav = OUTPUT_WAV.format(fd=pcm_fd).split()
    if audio_filter is None:
        return [*opus, *wav]
    assert opus[:3] == wav[:3] == ["-map", "0:a:0", "-af"]
    graph = f"[0:a:0]{audio_filter},{opus[3]},asplit=2[opus][pcm]"
    return ["-filter_complex", graph, "-map", "[opus]", *opus[4:], "-map", "[pcm]", *wav[4:]]


async def process_audio(
    source: AsyncIterable[bytes],
    store_rendition: Callable[[AsyncIterator[bytes]], Awaitable[T]],
    *,
    bitrate_kbps: int = 24,
    max_seconds: float | None = None,
    audio_filter: str | None = None,
) -> tuple[AudioReport, T]:
    """Decode ``source`` once; hand Ogg/Opus to ``store_rendition`` and measure the PCM copy.

    One ffmpeg process has two outputs: the Opus rendition on stdout, and 16-bit PCM in WAV
    on an extra pipe for the duration and the peaks. Decoding once keeps the pipeline as fast
    as a bare transcode. Audio running past ``max_seconds`` stops the work early with
    :class:`LaneExceeded`, so a slot kept for ordinary calls is not held for hours.
    ``audio_filter`` (no spaces) runs once before both outputs: the redaction's silencing.
    """
    inspector = ContainerInspector()
    channels, source = await _channels_then_all(source)
    pcm_read, pcm_write = os.pipe()
    pipe = asyncio.subprocess.PIPE
    try:
        process = await asyncio.create_subprocess_exec(
            ffmpeg_exe(),
            "-nostdin",
            "-nostats",
            "-v",
            "level+info",
            "-i",
            "pipe:0",
            *_outputs(bitrate_kbps, channels, pcm_write, audio_filter),
            stdin=pipe,
            stdout=pipe,
            stderr=pipe,
            pass_fds=(pcm_write,),
        )
    finally:
        os.close(pcm_write)
    pcm = await _pipe_reader(pcm_read)
    assert process.stdin is not None
    assert process.stdout is not None
    stdin, stdout = process.stdin, process.stdout
    too_long = False

    def stop() -> None:
        with contextlib.suppress(ProcessLookupError):  # it may have just ended by itself
            process.kill()

    decoder_log = asyncio.ensure_future(_read_log(process.stderr, stop))

    async def feed() -> None:
        try:
            async for piece in source:
                inspector.feed(piece)
                stdin.write(piece)
                await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # ffmpeg gave up or was stopped; its log and the checks below say why
        finally:
            stdin.close()

    async def measure() -> PeakMeter | None:
        nonlocal too_long
        try:
            channels, sample_rate = await _read_wav_header(pcm)
        except (asyncio.IncompleteReadError, AudioError):
            return None
        meter = PeakMeter(channels, sample_rate)
        limit = None if max_seconds is None else max_seconds * sample_rate
        while data := await pcm.read(READ_SIZE):
            meter.feed(data)
            if limit is not None and meter.frames > limit:
                too_long = True
                stop()
                break
        meter.finish()
        return meter

    async def rendition() -> AsyncIterator[bytes]:
        while data := await stdout.read(READ_SIZE):
            yield data

    feeding = asyncio.ensure_future(feed())
    measuring = asyncio.ensure_future(measure())
    try:
        stored = await store_rendition(rendition())
        await feeding
        meter = await measuring
        return_code = await process.wait()
        found = await decoder_log
        if found.video:
            raise AudioError(Unusable.VIDEO)
        if too_long:
            raise LaneExceeded
        inspector.check()
        if meter is None:
            raise AudioError(Unusable.UNDECODABLE)
        if return_code != 0 or found.errors:
            raise AudioError(Unusable.DECODING_ERRORS)
        if meter.frames == 0:
            raise AudioError(Unusable.NO_SAMPLES)
        rate = meter.sample_rate
        duration = (Decimal(meter.frames) / Decimal(rate)).quantize(Decimal("0.001"))
        report = AudioReport(inspector.container, meter.channels, duration, meter.peaks)
        return report, stored
    finally:
        for task in (feeding, measuring, decoder_log):
            task.cancel()
        if process.returncode is None:
            process.kill()
            await process.wait()


def duration_mismatch(declared: Decimal, measured: Decimal) -> bool:
    """True when the real length differs from the declared one by more than max(2 s, 2 %)."""
    tolerance = max(Decimal(2), declared * Decimal("0.02"))
    return abs(declared - measured) > tolerance
