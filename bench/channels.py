"""Measure how much one channel of a stereo call leaks into the other through Opus.

A stereo call keeps the agent on one channel and the customer on the other. Silencing one
channel (redaction per speaker) is only real if the encoded rendition keeps the channels
apart. This encodes the same synthetic 8 kHz stereo call (speech-like noise and a tone on
the left, digital silence on the right; then a different tone on each side) several ways,
decodes each, and prints side by side per variant: the right channel's peak and RMS in
dBFS (case 1), the left tone's level heard on the right relative to the left (case 2), and
the size in kbit/s.

Variants: the pipeline as it was (libopus, coupled stereo, ffmpeg's default mapping family
0, at CALLREC_OPUS_BITRATE_KBPS, default 24 kbit/s); uncoupled channels (``-mapping_family
255``, two mono streams) at the same bitrate; coupled at higher bitrates.

Run: ``.venv/bin/python -m bench.channels [--seconds 60] [--bitrate 24]``
"""

from __future__ import annotations

import argparse
import array
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common.ffmpeg import ffmpeg_exe

RATE = 8000
DECODE_RATE = 48000
LEFT_TONE = 440.0
RIGHT_TONE = 1000.0


def make_call(path: Path, seconds: int, *, right_tone: bool) -> None:
    """An 8 kHz stereo WAV: left = speech-like noise bursts and a tone; right silent or a tone."""
    left = (
        f"sine=f={LEFT_TONE}:r={RATE}:d={seconds},volume=0.6[t];"
        f"anoisesrc=c=pink:r={RATE}:a=0.6:d={seconds},"
        "volume='0.5+0.5*sin(2*PI*2.5*t)':eval=frame[n];[t][n]amix=inputs=2:normalize=0[l]"
    )
    if right_tone:
        right = f"sine=f={RIGHT_TONE}:r={RATE}:d={seconds},volume=0.6[r]"
    else:
        right = f"anullsrc=r={RATE}:cl=mono:d={seconds}[r]"
    graph = f"{left};{right};[l][r]join=inputs=2:channel_layout=stereo[out]"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-filter_complex", graph, "-map", "[out]",
         "-c:a", "pcm_s16le", str(path)],
        check=True,
    )  # fmt: skip


def _encode(source: Path, target: Path, options: list[str]) -> float:
    """Encode with libopus as the pipeline does plus ``options``; return kbit/s."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-c:a", "libopus",
         "-application", "voip", *options, "-f", "ogg", str(target)],
        check=True,
    )  # fmt: skip
    seconds = decode(source)[0].__len__() / RATE
    return target.stat().st_size * 8 / 1000 / seconds


def decode(source: Path | bytes, rate: int = RATE) -> tuple[array.array[int], array.array[int]]:
    """Both channels of a file (or of bytes, through a pipe) as 16-bit samples."""
    name = "pipe:0" if isinstance(source, bytes) else str(source)
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", name, "-ac", "2", "-ar", str(rate),
         "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"],
        check=True, capture_output=True, input=source if isinstance(source, bytes) else None,
    ).stdout  # fmt: skip
    samples = array.array("h")
    samples.frombytes(raw)
    if sys.byteorder == "big":  # pragma: no cover
        samples.byteswap()
    return samples[0::2], samples[1::2]


def _db(value: float) -> float:
    return 20 * math.log10(value) if value > 0 else -math.inf


def peak_db(samples: array.array[int]) -> float:
    """Peak level in dBFS (-inf for digital silence)."""
    return _db(max((abs(s) for s in samples), default=0) / 32768)


def rms_db(samples: array.array[int]) -> float:
    """RMS level in dBFS."""
    if not samples:
        return -math.inf
    return _db(math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768)


def tone_db(samples: array.array[int], frequency: float, rate: int = RATE) -> float:
    """Level of one frequency (Goertzel over the whole signal), dB relative to full scale."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for sample in samples:
        s1, s2 = sample / 32768 + coefficient * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    return _db(2 * math.sqrt(max(power, 0.0)) / len(samples))


def variants(bitrate: int) -> list[tuple[str, list[str]]]:
    """The encodings compared: today's, uncoupled, and coupled at higher bitrates."""
    return [
        (f"coupled {bitrate}k (before)", ["-b:a", f"{bitrate}k"]),
        (f"uncoupled 255 {bitrate}k", ["-b:a", f"{bitrate}k", "-mapping_family", "255"]),
        (f"uncoupled 255 {bitrate * 2}k", ["-b:a", f"{bitrate * 2}k", "-mapping_family", "255"]),
        (f"coupled {bitrate * 2}k", ["-b:a", f"{bitrate * 2}k"]),
        (f"coupled {bitrate * 4}k", ["-b:a", f"{bitrate * 4}k"]),
    ]


def main() -> None:
    """Print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--bitrate", type=int, default=int(os.environ.get(
        "CALLREC_OPUS_BITRATE_KBPS", "24")))  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callrec-channels-") as folder:
        root = Path(folder)
        silent, tones = root / "silent.wav", root / "tones.wav"
        make_call(silent, args.seconds, right_tone=False)
        make_call(tones, args.seconds, right_tone=True)
        left, right = decode(silent)
        print(f"{args.seconds} s of 8 kHz stereo; input left peak {peak_db(left):.1f} dBFS, "
              f"right {peak_db(right)} dBFS (digital silence)")  # fmt: skip
        print(f"{'encoding':26} {'kbit/s':>7} {'right peak':>11} {'right RMS':>10} "
              f"{'440 Hz L->R':>12}")  # fmt: skip
        for name, options in variants(args.bitrate):
            encoded = root / "out.ogg"
            kbps = _encode(silent, encoded, options)
            _, right = decode(encoded)
            _encode(tones, encoded, options)
            tone_left, tone_right = decode(encoded)
            leak = tone_db(tone_right, LEFT_TONE) - tone_db(tone_left, LEFT_TONE)
            print(f"{name:26} {kbps:7.1f} {peak_db(right):8.1f} dB {rms_db(right):7.1f} dB "
                  f"{leak:9.1f} dB")  # fmt: skip


if __name__ == "__main__":
    main()
