"""Benchmark ingest against its bare parts, in one run, on synthetic stereo G.711 calls.

(a) end-to-end pipeline throughput (signed POST, encryption, worker, Opus, ready) as a ratio
    to bare ffmpeg transcoding of the same files to Opus, same parallelism (target >= 0.85);
(b) webhook accept latency as a ratio to a bare aiohttp handler that receives the same
    multipart body (aiohttp's multipart reader) and writes the audio part to the same
    store with fsync, with no signature, hashing or encryption (goal: median <= 2.0); the
    bare store put and the accept's unavoidable cryptography (the HMAC over the body, the
    SHA-256 and the encryption of the audio) over the same bytes are printed beside it,
    which shows how far down the ratio can go on this machine;
(c) peak RSS of the callrec process above idle while ingesting one long call (target
    <= 150 MB; ffmpeg's own processes are separate and reported apart);
(load) ingest under load: 16 concurrent uploaders (in a process of their own) posting
    5-minute calls back to back for ``--load-seconds`` (default 300), the worker off;
    afterwards the database must hold every accepted call once with its whole object
    (0 lost, 0 duplicated); accept p50/p99. The uploads stop early if the disk would fill
    (``--min-free-gb``), since every accepted call stays in the store.

The service runs in this process on its embedded defaults in a temporary folder.

Run: ``.venv/bin/python -m bench.ingest [--calls 8] [--minutes 5] [--long-minutes 120]
[--load-seconds 300] [--parts a,b,c,load]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from aiohttp import web
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from api.appkeys import POOL, STORE
from callrec.app import create_app
from common.ffmpeg import ffmpeg_exe
from common.settings import Secret, Settings
from recorder.audio import opus_output
from storage.age import CHUNK_SIZE
from storage.fs import FilesystemStore
from tests.recorder.helpers import SECRET, metadata, multipart, signed_headers

PARALLEL = 2
UPLOADERS = 16


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
                        *opus_output(24, 2),  # the calls are stereo, encoded as ingest does
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


async def post(
    session: aiohttp.ClientSession, url: str, prepared: Prepared, *, expect: int | None = 202
) -> tuple[float, int, str]:
    """POST one prepared call, streaming it in pieces; return the accept latency in seconds,
    the status and the answer's text."""
    body, headers = prepared
    view = memoryview(body)

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 256 * 1024):
            yield view[i : i + 256 * 1024]  # type: ignore[misc]

    started = time.perf_counter()
    async with session.post(url, data=pieces(), headers=headers) as response:
        text = await response.text()
    elapsed = time.perf_counter() - started
    assert expect is None or response.status == expect, text
    return elapsed, response.status, text


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


def bare_app(store: FilesystemStore) -> web.Application:
    """(b)'s baseline: aiohttp's multipart reader and the same store's put with fsync."""

    async def receive(request: web.Request) -> web.Response:
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, aiohttp.BodyPartReader) and part.name == "audio":

                async def chunks(audio: aiohttp.BodyPartReader = part) -> AsyncIterator[bytes]:
                    while chunk := await audio.read_chunk(256 * 1024):
                        yield chunk

                await store.put(f"bare/{uuid.uuid4().hex}", chunks())
            elif isinstance(part, aiohttp.BodyPartReader):
                await part.read()
        return web.json_response({"status": "received"}, status=202)

    app = web.Application(client_max_size=2 * 1024**3)
    app.router.add_post("/v1/recordings", receive)
    return app


async def accept_latency(settings: Settings, folder: Path, audio: bytes, seconds: float) -> None:
    """(b), with no worker running, so each side has the machine to itself in its turn."""
    runner, base = await serving(settings, worker=False)
    store = FilesystemStore(settings.data_dir / "objects")  # the very store callrec writes to
    bare_runner, bare_base = await serve_app(bare_app(store))
    accept, handler, puts = [], [], []

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(audio), 256 * 1024):
            yield audio[i : i + 256 * 1024]

    os.sync()  # the test files just written must not be flushed inside either side's fsync
    try:
        async with aiohttp.ClientSession() as session:
            for n in range(12):
                prepared = prepare(audio, f"lat-{n}", seconds)
                accept.append((await post(session, f"{base}/v1/recordings", prepared))[0])
                handler.append((await post(session, f"{bare_base}/v1/recordings", prepared))[0])
                began = time.perf_counter()
                await store.put(f"bare/{n}", chunks())
                puts.append(time.perf_counter() - began)
        await runner.app[POOL].execute("DELETE FROM ingest_jobs")
        await runner.app[POOL].execute("DELETE FROM recordings")
    finally:
        await bare_runner.cleanup()
        await runner.cleanup()
    median_accept, median_handler = statistics.median(accept[2:]), statistics.median(handler[2:])
    median_put = statistics.median(puts[2:])
    floor = statistics.median(per_byte_work(prepare(audio, "floor", seconds)[0], audio))
    print(f"(b) accept latency for {len(audio) / 1e6:.1f} MB (median of 10, after 2 warm-ups):")
    print(
        f"    bare aiohttp handler {median_handler * 1000:7.1f} ms"
        f"   webhook accept {median_accept * 1000:7.1f} ms"
    )
    print(f"    ratio {median_accept / median_handler:.2f}  (goal <= 2.0)")
    print(
        f"    bare store put {median_put * 1000:7.1f} ms"
        f"   (accept / put {median_accept / median_put:.2f}, the former target's ratio)"
    )
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


