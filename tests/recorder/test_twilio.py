"""The Twilio adapter, with signatures made by Twilio's own RequestValidator."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import encode_basic_auth, web
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from api.appkeys import POOL, VAULT
from callrec.app import create_app
from common.settings import Secret, Settings
from recorder.twilio import twilio_signature
from recorder.worker import IngestWorker
from tests.recorder.audio_files import make_audio

Client = TestClient[web.Request, web.Application]
TOKEN = "twilio-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "1" * 32
RECORDING = "RE" + "2" * 32
CALLBACK = "/v1/webhooks/twilio/recording-status"
QUERY = "?answered_by=maija.m&caller_number=%2B358401234567&notice_played=true"


@pytest.fixture
async def twilio_api(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[Client, str]]:
    audio = make_audio(tmp_path, "wav-mulaw", 2.0, channels=2)

    async def recording_file(request: web.Request) -> web.Response:
        expected = encode_basic_auth(ACCOUNT, TOKEN)
        if request.headers.get("Authorization") != expected:
            raise web.HTTPUnauthorized
        return web.Response(body=audio, content_type="audio/x-wav")

    media = web.Application()
    media.router.add_get("/2010-04-01/Accounts/{account}/Recordings/{sid}", recording_file)
    configured = dataclasses.replace(
        settings, twilio_auth_token=Secret(TOKEN), fetch_allowed_hosts=("127.0.0.1",)
    )
    async with (
        TestServer(media, host="127.0.0.1") as media_server,
        TestClient(TestServer(create_app(configured))) as client,
    ):
        url = f"http://127.0.0.1:{media_server.port}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}"
        yield client, url


def callback_form(recording_url: str, **overrides: str) -> dict[str, str]:
    form = {
        "AccountSid": ACCOUNT,
        "CallSid": "CA" + "3" * 32,
        "RecordingSid": RECORDING,
        "RecordingUrl": recording_url,
        "RecordingStatus": "completed",
        "RecordingDuration": "2",
        "RecordingChannels": "2",
        "RecordingStartTime": "Mon, 23 Nov 2026 08:15:00 +0000",
        "RecordingSource": "DialVerb",
    }
    form.update(overrides)
    return form


async def post_callback(
    client: Client, form: dict[str, str], *, query: str = QUERY, signed_query: str | None = None
) -> tuple[int, dict[str, Any]]:
    signed_url = str(client.make_url(CALLBACK + (query if signed_query is None else signed_query)))
    signature = RequestValidator(TOKEN).compute_signature(signed_url, form)
    response = await client.post(
        CALLBACK + query, data=form, headers={"X-Twilio-Signature": signature}
    )
    return response.status, await response.json()


def test_our_signature_matches_twilios() -> None:
    form = callback_form("https://api.twilio.com/x")
    url = "https://callrec.example.fi" + CALLBACK + QUERY
    assert twilio_signature(TOKEN, url, form) == RequestValidator(TOKEN).compute_signature(
        url, form
    )


async def test_completed_recording_is_fetched_with_basic_auth_and_ends_ready(
    twilio_api: tuple[Client, str], settings: Settings
) -> None:
    client, url = twilio_api
    status, body = await post_callback(client, callback_form(url))
    assert status == 202, body
    row = await client.app[POOL].fetchrow(
        "SELECT * FROM recordings WHERE id = $1::uuid", body["id"]
    )
    assert row is not None
    assert row["external_id"] == "twilio:" + RECORDING
    assert row["answered_by"] == "maija.m"
    assert row["caller_number"] == "+358401234567"
    assert row["channel_layout"] == "agent-right"  # Twilio puts the parent (caller) leg first
    worker_settings = dataclasses.replace(
        settings, twilio_auth_token=Secret(TOKEN), fetch_allowed_hosts=("127.0.0.1",)
    )
    await IngestWorker(client.app[POOL], client.app[VAULT], worker_settings).run_until_idle()
    ready = await client.app[POOL].fetchrow("SELECT status, error, channels FROM recordings")
    assert ready is not None
    assert (ready["status"], ready["channels"]) == ("ready", 2), ready["error"]
    again_status, again = await post_callback(client, callback_form(url))
    assert (again_status, again["id"]) == (200, body["id"])


async def test_wrong_token_or_tampered_url_is_refused(twilio_api: tuple[Client, str]) -> None:
    client, url = twilio_api
    status, problem = await post_callback(
        client, callback_form(url), signed_query="?answered_by=someone.else"
    )
    assert status == 401
    assert "does not match" in problem["detail"]
    response = await client.post(CALLBACK, data=callback_form(url))
    assert response.status == 401
    assert await client.app[POOL].fetchval("SELECT count(*) FROM recordings") == 0


async def test_unfinished_recordings_are_ignored(twilio_api: tuple[Client, str]) -> None:
    client, url = twilio_api
    status, body = await post_callback(client, callback_form(url, RecordingStatus="absent"))
    assert (status, body) == (200, {"status": "ignored"})
    assert await client.app[POOL].fetchval("SELECT count(*) FROM recordings") == 0


async def test_bad_fields_are_422_naming_them(twilio_api: tuple[Client, str]) -> None:
    client, url = twilio_api
    form = callback_form(url, RecordingSid="nope", RecordingStartTime="yesterday")
    status, problem = await post_callback(client, form)
    assert status == 422
    assert {e["field"] for e in problem["errors"]} == {"RecordingSid", "RecordingStartTime"}
    status, problem = await post_callback(client, callback_form("http://10.0.0.1/rec"))
    assert status == 422
    assert problem["errors"][0]["field"] == "audio_url"


async def test_adapter_is_off_without_a_token(settings: Settings) -> None:
    async with TestClient(TestServer(create_app(settings))) as client:
        response = await client.post(CALLBACK, data={"a": "b"})
        assert response.status == 503
