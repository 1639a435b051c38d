"""Benchmark seekable encrypted playback against serving the same bytes unencrypted.

(a) time to first byte of a 64 KiB Range read at 0 %, 50 % and 95 % of a one-hour
    recording (target: max/min <= 1.5), and as a ratio to serving the same bytes
    unencrypted from the same store in the same run (target <= 2). Two comparators:
    "plain" is callrec's own playback route with the decryption swapped for a read of a
    plaintext copy (same session check, object check and audit commit), so the ratio is
    what encryption costs; "bare" is a handler that does nothing but the Range read, so that
    ratio is everything callrec adds (access control, audit, crypto).
(b) 200 concurrent full-length streams: errors (target 0) and the server's resident
    memory growth per stream (target <= 1 MB). The load comes from a separate process so
    the client's memory is not counted.

Both servers run in this process on loopback; requests alternate between them so drift on
a shared machine hits both alike. The recording is a real one-hour Opus file made by
ffmpeg, sealed by the vault exactly as ingest would.

Run: ``.venv/bin/python -m bench.playback [--minutes 60] [--streams 200] [--reads 40]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path

import aiohttp
import psutil
from aiohttp import web

from accounts.roles import Permission
from accounts.users import create_user
from api.appkeys import POOL, STORE, VAULT
from api.permissions import requires
from api.playback import serve_audio
from bench.ingest import RssSampler, serve_app
from callrec.app import create_app
from common.ffmpeg import ffmpeg_exe
from common.settings import Settings
from storage.objects import ObjectStore
from storage.vault import insert_sealed

READ = 64 * 1024
PASSWORD = "throwaway playback account"  # noqa: S105 - a throwaway account in a temp database
INSERT_RECORDING = """
INSERT INTO recordings (id, external_id, status, started_at, declared_duration_seconds,
    measured_duration_seconds, answered_by, direction, channel_layout, notice_played,
    audio_object_id)
VALUES ($1, $2, 'ready', now(), $3, $3, 'bench', 'inbound', 'mono', true, $4)
"""


def make_opus(folder: Path, minutes: float) -> bytes:
    """A real Opus-in-Ogg call of ``minutes`` (pink noise, 8 kHz mono, 24 kbit/s)."""
    path = folder / "call.ogg"
    subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-f", "lavfi",
            "-i", f"anoisesrc=color=pink:duration={minutes * 60}:sample_rate=8000:amplitude=0.3",
            "-c:a", "libopus", "-b:a", "24k", "-compression_level", "0", "-y", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


async def pieces(data: bytes) -> AsyncIterator[bytes]:
    """``data`` as the 256 KiB pieces a network upload would bring."""
    for i in range(0, len(data), 256 * 1024):
        yield data[i : i + 256 * 1024]


async def store_recording(app: web.Application, audio: bytes, seconds: float) -> uuid.UUID:
    """Seal ``audio`` as a ready recording; also keep a plaintext copy for the bare server."""
    sealed = await app[VAULT].seal(pieces(audio), kind="recordings")
    recording_id = uuid.uuid4()
    async with app[POOL].acquire() as conn, conn.transaction():
        await insert_sealed(conn, sealed)
        await conn.execute(INSERT_RECORDING, recording_id, "bench", seconds, sealed.id)
    await app[STORE].put("bench/plain", pieces(audio))
    return recording_id


async def read_plain(store: ObjectStore, start: int, end: int) -> AsyncGenerator[bytes, None]:
    """The plaintext copy's bytes ``[start, end)``, straight from the store."""
    async for piece in store.get_range("bench/plain", start, end - start):
        yield piece


@requires(Permission.PLAY_RECORDINGS)
async def unencrypted_route(request: web.Request) -> web.StreamResponse:
    """callrec's playback route with the decryption swapped for the plaintext copy."""
    store = request.app[STORE]
    return await serve_audio(
        request,
        action="recording.play",
        attachment=False,
        read=lambda _sealed, start, end: read_plain(store, start, end),
    )


