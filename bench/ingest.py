"""Benchmark ingest against its bare parts, in one run, on synthetic stereo G.711 calls.

(a) end-to-end pipeline throughput (signed POST, encryption, worker, Opus, ready) as a ratio
    to bare ffmpeg transcoding of the same files to Opus, same parallelism (target >= 0.85);
(b) webhook accept latency as a ratio to a bare filesystem-store put of the same bytes
    (target: median <= 1.5), with the time of the accept's unavoidable cryptography (the
    HMAC over the body, the SHA-256 and the encryption of the audio) over the same bytes
    beside it, which shows how far down the ratio can go on this machine;
(c) peak RSS of the callrec process above idle while ingesting one long call (target
    <= 150 MB; ffmpeg's own processes are separate and reported apart).

The service runs in this process on its embedded defaults in a temporary folder.

Run: ``.venv/bin/python -m bench.ingest [--calls 8] [--minutes 5] [--long-minutes 120]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import psutil
from aiohttp import web
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from callrec.app import create_app
from callrec.appkeys import POOL
from callrec.settings import Secret, Settings
from recorder.audio import OUTPUT_OPUS, ffmpeg_exe
from storage.age import CHUNK_SIZE
from storage.fs import FilesystemStore
from tests.recorder.helpers import SECRET, metadata, multipart, signed_headers

PARALLEL = 2


def make_call(folder: Path, name: str, minutes: float) -> Path:
    """A stereo µ-law WAV at 8 kHz: speech-band noise on both channels."""
    path = folder / f"{name}.wav"
    seconds = minutes * 60
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"anoisesrc=color=pink:duration={seconds}:sample_rate=8000:amplitude=0.3",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}:sample_rate=8000",
            "-filter_complex",
            "amerge=inputs=2",
            "-c:a",
            "pcm_mulaw",
            "-y",
            str(path),
        ],
        check=True,
    )
    return path


def bare_transcode(paths: list[Path]) -> float:
    """ffmpeg file -> Opus to /dev/null, PARALLEL at a time, as our worker does."""
    started = time.perf_counter()
    pending = list(paths)
    running: list[subprocess.Popen[bytes]] = []
    while pending or running:
        while pending and len(running) < PARALLEL:
            path = pending.pop()
            running.append(
                subprocess.Popen(
                    [
                        ffmpeg_exe(),
                        "-nostdin",
                        "-v",
                        "error",
                        "-i",
                        str(path),
                        *OUTPUT_OPUS.format(bitrate=24).split(),
                    ],
                    stdout=subprocess.DEVNULL,
                )
            )
        running[0].wait()
        running = [p for p in running if p.poll() is None]
    return time.perf_counter() - started


class RssSampler:
    """Samples this process's RSS in a thread every 20 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.children_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)
            children = 0
            for child in self.process.children():
                with contextlib.suppress(psutil.Error):
                    children += child.memory_info().rss
            self.children_peak = max(self.children_peak, children)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


Prepared = tuple[bytes, dict[str, str]]


def prepare(audio: bytes, external_id: str, seconds: float) -> Prepared:
    """The signed multipart body and headers, built before any timing starts."""
    marker = b'filename="call.wav"\r\nContent-Type: audio/wav\r\n\r\n'
    meta = metadata(external_id=external_id, duration_seconds=seconds)
    prefix, suffix = multipart(meta, b"").split(marker, 1)
    body = prefix + marker + audio + suffix
    return body, signed_headers(body)


async def post(session: aiohttp.ClientSession, base: str, prepared: Prepared) -> float:
    """POST one prepared call, streaming it in pieces; return the accept latency in seconds."""
    body, headers = prepared
    view = memoryview(body)

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 256 * 1024):
            yield view[i : i + 256 * 1024]  # type: ignore[misc]

    started = time.perf_counter()
    async with session.post(f"{base}/v1/recordings", data=pieces(), headers=headers) as response:
        assert response.status == 202, await response.text()
    return time.perf_counter() - started


async def wait_ready(app: web.Application, count: int) -> None:
    """Wait until ``count`` recordings are ready; fail loudly on a failed one."""
    async with asyncio.timeout(3600):
        while True:
            states = await app[POOL].fetch("SELECT status, error FROM recordings")
            if len(states) == count and all(s["status"] in ("ready", "failed") for s in states):
                failed = [s["error"] for s in states if s["status"] == "failed"]
                assert not failed, failed
                return
            await asyncio.sleep(0.1)


async def serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start ``app`` in this process on a free loopback port; returns it and its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def serving(settings: Settings, *, worker: bool) -> tuple[web.AppRunner, str]:
    """Start callrec in this process on a free loopback port."""
    return await serve_app(create_app(settings, run_worker=worker))