@dataclass
class Load:
    """What the uploaders of (load) saw."""

    accepted: dict[str, str] = field(default_factory=dict)  # external id -> recording id
    latencies: list[float] = field(default_factory=list)
    busy: int = 0  # 429s and 503s, each retried
    other: Counter[int] = field(default_factory=Counter)
    stopped_early: bool = False
    took: float = 0.0
    call_bytes: int = 0


def upload_for(
    url: str, audio_path: str, seconds: float, load_seconds: float, min_free_gb: float
) -> Load:
    """(load)'s clients, run in a process of their own so they do not share callrec's loop."""
    path = Path(audio_path)
    audio = path.read_bytes()
    return asyncio.run(_upload_for(url, audio, path.parent, seconds, load_seconds, min_free_gb))


async def _upload_for(
    url: str, audio: bytes, folder: Path, seconds: float, load_seconds: float, min_free_gb: float
) -> Load:
    load = Load(call_bytes=len(audio))
    deadline = time.monotonic() + load_seconds

    async def uploader(session: aiohttp.ClientSession, number: int) -> None:
        sent = 0
        while time.monotonic() < deadline:
            if shutil.disk_usage(folder).free < min_free_gb * 1e9:
                load.stopped_early = True
                return
            external_id = f"load-{number}-{sent}"
            prepared = await asyncio.to_thread(prepare, audio, external_id, seconds)
            elapsed, status, text = await post(session, url, prepared, expect=None)
            while status in (429, 503):  # nothing kept: the same signed delivery may come again
                load.busy += 1
                await asyncio.sleep(0.1)
                elapsed, status, text = await post(session, url, prepared, expect=None)
            if status == 202:
                load.accepted[external_id] = json.loads(text)["id"]
                load.latencies.append(elapsed)
            else:
                load.other[status] += 1
            sent += 1

    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=UPLOADERS)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*[uploader(session, n) for n in range(UPLOADERS)])
    load.took = time.monotonic() - started
    return load


async def under_load(
    settings: Settings,
    audio_path: Path,
    seconds: float,
    load_seconds: float,
    min_free_gb: float,
) -> None:
    """(load): UPLOADERS clients post new calls back to back, then the database is checked."""
    runner, base = await serving(settings, worker=False)
    os.sync()
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as clients:
            load = await asyncio.get_running_loop().run_in_executor(
                clients,
                upload_for,
                f"{base}/v1/recordings",
                str(audio_path),
                seconds,
                load_seconds,
                min_free_gb,
            )
        lost, duplicated, unacknowledged = await check_load(runner.app, load)
    finally:
        await runner.cleanup()
    took = load.took
    count, size = len(load.accepted), load.call_bytes / 1e6
    p50 = statistics.median(load.latencies) if load.latencies else float("nan")
    p99 = statistics.quantiles(load.latencies, n=100)[98] if count > 1 else float("nan")
    print(
        f"(load) {UPLOADERS} uploaders, {seconds / 60:.0f}-minute stereo G.711 calls"
        f" ({size:.1f} MB) back to back for {took:.0f} s:"
    )
    if load.stopped_early:
        print(f"    stopped early: less than {min_free_gb:.0f} GB of disk left")
    print(
        f"    accepted {count} calls ({count / took:.1f}/s, {count * size / took:.0f} MB/s);"
        f" busy 429/503 retried {load.busy}; other answers {dict(load.other) or 'none'}"
    )
    print(
        f"    database: {lost} lost, {duplicated} duplicated, {unacknowledged} stored without a 202"
    )
    print(f"    accept p50 {p50 * 1000:.1f} ms   p99 {p99 * 1000:.1f} ms")