def bare_app(store: ObjectStore, size: int) -> web.Application:
    """The comparator: Range reads of the plaintext object, nothing else (no auth, no audit)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        first, _, last = request.headers["Range"].removeprefix("bytes=").partition("-")
        start, end = int(first), min(int(last) + 1, size)
        response = web.StreamResponse(status=206)
        response.content_type = "audio/ogg"
        response.content_length = end - start
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        await response.prepare(request)
        async for piece in store.get_range("bench/plain", start, end - start):
            await response.write(piece)
        return response

    app = web.Application()
    app.router.add_get("/plain", handler)
    return app


async def first_byte(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    """Seconds from sending the request to the first body byte; reads the rest too."""
    started = time.perf_counter()
    async with session.get(url, headers=headers) as response:
        assert response.status == 206, response.status
        await response.content.readany()
        elapsed = time.perf_counter() - started
        await response.read()
    return elapsed


async def time_to_first_byte(
    urls: dict[str, str], token: str, size: int, reads: int
) -> dict[int, dict[str, float]]:
    """Median TTFB per server at each position, requests taking turns between servers."""
    results: dict[int, dict[str, float]] = {}
    async with aiohttp.ClientSession() as session:
        for percent in (0, 50, 95):
            start = min(size * percent // 100, size - READ)
            headers = {
                "Range": f"bytes={start}-{start + READ - 1}",
                "Authorization": f"Bearer {token}",
            }
            times: dict[str, list[float]] = {name: [] for name in urls}
            for n in range(reads + 3):
                for name, url in urls.items():
                    elapsed = await first_byte(session, url, headers)
                    if n >= 3:  # warm-ups
                        times[name].append(elapsed)
            results[percent] = {name: statistics.median(t) for name, t in times.items()}
    return results


async def stream_client(url: str, token: str, streams: int) -> None:
    """(Run in a child process.) ``streams`` concurrent full reads; prints errors and bytes."""
    errors = 0
    total = 0

    async def one(session: aiohttp.ClientSession) -> None:
        nonlocal errors, total
        try:
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
                if r.status != 200:
                    errors += 1
                    return
                async for piece in r.content.iter_chunked(64 * 1024):
                    total += len(piece)
        except aiohttp.ClientError:
            errors += 1

    connector = aiohttp.TCPConnector(limit=streams)
    timeout = aiohttp.ClientTimeout(total=1800)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(one(session) for _ in range(streams)))
    print(f"{errors} {total}")


async def concurrent_streams(url: str, token: str, streams: int, size: int) -> None:
    """(b): the load from a child process; this process's RSS sampled throughout."""
    await asyncio.sleep(0.5)
    idle = psutil.Process().memory_info().rss
    started = time.perf_counter()
    with RssSampler() as sampler:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.playback", "--client", url, token, str(streams),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await child.communicate()
    elapsed = time.perf_counter() - started
    errors, total = (int(x) for x in out.split())
    growth = (sampler.peak - idle) / 1e6
    print(f"(b) {streams} concurrent full-length streams of {size / 1e6:.1f} MB:")
    print(
        f"    errors {errors}  (target 0); bytes {total / 1e9:.2f} GB of {streams * size / 1e9:.2f} GB"
    )
    print(f"    {total / elapsed / 1e6:.0f} MB/s decrypted and served, {elapsed:.1f} s")
    print(
        f"    server RSS growth {growth:.1f} MB = {growth / streams:.2f} MB per stream  (target <= 1)"
    )


async def run(minutes: float, streams: int, reads: int) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        audio = make_opus(folder, minutes)
        settings = Settings(data_dir=folder / "var", log_format="text")
        app = create_app(settings, run_worker=False)
        app.router.add_get("/bench/unencrypted/{id}", unencrypted_route)
        runner, base = await serve_app(app)
        bare_runner, bare = await serve_app(bare_app(app[STORE], len(audio)))
        try:
            recording_id = await store_recording(app, audio, minutes * 60)
            await create_user(app[POOL], "bench", PASSWORD, ["customer_service"])
            async with aiohttp.ClientSession() as session:
                login = await session.post(
                    f"{base}/v1/auth/login", json={"username": "bench", "password": PASSWORD}
                )
                token = (await login.json())["token"]
            ours = f"{base}/v1/recordings/{recording_id}/audio?purpose=verify_content"
            urls = {
                "callrec": ours,
                "plain": f"{base}/bench/unencrypted/{recording_id}?purpose=verify_content",
                "bare": f"{bare}/plain",
            }
            ttfb = await time_to_first_byte(urls, token, len(audio), reads)
            print(
                f"(a) time to first byte of 64 KiB Range reads, {minutes:.0f}-minute recording "
                f"({len(audio) / 1e6:.1f} MB), median of {reads}:"
            )
            for percent, t in ttfb.items():
                print(
                    f"    at {percent:3d} %: callrec {t['callrec'] * 1000:5.2f} ms   plain "
                    f"{t['plain'] * 1000:5.2f} ms   bare {t['bare'] * 1000:5.2f} ms   "
                    f"callrec/plain {t['callrec'] / t['plain']:.2f}   "
                    f"callrec/bare {t['callrec'] / t['bare']:.2f}"
                )
            ours_times = [t["callrec"] for t in ttfb.values()]
            spread = max(ours_times) / min(ours_times)
            print(f"    callrec max/min across positions {spread:.2f}  (target <= 1.5)")
            worst_plain = max(t["callrec"] / t["plain"] for t in ttfb.values())
            worst_bare = max(t["callrec"] / t["bare"] for t in ttfb.values())
            print(
                f"    worst callrec/plain {worst_plain:.2f}  (target <= 2: what encryption costs)"
            )
            print(f"    worst callrec/bare  {worst_bare:.2f}  (all callrec adds, for reference)")
            await concurrent_streams(ours, token, streams, len(audio))
        finally:
            await bare_runner.cleanup()
            await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description="playback benchmark")
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--reads", type=int, default=40)
    parser.add_argument("--client", nargs=3, metavar=("URL", "TOKEN", "STREAMS"))
    args = parser.parse_args()
    if args.client:
        url, token, count = args.client
        asyncio.run(stream_client(url, token, int(count)))
        return
    asyncio.run(run(args.minutes, args.streams, args.reads))


if __name__ == "__main__":
    main()
