"""The transcription job with the real model: a call posted through the signed webhook becomes
ready, then transcribed per channel, sealed and indexed, with nothing written in clear."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import POOL, STORE, VAULT
from callrec import cli
from callrec.app import create_app
from callrec.transcription import queue_ready_since, ready_hook
from common.settings import Settings
from recorder.worker import IngestWorker
from tests.recorder.audio_files import make_audio
from tests.recorder.helpers import deliver
from tests.s3 import on_s3
from tests.transcripts.helpers import (
    Client,
    assert_said_as_spoken,
    post_call,
    transcriber,
    transcript_of,
)
from tests.transcripts.speech import NOT_SAID, mono_call, stereo_call
from transcripts import store
from transcripts.document import Segment, Transcript, Word
from transcripts.engine import WhisperEngine
from transcripts.job import save_transcript
from transcripts.reading import query_terms

READY_WITHIN_SECONDS = 60


async def test_a_posted_call_is_transcribed_per_channel_and_indexed(
    api: Client, transcribe_settings: Settings, whisper_engine: WhisperEngine
) -> None:
    call = stereo_call("agent-left")
    recording_id = await post_call(api, transcribe_settings, call)
    header = await store.header_of(api.app[POOL], recording_id)
    assert header is not None
    assert (header.status, header.object_id) == ("pending", None)  # queued with the ready call

    worker = transcriber(api, whisper_engine)
    assert [o.result for o in await worker.run_until_idle()] == ["ready"]

    header = await store.header_of(api.app[POOL], recording_id)
    assert header is not None
    assert (header.status, header.language, header.model) == ("ready", "fi", "whisper-base-ct2")
    assert header.error is None
    assert_said_as_spoken(await transcript_of(api, recording_id), call)
    # the index holds the base form of each word said ("kiitoksia" → "kiitos"), keyed
    key = await worker.term_key()
    rows = await api.app[POOL].fetch(
        "SELECT token FROM transcript_terms WHERE recording_id = $1", recording_id
    )
    tokens = {bytes(r["token"]) for r in rows}
    for said in ("kiitoksia", "kiitos", "osoitteen"):
        assert key.tokens(query_terms(said, "fi"))[0] in tokens, said
    for unsaid in NOT_SAID:
        assert key.tokens(query_terms(unsaid, "fi"))[0] not in tokens, unsaid
    assert await worker.run_until_idle() == []  # done once


async def test_the_running_app_transcribes_a_posted_call_by_itself(
    transcribe_settings: Settings, s3_endpoint: tuple[str, str, str]
) -> None:
    """The served app's own workers (worker_context) take the call from the webhook to a
    transcript: the model checked and loaded at start, the jobs woken by NOTIFY; on S3,
    with the agent on the right."""
    call = stereo_call("agent-right")
    settings = on_s3(transcribe_settings, s3_endpoint)
    async with TestClient(TestServer(create_app(settings, run_worker=True))) as client:
        recording_id = await deliver(
            client,
            call.wav,
            duration_seconds=call.seconds,
            channel_layout=call.channel_layout,
            external_id="speech-served",
        )
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while (
            await client.app[POOL].fetchval(
                "SELECT status FROM transcripts WHERE recording_id = $1::uuid", recording_id
            )
            != "ready"
        ):
            assert time.monotonic() < deadline, "no transcript within a minute"
            await asyncio.sleep(0.2)
        transcript = await transcript_of(client, uuid.UUID(recording_id))
        assert_said_as_spoken(transcript, call)
        keys = [o.key async for o in client.app[STORE].list("transcripts/")]
        assert len(keys) == 1


async def test_a_mono_call_is_one_channel_and_nothing_plain_touches_the_disk(
    api: Client,
    transcribe_settings: Settings,
    whisper_engine: WhisperEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Decoding goes through pipes: while the job runs, the only new file anywhere it could
    write (the data directory, the temporary folder) is the sealed transcript."""
    call = mono_call()
    recording_id = await post_call(api, transcribe_settings, call)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # ffmpeg and the model inherit it
    monkeypatch.setattr(tempfile, "tempdir", None)  # Python asks TMPDIR again
    data_dir = transcribe_settings.data_dir
    before = _files(data_dir)

    assert [o.result for o in await transcriber(api, whisper_engine).run_until_idle()] == ["ready"]

    new = _files(data_dir) - before
    assert [p.relative_to(data_dir).parts[:2] for p in new] == [("objects", "transcripts")]
    assert b"kiitos" not in next(iter(new)).read_bytes().lower()
    assert _files(scratch) == set()
    transcript = await transcript_of(api, recording_id)
    assert {s.channel for s in transcript.segments} == {"mono"}
    assert_said_as_spoken(transcript, call)


