"""The transcription job when things go wrong: a lease taken over, a store refusing writes,
audio that does not decode, a call erased mid-job, a worker stopping or crashing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any, cast

import pytest

from api.appkeys import KEYRING, POOL, STORE, VAULT
from common.settings import Settings
from retention.erasure import Why
from rights.sweeps import erasure_engine
from storage.objects import ObjectStore, ObjectStoreUnavailable
from storage.vault import Vault, insert_sealed
from tests.transcripts.helpers import Client, heard, post_call, transcriber, transcript_of
from tests.transcripts.speech import mono_call
from transcripts import audio, store
from transcripts.document import Transcript
from transcripts.engine import Channel, WhisperEngine
from transcripts.job import INTERRUPTED, MAX_CLAIMS, UNREADABLE

LEASE_SQL = "SELECT leased_until FROM transcripts WHERE recording_id = $1"


class PausedEngine:
    """The real engine, held at the start of each transcription until the test lets go."""

    def __init__(self, engine: WhisperEngine) -> None:
        self.engine = engine
        self.name = engine.name
        self.started = asyncio.Event()
        self.resume = asyncio.Event()

    async def transcribe(self, channels: Sequence[Channel], language: str) -> Transcript:
        self.started.set()
        await self.resume.wait()
        return await self.engine.transcribe(channels, language)


class RefusingStore:
    """The real store, refusing to write transcripts while ``refusing`` is set."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.refusing = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        if self.refusing and key.startswith("transcripts/"):
            raise ObjectStoreUnavailable("the store refuses writes")
        return await self.inner.put(key, chunks)


async def transcript_keys(client: Client) -> list[str]:
    return [o.key async for o in client.app[STORE].list("transcripts/")]


async def transcript_headers(client: Client) -> int:
    return int(
        await client.app[POOL].fetchval(
            "SELECT count(*) FROM sealed_objects WHERE object_key LIKE 'transcripts/%'"
        )
    )


async def test_a_job_whose_lease_was_taken_over_commits_nothing(
    api: Client, transcribe_settings: Settings, whisper_engine: WhisperEngine
) -> None:
    """A worker held past its lease finds another one did the job: it commits nothing and
    deletes the object it sealed, leaving the other worker's transcript."""
    recording_id = await post_call(api, transcribe_settings, mono_call())
    paused = PausedEngine(whisper_engine)
    first = asyncio.ensure_future(transcriber(api, paused).run_once())
    await asyncio.wait_for(paused.started.wait(), 30)
    await api.app[POOL].execute("UPDATE transcripts SET leased_until = now() - interval '1 s'")
    second = await transcriber(api, whisper_engine).run_once()
    assert second is not None
    assert second.result == "ready"
    paused.resume.set()
    late = await first
    assert late is not None
    assert late.result == "stale"
    header = await store.header_of(api.app[POOL], recording_id)
    assert header is not None
    assert header.status == "ready"
    object_key = await api.app[POOL].fetchval(
        "SELECT object_key FROM sealed_objects WHERE id = $1", header.object_id
    )
    assert await transcript_keys(api) == [object_key]  # the late worker's object is gone
    assert await transcript_headers(api) == 1


async def test_the_heartbeat_keeps_a_long_transcription_from_being_taken_twice(
    api: Client, transcribe_settings: Settings, whisper_engine: WhisperEngine
) -> None:
    recording_id = await post_call(api, transcribe_settings, mono_call())
    slow = PausedEngine(whisper_engine)
    first = asyncio.ensure_future(transcriber(api, slow, lease_seconds=3).run_once())
    await asyncio.wait_for(slow.started.wait(), 30)
    other = transcriber(api, whisper_engine, lease_seconds=3)
    for _ in range(8):  # 4 s: longer than the lease
        assert await other.run_once() is None
        await asyncio.sleep(0.5)
    slow.resume.set()
    outcome = await first
    assert outcome is not None
    assert outcome.result == "ready"
    assert await store.header_of(api.app[POOL], recording_id) is not None
    assert await transcript_headers(api) == 1


async def test_a_store_refusing_writes_retries_with_a_public_reason_then_succeeds(
    api: Client, transcribe_settings: Settings, whisper_engine: WhisperEngine
) -> None:
    recording_id = await post_call(api, transcribe_settings, mono_call())
    refusing = RefusingStore(api.app[STORE])
    vault = Vault(cast(ObjectStore, refusing), api.app[KEYRING])
    worker = transcriber(api, whisper_engine, vault=vault)
    assert [o.result for o in await worker.run_until_idle()] == ["retry"]
    header = await store.header_of(api.app[POOL], recording_id)
    assert header is not None
    assert header.status == "pending"
    assert header.error == "attempt 1 failed, will retry: storage unavailable"
    assert await transcript_keys(api) == []
    assert await api.app[POOL].fetchval("SELECT count(*) FROM transcript_terms") == 0
    assert await worker.run_until_idle() == []  # not due yet: backed off

    refusing.refusing = False
    await api.app[POOL].execute("UPDATE transcripts SET run_after = now()")
    assert [o.result for o in await worker.run_until_idle()] == ["ready"]
    header = await store.header_of(api.app[POOL], recording_id)
    assert header is not None
    assert (header.status, header.error) == ("ready", None)
    assert "kiitos" in heard(await transcript_of(api, recording_id), "mono")


