"""Benchmark the redacted rendition's render against a bare ffmpeg run of the same filter.

Ours: the sealed Opus rendition of a synthetic stereo call is decrypted from the vault into
ffmpeg, the spans are silenced (:func:`recorder.redaction_render.redaction_filter`), the
Opus output is encrypted back into the vault and the PCM copy measured for peaks
(:func:`recorder.audio.process_audio`, exactly what the render job runs; its database
commit, a few milliseconds, is left out). Bare: ffmpeg reading the same rendition as a
plaintext file, the same filter and Opus settings, output to /dev/null. The ratio is bare
time / our time (goal >= 0.85); best of ``--rounds``.

Run: ``.venv/bin/python -m bench.redaction [--minutes 30] [--spans 20] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

from bench.ingest import make_call
from common.ffmpeg import ffmpeg_exe
from recorder.audio import opus_output, process_audio, with_filter
from recorder.redaction import Cut
from recorder.redaction_render import redaction_filter
from storage.fs import FilesystemStore
from storage.keyring import Keyring
from storage.vault import SealedObject, Vault

BITRATE = 24


def spans_over(seconds: float, count: int) -> list[Cut]:
    """``count`` two-second spans spread over the call, rotating agent, customer and both."""
    channels = ("agent", "customer", "both")
    step = seconds / (count + 1)
    return [
        Cut(
            Decimal(f"{step * (i + 1):.3f}"),
            Decimal(f"{step * (i + 1) + 2:.3f}"),
            channels[i % 3],  # type: ignore[arg-type]
        )
        for i in range(count)
    ]


async def seal_call(vault: Vault, wav: Path) -> SealedObject:
    """The call's Opus rendition, sealed the way ingest seals it."""

    audio = await asyncio.to_thread(wav.read_bytes)

    async def source() -> AsyncIterator[bytes]:
        yield audio

    async def store(stream: AsyncIterator[bytes]) -> SealedObject:
        return await vault.seal(stream, kind="recordings")

    _, sealed = await process_audio(source(), store, bitrate_kbps=BITRATE)
    return sealed


async def ours(vault: Vault, original: SealedObject, audio_filter: str) -> float:
    """Seconds for one render through the job's pipeline, vault to vault."""

    async def store(stream: AsyncIterator[bytes]) -> SealedObject:
        return await vault.seal(stream, kind="recordings")

    started = time.perf_counter()
    await process_audio(
        vault.open_range(original), store, bitrate_kbps=BITRATE, audio_filter=audio_filter
    )
    return time.perf_counter() - started


def bare(plain: Path, audio_filter: str) -> float:
    """Seconds for ffmpeg alone: the plaintext file, the same filter and encoder."""
    output = with_filter(" ".join(opus_output(BITRATE, 2)), audio_filter)
    output[-1] = "/dev/null"
    started = time.perf_counter()
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-i", str(plain), *output], check=True
    )
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--spans", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callrec-bench-") as tmp:
        folder = Path(tmp)
        vault = Vault(FilesystemStore(folder / "objects"), Keyring.create(folder / "keyring.txt"))
        original = await seal_call(vault, make_call(folder, "call", args.minutes))
        plain = folder / "rendition.ogg"  # synthetic audio: the bare run's input
        await asyncio.to_thread(plain.write_bytes, await vault.read_all(original))
        audio_filter = redaction_filter(spans_over(args.minutes * 60, args.spans), 2, "agent-left")
        our_times, bare_times = [], []
        for _ in range(args.rounds):
            bare_times.append(bare(plain, audio_filter))
            our_times.append(await ours(vault, original, audio_filter))
        best_ours, best_bare = min(our_times), min(bare_times)
        print(
            f"redacted rendition of a {args.minutes:g}-minute stereo call, {args.spans} spans: "
            f"ours {best_ours:.2f} s, bare ffmpeg {best_bare:.2f} s, "
            f"ratio {best_bare / best_ours:.2f} (goal >= 0.85); "
            f"{args.minutes * 60 / best_ours:.0f}x real time"
        )


if __name__ == "__main__":
    asyncio.run(main())