async def check_load(app: web.Application, load: Load) -> tuple[int, int, int]:
    """(lost, duplicated, unacknowledged): an accepted call is lost unless its row and its
    whole incoming object are there; a call stored twice, or stored without a 202, counts."""
    rows = await app[POOL].fetch(
        "SELECT r.id, r.external_id, s.object_key, s.payload_size FROM recordings r"
        " LEFT JOIN sealed_objects s ON s.id = r.incoming_object_id"
        " WHERE r.external_id LIKE 'load-%'"
    )
    per_call = Counter(row["external_id"] for row in rows)
    duplicated = (
        sum(n - 1 for n in per_call.values())
        + len(load.accepted)
        - len(set(load.accepted.values()))
    )
    found = {row["external_id"]: row for row in rows}
    lost = 0
    for external_id, recording_id in load.accepted.items():
        lost += not await _stored_whole(app, found.get(external_id), recording_id)
    return lost, duplicated, len(set(found) - set(load.accepted))


async def _stored_whole(app: web.Application, row: Any, recording_id: str) -> bool:
    if row is None or str(row["id"]) != recording_id or row["object_key"] is None:
        return False
    return bool(await app[STORE].size(row["object_key"]) == row["payload_size"])


async def pipeline(
    settings: Settings,
    folder: Path,
    paths: list[Path],
    minutes: float,
    long_minutes: float,
    parts: set[str],
) -> None:
    """(a) and (c) on one callrec with its worker."""
    calls = len(paths)
    bare = bare_transcode(paths) if "a" in parts else 0.0
    runner, base = await serving(settings, worker=True)
    app = runner.app
    url = f"{base}/v1/recordings"
    ready = 0
    try:
        async with aiohttp.ClientSession() as session:
            if "a" in parts:
                audios = [p.read_bytes() for p in paths]
                calls_ready = [prepare(a, f"tp-{n}", minutes * 60) for n, a in enumerate(audios)]
                del audios
                started = time.perf_counter()
                await asyncio.gather(*[post(session, url, p) for p in calls_ready])
                await wait_ready(app, calls)
                ours = time.perf_counter() - started
                del calls_ready  # the client's own copies are not the server's
                ready = calls
                real = calls * minutes * 60
                print(f"(a) {calls} calls x {minutes} min stereo G.711, {PARALLEL} at a time:")
                print(f"    bare ffmpeg -> Opus   {bare:6.2f} s  ({real / bare:6.0f} x real time)")
                print(f"    callrec end to end    {ours:6.2f} s  ({real / ours:6.0f} x real time)")
                print(f"    ratio {bare / ours:.2f}  (target >= 0.85)")
            if "c" in parts:
                long_call = prepare(
                    make_call(folder, "long", long_minutes).read_bytes(), "long", long_minutes * 60
                )
                await asyncio.sleep(0.5)
                idle = psutil.Process().memory_info().rss
                with RssSampler() as sampler:
                    await post(session, url, long_call)
                    await wait_ready(app, ready + 1)
                print(f"(c) one {long_minutes:.0f}-minute call ({len(long_call[0]) / 1e6:.0f} MB):")
                print(
                    f"    callrec peak RSS above idle {(sampler.peak - idle) / 1e6:6.1f} MB  (target <= 150)"
                )
                print(
                    f"    ffmpeg processes peak RSS   {sampler.children_peak / 1e6:6.1f} MB  (separate)"
                )
    finally:
        await runner.cleanup()


async def run(args: argparse.Namespace) -> None:
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        count = args.calls if "a" in parts else 1
        paths = [make_call(folder, f"call{n}", args.minutes) for n in range(count)]
        settings = Settings(
            data_dir=folder / "var",
            webhook_secret=Secret(SECRET),
            log_format="text",
            worker_concurrency=PARALLEL,
            max_upload_bytes=2 * 1024**3,
            max_uploads_per_peer=UPLOADERS,  # (load)'s uploaders all come from 127.0.0.1
        )
        audio, seconds = paths[0].read_bytes(), args.minutes * 60
        if "b" in parts:
            await accept_latency(settings, folder, audio, seconds)
        if parts & {"a", "c"}:
            await pipeline(settings, folder, paths, args.minutes, args.long_minutes, parts)
        if "load" in parts:
            await under_load(settings, paths[0], seconds, args.load_seconds, args.min_free_gb)


def main() -> None:
    parser = argparse.ArgumentParser(description="ingest benchmark")
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--long-minutes", type=float, default=120)
    parser.add_argument("--load-seconds", type=float, default=300)
    parser.add_argument("--min-free-gb", type=float, default=20, help="(load) stops below this")
    parser.add_argument("--parts", default="a,b,c,load", help="comma-separated: a,b,c,load")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