async def test_audio_that_does_not_decode_fails_with_a_public_reason(
    api: Client, transcribe_settings: Settings, whisper_engine: WhisperEngine
) -> None:
    recording_id = await post_call(api, transcribe_settings, mono_call())

    async def garbage() -> AsyncIterator[bytes]:
        yield b"not audio at all; /var/lib/secret/path " * 100

    sealed = await api.app[VAULT].seal(garbage(), kind="recordings")
    async with api.app[POOL].acquire() as conn:
        await insert_sealed(conn, sealed)
        await conn.execute(
            "UPDATE recordings SET audio_object_id = $2 WHERE id = $1", recording_id, sealed.id
        )
    assert [o.result for o in await transcriber(api, whisper_engine).run_until_idle()] == ["failed"]
    header = await store.header_of(api.app[POOL], recording_id)
    assert header is not None
    assert (header.status, header.error, header.object_id) == ("failed", UNREADABLE, None)
    assert await transcript_keys(api) == []


async def test_a_call_erased_while_transcribed_leaves_no_transcript(
    api: Client, transcribe_settings: Settings, whisper_engine: WhisperEngine
) -> None:
    recording_id = await post_call(api, transcribe_settings, mono_call())
    paused = PausedEngine(whisper_engine)
    job = asyncio.ensure_future(transcriber(api, paused).run_once())
    await asyncio.wait_for(paused.started.wait(), 30)
    report = await erasure_engine(api.app[POOL], api.app[STORE]).erase_recordings(
        [recording_id], Why("manual")
    )
    assert report.counts()["recording.erased"] == 1
    paused.resume.set()
    outcome = await job
    assert outcome is not None
    assert outcome.result == "stale"
    pool = api.app[POOL]
    assert await pool.fetchval("SELECT count(*) FROM transcripts") == 0
    assert await pool.fetchval("SELECT count(*) FROM transcript_terms") == 0
    assert await transcript_headers(api) == 0
    assert await transcript_keys(api) == []


async def test_a_stopping_worker_gives_its_job_back_at_once(
    api: Client, transcribe_settings: Settings, whisper_engine: WhisperEngine
) -> None:
    recording_id = await post_call(api, transcribe_settings, mono_call())
    paused = PausedEngine(whisper_engine)
    stop = asyncio.Event()
    running = asyncio.ensure_future(transcriber(api, paused).run(stop))
    await asyncio.wait_for(paused.started.wait(), 30)
    assert await api.app[POOL].fetchval(LEASE_SQL, recording_id) is not None
    stop.set()
    await asyncio.wait_for(running, 10)
    assert (
        await api.app[POOL].fetchval(LEASE_SQL, recording_id) is None
    )  # the next worker need not wait for it to expire
    assert await transcript_keys(api) == []


async def test_a_job_that_keeps_killing_its_worker_is_given_up(
    api: Client, transcribe_settings: Settings, whisper_engine: WhisperEngine
) -> None:
    """Claims without an outcome (the worker died each time) count too: no endless loop."""
    recording_id = await post_call(api, transcribe_settings, mono_call())
    await api.app[POOL].execute("UPDATE transcripts SET attempts = $1", MAX_CLAIMS)
    assert [o.result for o in await transcriber(api, whisper_engine).run_until_idle()] == ["failed"]
    header = await store.header_of(api.app[POOL], recording_id)
    assert header is not None
    assert (header.status, header.error) == ("failed", INTERRUPTED)


async def test_a_call_longer_than_transcription_takes_fails_with_that_said(
    api: Client,
    transcribe_settings: Settings,
    whisper_engine: WhisperEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The samples are held whole, so a call past the limit is refused before the model runs
    (a worker killed by memory would only crash-loop)."""
    monkeypatch.setattr(audio, "MAX_SECONDS", 1)  # the test call lasts 3 s
    recording_id = await post_call(api, transcribe_settings, mono_call())
    assert [o.result for o in await transcriber(api, whisper_engine).run_until_idle()] == ["failed"]
    header = await store.header_of(api.app[POOL], recording_id)
    assert header is not None
    assert (header.status, header.error) == ("failed", audio.TooLong.public)
    assert await transcript_keys(api) == []
