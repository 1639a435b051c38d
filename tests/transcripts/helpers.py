"""Calls posted through the signed webhook and transcribed by the real model, and the checks
that a transcript says what was said, where and when."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Final

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import POOL, VAULT
from callrec.app import create_app
from callrec.transcription import ready_hook
from common.settings import Secret, Settings
from recorder.redaction import render_source
from recorder.worker import IngestWorker
from storage.vault import Vault
from tests.recorder.helpers import SECRET, deliver
from tests.transcripts.speech import SpokenCall
from transcripts import store
from transcripts.document import Transcript
from transcripts.engine import Engine
from transcripts.job import TranscriptionWorker
from transcripts.model import CheckedModel
from transcripts.reading import open_transcript
from transcripts.terms import terms

Client = TestClient[web.Request, web.Application]
# Whisper's word times are a few tenths early or late; the stretches are further apart.
SLACK: Final = 0.5
KEY_WORD: Final = {"agent": "kiitos", "customer": "osoite", "mono": "kiitos"}


@pytest.fixture
def transcribe_settings(settings: Settings, whisper_model: CheckedModel) -> Settings:
    """Settings with transcription on, on the packaged model, and the webhook secret."""
    return dataclasses.replace(
        settings,
        webhook_secret=Secret(SECRET),
        transcribe=True,
        transcribe_model=whisper_model.path,
    )


@pytest.fixture
async def api(transcribe_settings: Settings) -> AsyncIterator[Client]:
    """The app with transcription on; the tests run its workers themselves."""
    async with TestClient(TestServer(create_app(transcribe_settings, run_worker=False))) as client:
        yield client


async def post_call(client: Client, settings: Settings, call: SpokenCall) -> uuid.UUID:
    """Deliver ``call`` through the signed webhook and ingest it, the ready hook on."""
    recording_id = await deliver(
        client,
        call.wav,
        duration_seconds=call.seconds,
        channel_layout=call.channel_layout,
        external_id=f"speech-{uuid.uuid4()}",
    )
    worker = IngestWorker(
        client.app[POOL], client.app[VAULT], settings, on_ready=ready_hook(settings)
    )
    assert [o.status for o in await worker.run_until_idle()] == ["ready"]
    return uuid.UUID(recording_id)


def transcriber(
    client: Client, engine: Engine, *, vault: Vault | None = None, lease_seconds: int = 60
) -> TranscriptionWorker:
    """A transcription worker on the app's database and vault (or ``vault``)."""
    return TranscriptionWorker(
        client.app[POOL],
        vault or client.app[VAULT],
        engine,
        render_source,
        language="fi",
        lease_seconds=lease_seconds,
    )


async def transcript_of(client: Client, recording_id: uuid.UUID) -> Transcript:
    """The ready transcript of a recording, opened from its sealed object."""
    header = await store.header_of(client.app[POOL], recording_id)
    assert header is not None
    assert header.status == "ready", header
    return await open_transcript(client.app[POOL], client.app[VAULT], header)


def heard(transcript: Transcript, channel: str) -> set[str]:
    """The base forms of the words the transcript has on ``channel``."""
    return {
        term
        for segment, word in transcript.words()
        if segment.channel == channel
        for term in terms(word.word, transcript.language)
    }


def assert_said_as_spoken(transcript: Transcript, call: SpokenCall) -> None:
    """Each channel holds its party's words, each word timed within that party's stretch."""
    assert {s.channel for s in transcript.segments} == set(call.said), transcript
    for channel, stretch in call.said.items():
        assert KEY_WORD[channel] in heard(transcript, channel), transcript
        for segment, word in transcript.words():
            if segment.channel == channel:
                assert stretch.start - SLACK <= word.start <= word.end <= stretch.end + SLACK, (
                    word,
                    stretch,
                )
    if "customer" in call.said:  # and neither party's words on the other's channel
        assert KEY_WORD["customer"] not in heard(transcript, "agent")
        assert KEY_WORD["agent"] not in heard(transcript, "customer")
