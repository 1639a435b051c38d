"""``kill -9`` of a real worker process at random points of ingest.

A ``callrec worker`` subprocess runs against this test's database and data directory (short
leases, as an operator may set them) while calls keep arriving; it is killed with SIGKILL 20
times after random delays, so deaths land in start-up, claiming, decoding, encrypting,
committing and deleting. After one last restart every accepted call must be ready within two
minutes, each exactly once (one rendition, no duplicate rows), the reaper must leave no
orphan object, and no plaintext audio may sit anywhere on disk.

The seed is printed; set ``CALLREC_CRASH_SEED`` to replay a run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import POOL, STORE
from callrec.app import create_app
from common.settings import Secret, Settings
from retention.reaper import OrphanReaper
from tests.recorder.audio_files import make_audio
from tests.recorder.helpers import SECRET, deliver

pytestmark = pytest.mark.fault

Client = TestClient[web.Request, web.Application]

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
LEASE_SECONDS = 3
READY_WITHIN_SECONDS = 120
# (format, seconds of audio): each takes the worker from a fraction of a second to about two
AUDIO = [("wav-pcm16", 40.0), ("mp3", 60.0), ("flac", 90.0), ("ogg-opus", 50.0), ("webm", 70.0)]
# what unencrypted audio starts with (WAV, Ogg, FLAC, MP3 with ID3, WebM/Matroska)
PLAINTEXT_MAGIC = (b"RIFF", b"OggS", b"fLaC", b"ID3", b"\x1a\x45\xdf\xa3")


@pytest.fixture
def crash_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, webhook_secret=Secret(SECRET))


@pytest.fixture
async def api(crash_settings: Settings) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(crash_settings, run_worker=False))) as client:
        yield client


@pytest.fixture
def worker_tmp(tmp_path: Path) -> Path:
    path = tmp_path / "worker-tmp"
    path.mkdir()
    return path


class WorkerProcess:
    """``python -m callrec.cli worker`` on the test's database and data directory."""

    def __init__(self, settings: Settings, tmp: Path, log: IO[bytes]) -> None:
        assert settings.database_url is not None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
        self.env |= {
            "CALLREC_DATA_DIR": str(settings.data_dir),
            "CALLREC_DATABASE_URL": settings.database_url.reveal(),
            "CALLREC_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
            "CALLREC_WORKER_CONCURRENCY": "2",
            "CALLREC_SCHEDULER": "false",
            "TMPDIR": str(tmp),
            "PYTHONPATH": str(ROOT),
        }
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "callrec.cli", "worker"],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=self.log,
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def worker_log(tmp_path: Path) -> Iterator[IO[bytes]]:
    with (tmp_path / "worker.log").open("w+b") as log:
        yield log


async def statuses(client: Client) -> dict[str, str]:
    rows = await client.app[POOL].fetch("SELECT id::text, status FROM recordings")
    return {row["id"]: row["status"] for row in rows}


def plaintext_files(*folders: Path) -> list[str]:
    """Files that begin like unencrypted audio (the payloads are ciphertext from byte 0)."""
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                with path.open("rb") as handle:
                    if handle.read(16).startswith(PLAINTEXT_MAGIC):
                        found.append(str(path.relative_to(folder)))
    return found


async def test_kill_9_at_random_points_loses_nothing_and_does_nothing_twice(
    api: Client,
    crash_settings: Settings,
    audio_dir: Path,
    worker_tmp: Path,
    worker_log: IO[bytes],
) -> None:
    seed = int(os.environ.get("CALLREC_CRASH_SEED", time.time_ns() % 1_000_000))
    print(f"CALLREC_CRASH_SEED={seed}")
    rng = random.Random(seed)
    calls = [(make_audio(audio_dir, kind, seconds), seconds) for kind, seconds in AUDIO]
    pool, store = api.app[POOL], api.app[STORE]
    accepted: list[str] = []

    async def accept(count: int) -> None:
        for _ in range(count):
            audio, seconds = rng.choice(calls)
            external_id = f"crash-{len(accepted)}"
            accepted.append(
                await deliver(api, audio, external_id=external_id, duration_seconds=seconds)
            )

    worker = WorkerProcess(crash_settings, worker_tmp, worker_log)
    await accept(4)
    mid_job = 0  # kills that found a call being processed
    for _ in range(KILLS):
        await accept(1)
        worker.start()
        await asyncio.sleep(rng.uniform(0.2, 3.0))
        mid_job += "processing" in (await statuses(api)).values()
        worker.kill()
    before = list((await statuses(api)).values())

    worker.start()
    try:
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while time.monotonic() < deadline:
            if set((await statuses(api)).values()) == {"ready"}:
                break
            await asyncio.sleep(0.5)
        final = await statuses(api)
    finally:
        worker.stop()
    worker_log.seek(0)
    log = worker_log.read().decode("utf-8", "replace")
    assert sorted(final) == sorted(accepted)
    assert {rid: s for rid, s in final.items() if s != "ready"} == {}, log[-3000:]
    print(
        f"{len(accepted)} calls, {mid_job} kills mid-job: {before.count('ready')} ready before, "
        f"{before.count('processing')} in flight at the last; "
        f"{log.count('recording ready')} readied, {log.count('lease lost')} leases lost"
    )

    # once each: one rendition per call, no upload left, no job left
    renditions = await pool.fetch("SELECT audio_object_id FROM recordings")
    assert len({row["audio_object_id"] for row in renditions}) == len(accepted)
    assert (
        await pool.fetchval("SELECT count(*) FROM recordings WHERE incoming_object_id IS NOT NULL")
        == 0
    )
    assert await pool.fetchval("SELECT count(*) FROM sealed_objects") == len(accepted)
    assert await pool.fetchval("SELECT count(*) FROM ingest_jobs") == 0

    # the reaper leaves exactly the committed objects behind
    await OrphanReaper(pool, store, keep_runs_days=30, grace=timedelta(0)).run()
    kept = sorted([item.key async for item in store.list()])
    assert kept == sorted(await pool.fetchval("SELECT array_agg(object_key) FROM sealed_objects"))
    assert await pool.fetchval("SELECT count(*) FROM pending_object_deletions") == 0

    assert plaintext_files(crash_settings.data_dir, worker_tmp) == []
    assert "Traceback" not in log
