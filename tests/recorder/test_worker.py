"""The ingest worker on real audio through real ffmpeg, ending in encrypted Opus renditions."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import KEYRING, POOL, STORE, VAULT
from callrec.app import create_app
from common.settings import Secret, Settings
from recorder.audio import Unusable
from recorder.worker import MAX_ATTEMPTS, IngestWorker, backoff
from retention.reaper import OrphanReaper
from storage.objects import ObjectStore, ObjectStoreUnavailable
from storage.vault import Vault, load_sealed
from tests.recorder.audio_files import (
    CODECS,
    make_audio,
    make_mp3_with_cover,
    make_silence,
    make_video,
)
from tests.recorder.helpers import SECRET, deliver, metadata, signed_headers

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def ingest_settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, webhook_secret=Secret(SECRET), fetch_allowed_hosts=("127.0.0.1",)
    )


@pytest.fixture
async def api(ingest_settings: Settings) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(ingest_settings))) as client:
        yield client


def worker_for(client: Client, settings: Settings) -> IngestWorker:
    return IngestWorker(client.app[POOL], client.app[VAULT], settings)


class StoreFault:
    """The real store behind a fault: refused deletes of uploads, or a rendition write that,
    once complete, waits for the test to let it return (a worker paused mid-job)."""

    def __init__(self, store: ObjectStore, *, refuse_deletes: bool = False) -> None:
        self.store = store
        self.refuse_deletes = refuse_deletes
        self.paused = asyncio.Event()
        self.resume = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        written = await self.store.put(key, chunks)
        if key.startswith("recordings/") and not self.refuse_deletes:
            self.paused.set()
            await self.resume.wait()
        return written

    async def delete(self, key: str) -> None:
        if self.refuse_deletes and key.startswith("incoming/"):
            raise ObjectStoreUnavailable("object store unreachable")
        await self.store.delete(key)


def faulty_worker(
    client: Client, settings: Settings, **fault: bool
) -> tuple[IngestWorker, StoreFault]:
    store = StoreFault(client.app[STORE], **fault)
    vault = Vault(cast(ObjectStore, store), client.app[KEYRING])
    return IngestWorker(client.app[POOL], vault, settings), store


async def store_keys(client: Client, prefix: str = "") -> list[str]:
    return [item.key async for item in client.app[STORE].list(prefix)]


async def status_error(client: Client, recording_id: str) -> str | None:
    """The ``error`` the telephony side is shown."""
    answer = await client.get(f"/v1/recordings/{recording_id}/status", headers=signed_headers(b""))
    assert answer.status == 200
    error: str | None = (await answer.json()).get("error")
    return error


async def recording(client: Client, recording_id: str) -> dict[str, Any]:
    row = await client.app[POOL].fetchrow(
        "SELECT * FROM recordings WHERE id = $1::uuid", recording_id
    )
    assert row is not None
    return dict(row)


async def test_delivered_call_ends_ready_as_encrypted_opus(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    audio = make_audio(audio_dir, "wav-mulaw", 6.0)
    recording_id = await deliver(api, audio, duration_seconds=6.0)
    outcomes = await worker_for(api, ingest_settings).run_until_idle()
    assert [o.status for o in outcomes] == ["ready"]
    row = await recording(api, recording_id)
    assert row["status"] == "ready"
    assert row["measured_duration_seconds"] == Decimal("6.000")
    assert not row["duration_mismatch"]
    assert row["received_sha256"] == hashlib.sha256(audio).digest()
    assert row["incoming_object_id"] is None  # the upload is shredded once the rendition exists
    sealed = await load_sealed(api.app[POOL], row["audio_object_id"])
    assert sealed is not None
    opus = await api.app[VAULT].read_all(sealed)
    assert opus.startswith(b"OggS")
    assert b"OpusHead" in opus[:200]
    assert hashlib.sha256(opus).digest() == row["audio_sha256"]
    waveform = row["waveform"]
    assert waveform["channels"][0]["role"] == "mixed"
    assert 59 <= len(waveform["channels"][0]["peaks"]) <= 61
    keys = [o.key async for o in api.app[STORE].list()]
    assert keys == [sealed.object_key]
    status = await api.get(f"/v1/recordings/{recording_id}/status", headers=signed_headers(b""))
    assert (await status.json())["status"] == "ready"


@pytest.mark.parametrize("kind", sorted(CODECS))
async def test_every_telephony_format_is_accepted(
    api: Client, ingest_settings: Settings, audio_dir: Path, kind: str
) -> None:
    audio = make_audio(audio_dir, kind, 3.0)
    recording_id = await deliver(api, audio, external_id=f"fmt-{kind}")
    await worker_for(api, ingest_settings).run_until_idle()
    row = await recording(api, recording_id)
    assert row["status"] == "ready", row["error"]
    assert abs(row["measured_duration_seconds"] - Decimal(3)) < Decimal("0.1")


async def test_stereo_channels_follow_the_declared_layout(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    audio = make_audio(audio_dir, "wav-alaw", 2.0, channels=2)
    recording_id = await deliver(api, audio, duration_seconds=2, channel_layout="agent-right")
    await worker_for(api, ingest_settings).run_until_idle()
    row = await recording(api, recording_id)
    assert row["channels"] == 2
    assert [c["role"] for c in row["waveform"]["channels"]] == ["customer", "agent"]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: make_audio(d, "wav-pcm16", 4.0)[:20_000], Unusable.TRUNCATED_WAV),
        (lambda d: make_audio(d, "ogg-opus", 4.0)[:3_000], Unusable.TRUNCATED_OGG),
        (lambda d: b"this is not audio at all" * 100, Unusable.UNDECODABLE),
        (lambda d: make_video(d, 2.0), Unusable.VIDEO),
    ],
)
async def test_unusable_audio_fails_with_a_reason(
    api: Client, ingest_settings: Settings, audio_dir: Path, make: Any, reason: Unusable
) -> None:
    """The reason is one fixed text (an MP4 with a video track included), never ffmpeg's."""
    recording_id = await deliver(api, make(audio_dir), duration_seconds=4)
    outcomes = await worker_for(api, ingest_settings).run_until_idle()
    assert [o.status for o in outcomes] == ["failed"]
    row = await recording(api, recording_id)
    assert row["status"] == "failed"
    assert row["error"] == reason.value
    assert await api.app[POOL].fetchval("SELECT count(*) FROM ingest_jobs") == 0
    assert [o.key async for o in api.app[STORE].list("recordings/")] == []  # no half rendition