def _files(folder: Path) -> set[Path]:
    return {Path(root) / name for root, _, names in os.walk(folder) for name in names}


async def test_with_transcription_off_no_job_is_queued(
    api: Client, transcribe_settings: Settings, whisper_engine: WhisperEngine, audio_dir: Path
) -> None:
    off = dataclasses.replace(transcribe_settings, transcribe=False)
    assert ready_hook(off) is None
    await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), duration_seconds=2)
    worker = IngestWorker(api.app[POOL], api.app[VAULT], off, on_ready=ready_hook(off))
    assert [o.status for o in await worker.run_until_idle()] == ["ready"]
    assert await api.app[POOL].fetchval("SELECT count(*) FROM transcripts") == 0
    assert await transcriber(api, whisper_engine).run_until_idle() == []

    # switched on later, `callrec transcripts queue` picks up the calls recorded meanwhile
    pool = api.app[POOL]
    future = datetime.now(UTC) + timedelta(days=1)
    assert await queue_ready_since(pool, future) == 0
    heard: list[tuple[int, int]] = []
    since = datetime(2000, 1, 1, tzinfo=UTC)
    assert await queue_ready_since(pool, since, lambda *done: heard.append(done)) == 1
    assert heard == [(1, 1)]
    assert await queue_ready_since(pool, datetime(2000, 1, 1, tzinfo=UTC)) == 0  # once
    [outcome] = await transcriber(api, whisper_engine).run_until_idle()
    assert outcome.result == "ready"


def test_the_queue_command_refuses_while_transcription_is_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CALLREC_TRANSCRIBE", raising=False)
    assert cli.main(["transcripts", "queue", "--since", "2026-11-01"]) == 2
    [said] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("callrec:")]
    assert "CALLREC_TRANSCRIBE=on" in said


async def test_a_transcript_saved_again_leaves_no_old_one_behind(
    api: Client, transcribe_settings: Settings, audio_dir: Path
) -> None:
    """An import over an existing transcript shreds the old one: none is left that the
    recording's erasure could not find."""
    off = dataclasses.replace(transcribe_settings, transcribe=False)
    await deliver(api, make_audio(audio_dir, "wav-mulaw", 2.0), duration_seconds=2)
    ingest = IngestWorker(api.app[POOL], api.app[VAULT], off)
    assert [o.status for o in await ingest.run_until_idle()] == ["ready"]
    recording_id = await api.app[POOL].fetchval("SELECT id FROM recordings")
    for said in ("Kiitos", "Hei hei"):
        word = Word(0.5, 1.0, said)
        transcript = Transcript("fi", (Segment(0.5, 1.0, "mono", said, (word,)),))
        await save_transcript(api.app[POOL], api.app[VAULT], recording_id, transcript, "import")
    assert (await transcript_of(api, recording_id)).segments[0].text == "Hei hei"
    pool = api.app[POOL]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM sealed_objects WHERE object_key LIKE 'transcripts/%'"
        )
        == 1
    )
    assert len([o async for o in api.app[STORE].list("transcripts/")]) == 1
    assert await pool.fetchval("SELECT count(*) FROM pending_object_deletions") == 0
    assert await pool.fetchval("SELECT count(*) FROM transcript_terms") == 1  # "hei" only
