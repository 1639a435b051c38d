"""Test audio made by real ffmpeg: every format telephony systems send, and broken ones."""

from __future__ import annotations

import subprocess
from pathlib import Path

from common.ffmpeg import ffmpeg_exe

CODECS = {
    "wav-pcm16": ("wav", ["-c:a", "pcm_s16le"]),
    "wav-pcm8": ("wav", ["-c:a", "pcm_u8"]),
    "wav-mulaw": ("wav", ["-c:a", "pcm_mulaw"]),
    "wav-alaw": ("wav", ["-c:a", "pcm_alaw"]),
    "mp3": ("mp3", ["-c:a", "libmp3lame", "-b:a", "32k"]),
    "ogg-opus": ("ogg", ["-c:a", "libopus", "-b:a", "24k"]),
    "flac": ("flac", ["-c:a", "flac"]),
    "webm": ("webm", ["-c:a", "libopus", "-b:a", "24k"]),
}


def _made(path: Path, arguments: list[str], timeout: int = 120) -> bytes:
    """The bytes of ``path``, made once by ffmpeg with ``arguments`` (inputs and codecs)."""
    if not path.exists():
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", *arguments, "-y", str(path)],
            check=True,
            timeout=timeout,
        )
    return path.read_bytes()


def _lavfi(source: str) -> list[str]:
    return ["-f", "lavfi", "-i", source]


def make_audio(
    folder: Path, kind: str, seconds: float, *, channels: int = 1, rate: int = 8000
) -> bytes:
    """A call-like test signal: a tone per channel, at telephony rate by default."""
    extension, codec = CODECS[kind]
    sources: list[str] = []
    for index in range(channels):
        sources += _lavfi(
            f"sine=frequency={300 + 200 * index}:duration={seconds}:sample_rate={rate}"
        )
    merge = ["-filter_complex", "amerge=inputs=2"] if channels == 2 else []
    path = folder / f"{kind}-{seconds}-{channels}-{rate}.{extension}"
    return _made(path, [*sources, *merge, *codec])


def make_video(folder: Path, seconds: float) -> bytes:
    """An MP4 with a video track and a call-like audio track (moov first, so it streams)."""
    return _made(
        folder / f"video-{seconds}.mp4",
        [
            *_lavfi(f"testsrc=size=64x48:rate=5:duration={seconds}"),
            *_lavfi(f"sine=frequency=300:duration={seconds}:sample_rate=8000"),
            *["-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart"],
        ],
    )


def make_silence(folder: Path, seconds: int) -> bytes:
    """A FLAC of silence: hours of call in a few megabytes (costly to decode, cheap to send)."""
    source = f"anullsrc=sample_rate=8000:channel_layout=mono:duration={seconds}"
    return _made(folder / f"silence-{seconds}.flac", [*_lavfi(source), "-c:a", "flac"], timeout=300)


def make_mp3_with_cover(folder: Path, seconds: float) -> bytes:
    """An MP3 with a cover picture: a still image in an audio file, not a video track."""
    return _made(
        folder / f"cover-{seconds}.mp3",
        [
            *_lavfi(f"sine=frequency=300:duration={seconds}:sample_rate=8000"),
            *_lavfi("testsrc=size=64x48:rate=1:duration=1"),
            *["-map", "0", "-map", "1", "-c:v", "mjpeg", "-disposition:v", "attached_pic"],
            *["-c:a", "libmp3lame"],
        ],
    )
