"""Fixtures for the staff API (offered to every test package by tests/conftest.py): an app
with one account per role, and calls ingested for real.

Recordings reach the API the way production ones do: a signed webhook delivery, then the
ingest worker through real ffmpeg into an encrypted Opus rendition.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import POOL, SETTINGS, STORE, VAULT
from callrec.app import create_app
from common.settings import Secret, Settings
from recorder.worker import IngestWorker
from storage.age import CHUNK_SIZE
from storage.fs import FilesystemStore
from storage.vault import load_sealed
from tests.api.sessions import Client, add_role_users
from tests.recorder.audio_files import make_audio
from tests.recorder.helpers import SECRET, deliver
from tests.s3 import on_s3


@pytest.fixture
def staff_settings(settings: Settings) -> Settings:
    """Settings with a webhook secret and a bitrate that makes renditions span many chunks."""
    return dataclasses.replace(
        settings,
        webhook_secret=Secret(SECRET),
        twilio_auth_token=Secret("test-twilio-token"),
        opus_bitrate_kbps=96,
    )


async def staff_client(settings: Settings) -> AsyncIterator[Client]:
    """The app on ``settings`` (no worker: tests run it), with one account per role."""
    async with TestClient(TestServer(create_app(settings, run_worker=False))) as client:
        await add_role_users(client)
        yield client


@pytest.fixture
async def staff_api(staff_settings: Settings) -> AsyncIterator[Client]:
    """The app on the filesystem store, with the accounts customer-service, dpo, trainer …"""
    async for client in staff_client(staff_settings):
        yield client


@pytest.fixture(params=["fs", "s3"])
async def staff_api_each_store(
    request: pytest.FixtureRequest, staff_settings: Settings, s3_endpoint: tuple[str, str, str]
) -> AsyncIterator[Client]:
    """The same app on each object store in turn."""
    settings = on_s3(staff_settings, s3_endpoint) if request.param == "s3" else staff_settings
    async for client in staff_client(settings):
        yield client


async def ingest(client: Client, audio: bytes, *, process: bool = True, **fields: Any) -> str:
    """Deliver a call through the signed webhook and (by default) run the worker on it."""
    fields.setdefault("external_id", f"pbx-{len(audio)}-{fields.get('started_at', '')}")
    recording_id = await deliver(client, audio, **fields)
    if process:
        worker = IngestWorker(client.app[POOL], client.app[VAULT], client.app[SETTINGS])
        outcomes = await worker.run_until_idle()
        assert [o.status for o in outcomes] == ["ready"], outcomes
    return recording_id


def call_audio(audio_dir: Path, seconds: float = 40.0) -> bytes:
    """A stereo telephony call (agent left) as 16-bit WAV."""
    return make_audio(audio_dir, "wav-pcm16", seconds, channels=2)


async def flip_stored_byte(client: Client, object_id: uuid.UUID, chunk: int = 0) -> int:
    """Alter one byte of a sealed object's ciphertext, inside ``chunk`` (negative: from the
    end), in the filesystem store; the plaintext offset where that chunk starts."""
    sealed = await load_sealed(client.app[POOL], object_id)
    assert sealed is not None
    store = client.app[STORE]
    assert isinstance(store, FilesystemStore)
    index = chunk % sealed.layout.chunk_count
    path = store.root / sealed.object_key
    payload = bytearray(path.read_bytes())
    payload[sealed.layout.payload_offset(index) + 10] ^= 0x01
    path.write_bytes(bytes(payload))
    return index * CHUNK_SIZE