async def test_duration_mismatch_is_flagged(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    recording_id = await deliver(api, make_audio(audio_dir, "mp3", 3.0), duration_seconds=60)
    await worker_for(api, ingest_settings).run_until_idle()
    row = await recording(api, recording_id)
    assert row["status"] == "ready"
    assert row["duration_mismatch"]


async def test_keep_original_setting_keeps_the_upload(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    recording_id = await deliver(api, make_audio(audio_dir, "flac", 2.0), duration_seconds=2)
    await worker_for(api, dataclasses.replace(ingest_settings, keep_original=True)).run_until_idle()
    row = await recording(api, recording_id)
    original = await load_sealed(api.app[POOL], row["incoming_object_id"])
    assert original is not None
    assert (
        hashlib.sha256(await api.app[VAULT].read_all(original)).digest() == row["received_sha256"]
    )


async def add_customer(client: Client, number: str, phone: str) -> uuid.UUID:
    customer_id = uuid.uuid4()
    pool = client.app[POOL]
    await pool.execute(
        "INSERT INTO customers (id, customer_number) VALUES ($1, $2)", customer_id, number
    )
    await pool.execute(
        "INSERT INTO customer_phones (customer_id, number) VALUES ($1, $2)", customer_id, phone
    )
    return customer_id


async def test_caller_is_linked_only_when_exactly_one_customer_has_the_number(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    audio = make_audio(audio_dir, "wav-mulaw", 2.0)
    only = await add_customer(api, "A-1", "+358401111111")
    await add_customer(api, "A-2", "+358402222222")
    await add_customer(api, "A-3", "+358402222222")
    linked = await deliver(
        api, audio, external_id="c1", duration_seconds=2, caller_number="040 111 1111"
    )
    shared = await deliver(
        api, audio, external_id="c2", duration_seconds=2, caller_number="+358402222222"
    )
    withheld = await deliver(api, audio, external_id="c3", duration_seconds=2, caller_number=None)
    await worker_for(api, ingest_settings).run_until_idle()
    row = await recording(api, linked)
    assert (row["customer_id"], row["customer_link"]) == (only, "auto_phone")
    assert (await recording(api, shared))["customer_id"] is None
    assert (await recording(api, withheld))["customer_id"] is None


async def test_store_failures_retry_with_backoff_then_fail(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    recording_id = await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), duration_seconds=2)
    row = await recording(api, recording_id)
    sealed = await load_sealed(api.app[POOL], row["incoming_object_id"])
    assert sealed is not None
    await api.app[STORE].delete(sealed.object_key)  # the store lost the object
    worker = worker_for(api, ingest_settings)
    outcome = await worker.run_once()
    assert outcome is not None
    assert outcome.status == "received"
    job = await api.app[POOL].fetchrow("SELECT *, run_after - now() AS wait FROM ingest_jobs")
    assert job is not None
    assert job["attempts"] == 1
    assert job["wait"].total_seconds() == pytest.approx(backoff(1).total_seconds(), abs=2)
    assert "will retry" in (await recording(api, recording_id))["error"]
    assert await worker.run_once() is None  # not due yet
    await api.app[POOL].execute(
        "UPDATE ingest_jobs SET run_after = now(), attempts = $1", MAX_ATTEMPTS - 1
    )
    final = await worker.run_once()
    assert final is not None
    assert final.status == "failed"
    assert "gave up after 5 attempts" in (await recording(api, recording_id))["error"]


async def test_a_tampered_upload_is_retried_then_failed_never_left_processing(
    api: Client, ingest_settings: Settings, audio_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Decryption refuses altered ciphertext; the job backs off and fails like any other."""
    caplog.set_level(logging.INFO, logger="recorder.worker")
    recording_id = await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), duration_seconds=2)
    sealed = await load_sealed(
        api.app[POOL], (await recording(api, recording_id))["incoming_object_id"]
    )
    assert sealed is not None
    store = api.app[STORE]
    data = bytearray(b"".join([p async for p in store.get_range(sealed.object_key, 0, 2000)]))
    data[1000] ^= 1  # inside the first chunk: nothing decrypts
    rest = [p async for p in store.get_range(sealed.object_key, 2000, sealed.payload_size - 2000)]

    async def tampered() -> AsyncIterator[bytes]:
        yield bytes(data)
        for piece in rest:
            yield piece

    await store.put(sealed.object_key, tampered())
    worker = worker_for(api, ingest_settings)
    outcome = await worker.run_once()
    assert outcome is not None
    assert outcome.status == "received"
    assert "will retry" in (await recording(api, recording_id))["error"]
    await api.app[POOL].execute(
        "UPDATE ingest_jobs SET run_after = now(), attempts = $1", MAX_ATTEMPTS - 1
    )
    final = await worker.run_once()
    assert final is not None
    assert final.status == "failed"
    error = (await recording(api, recording_id))["error"]
    assert error == "gave up after 5 attempts: the stored audio could not be decrypted"
    failed = [r for r in caplog.records if r.getMessage() == "ingest failed: AgeError"]
    assert [getattr(r, "recording_id", None) for r in failed] == [recording_id] * 2
    assert "authentication" not in caplog.text


async def test_expired_lease_is_taken_again_but_a_live_one_is_not(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), duration_seconds=2)
    pool = api.app[POOL]
    await pool.execute("UPDATE ingest_jobs SET leased_until = now() + interval '5 minutes'")
    assert await worker_for(api, ingest_settings).run_once() is None
    await pool.execute("UPDATE ingest_jobs SET leased_until = now() - interval '1 second'")
    outcome = await worker_for(api, ingest_settings).run_once()
    assert outcome is not None
    assert outcome.status == "ready"


async def test_concurrent_workers_never_take_the_same_job(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    audio = make_audio(audio_dir, "wav-mulaw", 2.0)
    ids = {await deliver(api, audio, external_id=f"p{n}", duration_seconds=2) for n in range(4)}
    workers = [worker_for(api, ingest_settings) for _ in range(3)]
    results = await asyncio.gather(*[w.run_until_idle() for w in workers])
    done = [str(o.recording_id) for outcomes in results for o in outcomes]
    assert sorted(done) == sorted(ids)  # each exactly once


async def test_audio_url_is_fetched_from_an_allowed_host(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    audio = make_audio(audio_dir, "mp3", 2.0)

    async def serve_audio(request: web.Request) -> web.StreamResponse:
        if request.path == "/moved":
            raise web.HTTPFound("/rec.mp3")
        return web.Response(body=audio, content_type="audio/mpeg")

    source = web.Application()
    source.router.add_get("/{name}", serve_audio)
    async with TestServer(source, host="127.0.0.1") as server:
        results = {}
        for name in ("rec.mp3", "moved"):
            url = f"http://127.0.0.1:{server.port}/{name}"
            body = json.dumps(
                metadata(external_id=name, duration_seconds=2, audio_url=url)
            ).encode()
            response = await api.post(
                "/v1/recordings",
                data=body,
                headers=signed_headers(body, content_type="application/json"),
            )
            assert response.status == 202
            results[name] = (await response.json())["id"]
        await worker_for(api, ingest_settings).run_until_idle()
    fetched = await recording(api, results["rec.mp3"])
    assert fetched["status"] == "ready"
    assert fetched["received_sha256"] == hashlib.sha256(audio).digest()
    assert fetched["audio_url"] is None
    redirected = await recording(api, results["moved"])
    assert redirected["status"] == "received"
    assert "HTTP 302" in redirected["error"]


async def test_old_webhook_signatures_are_purged(api: Client, ingest_settings: Settings) -> None:
    pool = api.app[POOL]
    await pool.execute(
        "INSERT INTO webhook_signatures (digest, seen_at) VALUES ('\\x01', now() - interval '16 minutes'),"
        " ('\\x02', now() - interval '1 minute')"
    )
    await worker_for(api, ingest_settings).purge_signatures()
    assert await pool.fetchval("SELECT count(*) FROM webhook_signatures") == 1


async def test_a_refused_delete_after_ready_leaves_the_upload_to_the_reaper(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    """The ready transaction has committed: the store refusing the upload's delete must not
    move the recording back to 'received' (with no job left, for ever)."""
    recording_id = await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), duration_seconds=2)
    pool = api.app[POOL]
    upload = await pool.fetchval("SELECT object_key FROM sealed_objects")
    worker, _ = faulty_worker(api, ingest_settings, refuse_deletes=True)
    outcome = await worker.run_once()
    assert outcome is not None
    assert outcome.status == "ready"
    row = await recording(api, recording_id)
    assert (row["status"], row["error"]) == ("ready", None)
    assert await status_error(api, recording_id) is None
    assert await pool.fetchval("SELECT count(*) FROM ingest_jobs") == 0
    assert await pool.fetchval("SELECT array_agg(object_key) FROM pending_object_deletions") == [
        upload
    ]
    report = await OrphanReaper(pool, api.app[STORE], keep_runs_days=30).run()
    assert report.pending.objects_deleted == 1
    rendition = await load_sealed(pool, row["audio_object_id"])
    assert rendition is not None
    assert await store_keys(api) == [rendition.object_key]
    assert await pool.fetchval("SELECT count(*) FROM pending_object_deletions") == 0


async def test_the_status_answer_names_the_kind_of_failure_never_a_path(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    """A store that cannot write raises an OSError quoting its folder; the telephony side
    sees the kind of failure only, while retrying and after giving up."""
    recording_id = await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), duration_seconds=2)
    (ingest_settings.data_dir / "objects" / "recordings").write_bytes(b"")  # not a folder
    worker = worker_for(api, ingest_settings)
    assert (await worker.run_once()) is not None
    assert await status_error(api, recording_id) == (
        "attempt 1 failed, will retry: storage unavailable"
    )
    await api.app[POOL].execute(
        "UPDATE ingest_jobs SET run_after = now(), attempts = $1", MAX_ATTEMPTS - 1
    )
    assert (await worker.run_once()) is not None
    assert await status_error(api, recording_id) == (
        "gave up after 5 attempts: storage unavailable"
    )
    last_error = await api.app[POOL].fetchval("SELECT error FROM recordings")
    assert str(ingest_settings.data_dir) not in last_error


async def test_a_cover_picture_is_not_a_video_track(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    recording_id = await deliver(api, make_mp3_with_cover(audio_dir, 2.0), duration_seconds=2)
    await worker_for(api, ingest_settings).run_until_idle()
    row = await recording(api, recording_id)
    assert row["status"] == "ready", row["error"]


async def test_a_job_whose_lease_was_taken_over_commits_nothing(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    """A worker paused past its lease (its heartbeats lost) finds another worker has done the
    job: it drops its rendition instead of committing a second one."""
    recording_id = await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), duration_seconds=2)
    pool = api.app[POOL]
    paused, store = faulty_worker(api, ingest_settings)
    first = asyncio.ensure_future(paused.run_once())
    await asyncio.wait_for(store.paused.wait(), 30)
    lease = await pool.fetchval("SELECT leased_until - now() FROM ingest_jobs")
    assert lease.total_seconds() == pytest.approx(
        60, abs=5
    )  # short: a dead worker's job waits 1 min
    await pool.execute("UPDATE ingest_jobs SET leased_until = now() - interval '1 second'")
    second = await worker_for(api, ingest_settings).run_once()
    assert second is not None
    assert second.status == "ready"
    store.resume.set()
    late = await first
    assert late is not None
    assert late.status == "lease_lost"
    row = await recording(api, recording_id)
    assert row["status"] == "ready"
    keys = await pool.fetch("SELECT object_key FROM sealed_objects")
    assert len(keys) == 1  # one rendition, the second worker's
    assert await store_keys(api) == [keys[0]["object_key"]]


async def test_the_heartbeat_keeps_a_live_job_from_being_taken_twice(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    settings = dataclasses.replace(ingest_settings, worker_lease_seconds=3)
    await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), duration_seconds=2)
    slow, store = faulty_worker(api, settings)
    first = asyncio.ensure_future(slow.run_once())
    await asyncio.wait_for(store.paused.wait(), 30)
    other = worker_for(api, settings)
    for _ in range(12):  # 6 s: twice the lease
        assert await other.run_once() is None
        await asyncio.sleep(0.5)
    store.resume.set()
    outcome = await first
    assert outcome is not None
    assert outcome.status == "ready"
    assert await api.app[POOL].fetchval("SELECT count(*) FROM sealed_objects") == 1


async def test_a_stopping_worker_gives_its_job_back_at_once(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    recording_id = await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), duration_seconds=2)
    paused, store = faulty_worker(api, ingest_settings)
    stop = asyncio.Event()
    running = asyncio.ensure_future(paused.run(stop))
    await asyncio.wait_for(store.paused.wait(), 30)
    stop.set()
    await asyncio.wait_for(running, 10)
    job = await api.app[POOL].fetchrow("SELECT leased_until FROM ingest_jobs")
    assert job is not None
    assert job["leased_until"] is None
    assert (await recording(api, recording_id))["status"] == "received"
    # the cut-short rendition has no header row: the reaper takes it (here without a grace)
    await OrphanReaper(api.app[POOL], api.app[STORE], keep_runs_days=30, grace=timedelta(0)).run()
    assert await store_keys(api, "recordings/") == []
    assert [o.status for o in await worker_for(api, ingest_settings).run_until_idle()] == ["ready"]


async def test_long_calls_leave_a_slot_for_ordinary_calls(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    """Two small FLACs declaring 12 hours of silence take minutes each to decode; an ordinary
    call sent after them is ready in seconds all the same."""
    twelve_hours = 12 * 3600
    silence = make_silence(audio_dir, twelve_hours)
    long_calls = [
        await deliver(api, silence, external_id=f"long-{n}", duration_seconds=twelve_hours)
        for n in range(2)
    ]
    short = await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), external_id="short")
    settings = dataclasses.replace(ingest_settings, worker_concurrency=2)
    stop = asyncio.Event()
    running = asyncio.ensure_future(IngestWorker(api.app[POOL], api.app[VAULT], settings).run(stop))
    started = time.monotonic()
    try:
        for _ in range(150):  # 30 s
            if (await recording(api, short))["status"] == "ready":
                break
            await asyncio.sleep(0.2)
        assert (await recording(api, short))["status"] == "ready"
        print(f"ordinary call ready {time.monotonic() - started:.1f} s after the worker started")
        statuses = sorted([(await recording(api, rid))["status"] for rid in long_calls])
        assert statuses == ["processing", "received"]  # one long call at a time
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


async def test_a_call_longer_than_declared_moves_to_a_long_call_slot(
    api: Client, ingest_settings: Settings, audio_dir: Path
) -> None:
    """A short declaration is not trusted: decoding stops when the audio outruns a slot kept
    for ordinary calls, and the job waits for a slot that takes long calls."""
    audio = make_audio(audio_dir, "wav-mulaw", 30.0)
    liar = await deliver(api, audio, external_id="liar", duration_seconds=3)
    await deliver(api, audio, external_id="honest", duration_seconds=30)
    pool = api.app[POOL]
    worker = IngestWorker(pool, api.app[VAULT], ingest_settings, long_call=timedelta(seconds=10))
    moved = await worker.run_once(long_ok=False)
    assert moved is not None
    assert (str(moved.recording_id), moved.status) == (liar, "long")
    assert await worker.run_once(long_ok=False) is None  # both are long calls now
    assert await store_keys(api, "recordings/") == []  # the cut rendition was dropped
    assert (await recording(api, liar))["status"] == "received"
    done = await worker.run_until_idle()
    assert sorted(o.status for o in done) == ["ready", "ready"]
    row = await recording(api, liar)
    assert row["measured_duration_seconds"] == Decimal("30.000")
    assert row["duration_mismatch"]
