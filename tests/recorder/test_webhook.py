"""POST /v1/recordings: signed, idempotent, streaming, and leaving nothing behind on failure."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import POOL, STORE, VAULT
from callrec.app import create_app
from common.settings import Secret, Settings
from storage.s3 import S3Store
from storage.vault import load_sealed
from tests.recorder.helpers import SECRET, metadata, multipart, signed_headers
from tests.s3 import on_s3

Client = TestClient[web.Request, web.Application]
AUDIO = b"RIFF" + bytes(range(256)) * 400


@pytest.fixture
def ingest_settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        webhook_secret=Secret(SECRET),
        fetch_allowed_hosts=("pbx.example.fi",),
        max_upload_bytes=1024 * 1024,
        max_concurrent_uploads=2,
    )


@pytest.fixture
async def api(ingest_settings: Settings) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(ingest_settings))) as client:
        yield client


async def post(client: Client, body: bytes, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    headers = kwargs.pop("headers", None) or signed_headers(body, **kwargs)
    response = await client.post("/v1/recordings", data=body, headers=headers)
    return response.status, await response.json()


async def stored(client: Client) -> tuple[int, int, int]:
    """(recordings, sealed rows, objects in the store): all zero after a refused request."""
    pool = client.app[POOL]
    recordings = await pool.fetchval("SELECT count(*) FROM recordings")
    sealed = await pool.fetchval("SELECT count(*) FROM sealed_objects")
    objects = len([o async for o in client.app[STORE].list()])
    return recordings, sealed, objects


async def test_accepts_signed_multipart_and_stores_only_ciphertext(api: Client) -> None:
    status, body = await post(api, multipart(metadata(), AUDIO))
    assert status == 202, body
    assert body["status"] == "received"
    pool = api.app[POOL]
    row = await pool.fetchrow("SELECT * FROM recordings WHERE id = $1::uuid", body["id"])
    assert row is not None
    assert row["external_id"] == "pbx-7781"
    assert row["caller_number"] == "+358401234567"
    assert row["received_sha256"] == hashlib.sha256(AUDIO).digest()
    assert (
        await pool.fetchval("SELECT count(*) FROM ingest_jobs WHERE recording_id = $1", row["id"])
        == 1
    )
    sealed = await load_sealed(pool, row["incoming_object_id"])
    assert sealed is not None
    assert sealed.object_key.startswith("incoming/")
    raw = b"".join([p async for p in api.app[STORE].get_range(sealed.object_key, 0, 10**9)])
    assert AUDIO[:64] not in raw
    assert await api.app[VAULT].read_all(sealed) == AUDIO
    assert await stored(api) == (1, 1, 1)


async def test_a_signature_in_uppercase_hex_is_accepted(api: Client) -> None:
    """The contract says hex; a sender whose library prints uppercase must not be locked out."""
    body = multipart(metadata(), AUDIO)
    headers = signed_headers(body)
    headers["X-Callrec-Signature"] = headers["X-Callrec-Signature"].upper().replace("V1=", "v1=")
    status, answer = await post(api, body, headers=headers)
    assert status == 202, answer


async def test_duplicate_answers_200_with_first_id_and_stores_nothing_new(api: Client) -> None:
    first_status, first = await post(api, multipart(metadata(), AUDIO))
    second_status, second = await post(api, multipart(metadata(), AUDIO + b"x"))
    assert (first_status, second_status) == (202, 200)
    assert second["id"] == first["id"]
    assert await stored(api) == (1, 1, 1)


async def test_twenty_concurrent_identical_deliveries_store_one_recording(
    ingest_settings: Settings,
) -> None:
    wide = dataclasses.replace(ingest_settings, max_concurrent_uploads=32, max_uploads_per_peer=32)
    async with TestClient(TestServer(create_app(wide))) as api:
        body = multipart(metadata(external_id="pbx-race"), AUDIO)
        headers = signed_headers(body)
        results = await asyncio.gather(*[post(api, body, headers=headers) for _ in range(20)])
        statuses = sorted(status for status, _ in results)
        assert statuses == [200] * 19 + [202], statuses
        assert len({payload["id"] for _, payload in results}) == 1
        assert await stored(api) == (1, 1, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"X-Callrec-Signature": None}, "missing X-Callrec-Signature"),
        ({"X-Callrec-Timestamp": None}, "missing X-Callrec-Timestamp"),
        ({"X-Callrec-Signature": "v1=" + "00" * 32}, "does not match"),
        ({"X-Callrec-Signature": "v1=zz"}, "64 hex digits"),
        ({"X-Callrec-Signature": "v0=abcd"}, "64 hex digits"),
        ({"X-Callrec-Timestamp": str(int(time.time()) - 301)}, "300 s"),
        ({"X-Callrec-Timestamp": "yesterday"}, "unix seconds"),
    ],
)
async def test_bad_signatures_are_401_and_store_nothing(
    api: Client, change: dict[str, str | None], message: str
) -> None:
    body = multipart(metadata(), AUDIO)
    headers = signed_headers(body)
    for key, value in change.items():
        if value is None:
            headers.pop(key)
        else:
            headers[key] = value
    response = await api.post("/v1/recordings", data=body, headers=headers)
    assert response.status == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert message in (await response.json())["detail"]
    assert await stored(api) == (0, 0, 0)


async def test_body_signed_with_another_secret_is_refused(api: Client) -> None:
    body = multipart(metadata(), AUDIO)
    status, problem = await post(api, body, secret="another-secret-0123456789")
    assert status == 401
    assert "does not match" in problem["detail"]
    assert await stored(api) == (0, 0, 0)


async def test_a_large_body_changed_after_signing_is_refused(api: Client) -> None:
    """Large pieces are MACed in a background thread; one flipped byte still fails."""
    audio = bytearray(AUDIO * 9)  # about 900 kB: many pieces, most handed to the thread
    body = multipart(metadata(), bytes(audio))
    headers = signed_headers(body)
    tampered = bytearray(body)
    tampered[len(body) - 5000] ^= 1
    response = await api.post("/v1/recordings", data=bytes(tampered), headers=headers)
    assert response.status == 401
    assert await stored(api) == (0, 0, 0)
    status, _ = await post(api, body)
    assert status == 202


async def test_replay_after_the_recording_is_gone_is_refused(api: Client) -> None:
    body = multipart(metadata(external_id="pbx-replay"), AUDIO)
    headers = signed_headers(body)
    status, _ = await post(api, body, headers=headers)
    assert status == 202
    await api.app[POOL].execute("DELETE FROM recordings")
    status, problem = await post(api, body, headers=headers)
    assert status == 401
    assert "already used" in problem["detail"]


async def test_invalid_metadata_names_every_bad_field_and_stores_nothing(api: Client) -> None:
    bad = metadata(
        started_at="2026-11-23T10:15:00",
        duration_seconds=-1,
        caller_number="12",
        channel_layout="left",
        direction="sideways",
        answered_by="",
        notice_played="yes",
        customer_id="not-a-uuid",
    )
    status, problem = await post(api, multipart(bad, AUDIO))
    assert status == 422
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {
        "started_at",
        "duration_seconds",
        "caller_number",
        "channel_layout",
        "direction",
        "answered_by",
        "notice_played",
        "customer_id",
    }
    assert await stored(api) == (0, 0, 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (multipart(metadata(), AUDIO)[:-40], "truncated"),
        (multipart(metadata(), AUDIO).replace(b'name="audio"', b'name="other"'), "unexpected part"),
        (b"no multipart here", "preamble"),
        (multipart(b"{not json", AUDIO), "not valid JSON"),
        (multipart(metadata(), b""), "audio part is empty"),
        (multipart(metadata(), None), "audio_url"),
    ],
)
async def test_malformed_bodies_are_4xx_and_store_nothing(
    api: Client, body: bytes, message: str
) -> None:
    status, problem = await post(api, body)
    assert status in (400, 422)
    assert message in json.dumps(problem)
    assert await stored(api) == (0, 0, 0)


async def test_oversized_upload_is_413_and_stores_nothing(api: Client) -> None:
    body = multipart(metadata(), b"\0" * (2 * 1024 * 1024))
    status, problem = await post(api, body)
    assert status == 413
    assert "larger than 1048576 bytes" in problem["detail"]
    assert await stored(api) == (0, 0, 0)

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: caught while streaming
        for i in range(0, len(body), 65536):
            yield body[i : i + 65536]

    response = await api.post("/v1/recordings", data=chunked(), headers=signed_headers(body))
    assert response.status == 413
    assert await stored(api) == (0, 0, 0)


async def test_too_many_concurrent_uploads_get_503_with_retry_after(api: Client) -> None:
    body = multipart(metadata(), AUDIO)
    release = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield body[:100]
        await release.wait()
        yield body[100:]

    slow_uploads = [
        asyncio.create_task(api.post("/v1/recordings", data=slow(), headers=signed_headers(body)))
        for _ in range(2)
    ]
    await asyncio.sleep(0.3)
    response = await api.post("/v1/recordings", data=body, headers=signed_headers(body))
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    release.set()
    finished = await asyncio.gather(*slow_uploads)
    assert sorted(r.status for r in finished) == [200, 202]


async def test_json_with_audio_url_is_accepted_only_for_allowed_hosts(api: Client) -> None:
    allowed = json.dumps(metadata(audio_url="https://pbx.example.fi/rec/1.wav")).encode()
    status, body = await post(api, allowed, content_type="application/json")
    assert status == 202, body
    assert await stored(api) == (1, 0, 0)
    internal = json.dumps(
        metadata(external_id="x2", audio_url="http://169.254.169.254/latest")
    ).encode()
    status, problem = await post(api, internal, content_type="application/json")
    assert status == 422
    assert problem["errors"][0]["field"] == "audio_url"


async def test_other_media_types_are_415(api: Client) -> None:
    status, problem = await post(api, b"x", content_type="text/plain")
    assert status == 415
    assert "multipart/form-data" in problem["detail"]


async def test_status_endpoint_is_signed(api: Client) -> None:
    _, accepted = await post(api, multipart(metadata(), AUDIO))
    path = f"/v1/recordings/{accepted['id']}/status"
    response = await api.get(path, headers=signed_headers(b""))
    assert response.status == 200
    assert await response.json() == {"id": accepted["id"], "status": "received"}
    assert (await api.get(path)).status == 401
    missing = await api.get(
        "/v1/recordings/00000000-0000-0000-0000-000000000000/status", headers=signed_headers(b"")
    )
    assert missing.status == 404


async def test_webhook_without_secret_is_switched_off(settings: Settings) -> None:
    async with TestClient(TestServer(create_app(settings))) as client:
        body = multipart(metadata(), AUDIO)
        response = await client.post("/v1/recordings", data=body, headers=signed_headers(body))
        assert response.status == 503
        assert "CALLREC_WEBHOOK_SECRET" in (await response.json())["detail"]


async def test_replay_with_an_extra_junk_signature_is_still_refused(api: Client) -> None:
    body = multipart(metadata(external_id="pbx-padded"), AUDIO)
    headers = signed_headers(body)
    assert (await post(api, body, headers=headers))[0] == 202
    await api.app[POOL].execute("DELETE FROM recordings")
    padded = {**headers, "X-Callrec-Signature": headers["X-Callrec-Signature"] + ",v1=" + "ab" * 32}
    status, problem = await post(api, body, headers=padded)
    assert status == 401
    assert "already used" in problem["detail"]


async def test_store_down_is_503_with_retry_after_and_keeps_nothing(
    ingest_settings: Settings, s3_endpoint: tuple[str, str, str]
) -> None:
    app = create_app(on_s3(ingest_settings, s3_endpoint), run_worker=False)
    async with TestClient(TestServer(app)) as client:
        store = client.app[STORE]
        assert isinstance(store, S3Store)
        store._client.remove_bucket(store.bucket)  # the storage goes away under the service
        body = multipart(metadata(), AUDIO)
        response = await client.post("/v1/recordings", data=body, headers=signed_headers(body))
        assert response.status == 503
        assert response.headers["Retry-After"] == "30"
        assert (await response.json())["type"].endswith("/storage-unavailable")
        assert await client.app[POOL].fetchval("SELECT count(*) FROM recordings") == 0
        assert await client.app[POOL].fetchval("SELECT count(*) FROM sealed_objects") == 0