async def accept_latency(settings: Settings, folder: Path, audio: bytes, seconds: float) -> None:
    """(b), with no worker running, so both sides have the machine to themselves."""
    runner, base = await serving(settings, worker=False)
    store = FilesystemStore(folder / "bare")
    accept, puts = [], []

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(audio), 256 * 1024):
            yield audio[i : i + 256 * 1024]

    os.sync()  # the test files just written must not be flushed inside either side's fsync
    try:
        async with aiohttp.ClientSession() as session:
            for n in range(12):
                prepared = prepare(audio, f"lat-{n}", seconds)
                accept.append(await post(session, base, prepared))
                began = time.perf_counter()
                await store.put(f"bare/{n}", chunks())
                puts.append(time.perf_counter() - began)
        await runner.app[POOL].execute("DELETE FROM ingest_jobs")
        await runner.app[POOL].execute("DELETE FROM recordings")
    finally:
        await runner.cleanup()
    median_accept, median_put = statistics.median(accept[2:]), statistics.median(puts[2:])
    floor = statistics.median(per_byte_work(prepare(audio, "floor", seconds)[0], audio))
    print(f"(b) accept latency for {len(audio) / 1e6:.1f} MB (median of 10, after 2 warm-ups):")
    print(
        f"    bare store put {median_put * 1000:7.1f} ms   webhook accept {median_accept * 1000:7.1f} ms"
    )
    print(f"    ratio {median_accept / median_put:.2f}  (target <= 1.5)")
    print(
        f"    the accept's per-byte work alone (HMAC + SHA-256 + ChaCha20-Poly1305, one core)"
        f" {floor * 1000:.1f} ms = {floor / median_put:.2f} x the bare put"
    )


def per_byte_work(body: bytes, audio: bytes) -> list[float]:
    """Time the cryptography every accept must do over these bytes, with nothing else."""
    aead = ChaCha20Poly1305(os.urandom(32))
    view = memoryview(audio)
    times = []
    for _ in range(12):
        began = time.perf_counter()
        hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
        hashlib.sha256(audio).digest()
        for i in range(0, len(audio), CHUNK_SIZE):
            aead.encrypt(bytes(12), view[i : i + CHUNK_SIZE], None)
        times.append(time.perf_counter() - began)
    return times[2:]


async def run(calls: int, minutes: float, long_minutes: float) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        paths = [make_call(folder, f"call{n}", minutes) for n in range(calls)]
        audios = [p.read_bytes() for p in paths]
        long_audio = make_call(folder, "long", long_minutes).read_bytes()
        settings = Settings(
            data_dir=folder / "var",
            webhook_secret=Secret(SECRET),
            log_format="text",
            worker_concurrency=PARALLEL,
            max_upload_bytes=2 * 1024**3,
        )
        await accept_latency(settings, folder, audios[0], minutes * 60)
        bare = bare_transcode(paths)
        runner, base = await serving(settings, worker=True)
        app = runner.app
        try:
            async with aiohttp.ClientSession() as session:
                calls_ready = [prepare(a, f"tp-{n}", minutes * 60) for n, a in enumerate(audios)]
                started = time.perf_counter()
                await asyncio.gather(*[post(session, base, p) for p in calls_ready])
                await wait_ready(app, calls)
                ours = time.perf_counter() - started
                real = calls * minutes * 60
                print(f"(a) {calls} calls x {minutes} min stereo G.711, {PARALLEL} at a time:")
                print(f"    bare ffmpeg -> Opus   {bare:6.2f} s  ({real / bare:6.0f} x real time)")
                print(f"    callrec end to end    {ours:6.2f} s  ({real / ours:6.0f} x real time)")
                print(f"    ratio {bare / ours:.2f}  (target >= 0.85)")

                long_call = prepare(long_audio, "long", long_minutes * 60)
                del long_audio, audios, calls_ready  # the client's own copies are not the server's
                await asyncio.sleep(0.5)
                idle = psutil.Process().memory_info().rss
                with RssSampler() as sampler:
                    await post(session, base, long_call)
                    await wait_ready(app, calls + 1)
                print(f"(c) one {long_minutes:.0f}-minute call ({len(long_call[0]) / 1e6:.0f} MB):")
                print(
                    f"    callrec peak RSS above idle {(sampler.peak - idle) / 1e6:6.1f} MB  (target <= 150)"
                )
                print(
                    f"    ffmpeg processes peak RSS   {sampler.children_peak / 1e6:6.1f} MB  (separate)"
                )
        finally:
            await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description="ingest benchmark")
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--long-minutes", type=float, default=120)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.minutes, args.long_minutes))


if __name__ == "__main__":
    main()
