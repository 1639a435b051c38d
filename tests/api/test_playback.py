"""Seekable playback of encrypted recordings: HTTP Range, purposes, roles and audit entries."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import POOL, STORE, VAULT
from callrec.app import create_app
from common.settings import Settings
from storage.age import SEALED_CHUNK_SIZE
from storage.s3 import S3Store
from storage.vault import load_sealed
from tests.api.sessions import Client, add_role_users, headers_for
from tests.s3 import on_s3
from tests.staff import call_audio, flip_stored_byte, ingest


async def rendition(client: Client, recording_id: str) -> bytes:
    """The plaintext Opus rendition, straight from the vault."""
    object_id = await client.app[POOL].fetchval(
        "SELECT audio_object_id FROM recordings WHERE id = $1::uuid", recording_id
    )
    sealed = await load_sealed(client.app[POOL], object_id)
    assert sealed is not None
    return await client.app[VAULT].read_all(sealed)


async def audit_rows(client: Client, action: str) -> list[dict[str, Any]]:
    rows = await client.app[POOL].fetch(
        "SELECT * FROM audit_log WHERE action = $1 ORDER BY seq", action
    )
    return [dict(r) for r in rows]


async def release(client: Client, recording_id: str, released: bool = True) -> None:
    response = await client.post(
        f"/v1/recordings/{recording_id}/training-release",
        json={"released": released, "reason": "good example of a fault report"},
        headers=await headers_for(client, "dpo"),
    )
    assert response.status == 200, await response.text()


async def test_whole_file_and_ranges_are_the_exact_bytes(
    staff_api_each_store: Client, audio_dir: Path
) -> None:
    api = staff_api_each_store
    recording_id = await ingest(api, call_audio(audio_dir))
    plain = await rendition(api, recording_id)
    size = len(plain)
    assert size > 4 * 65536  # the ranges below cross chunk boundaries
    headers = await headers_for(api, "customer-service")
    url = f"/v1/recordings/{recording_id}/audio?purpose=verify_content"

    whole = await api.get(url, headers=headers)
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "audio/ogg; codecs=opus"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Length"] == str(size)
    assert whole.headers["Content-Disposition"].startswith("inline")
    assert await whole.read() == plain

    cases = {
        "bytes=0-0": (0, 1),
        "bytes=65535-65536": (65535, 65537),
        "bytes=1000-200000": (1000, 200001),
        f"bytes={size // 2}-": (size // 2, size),
        "bytes=-500": (size - 500, size),
        f"bytes={size - 1}-{size + 1000}": (size - 1, size),
        f"bytes=-{size + 10}": (0, size),
    }
    for header, (start, end) in cases.items():
        response = await api.get(url, headers={**headers, "Range": header})
        assert response.status == 206, header
        assert response.headers["Content-Range"] == f"bytes {start}-{end - 1}/{size}", header
        assert response.headers["Content-Length"] == str(end - start)
        assert await response.read() == plain[start:end], header


async def test_unsatisfiable_invalid_and_conditional_ranges(
    staff_api: Client, audio_dir: Path
) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir, 10.0))
    size = len(await rendition(staff_api, recording_id))
    headers = await headers_for(staff_api, "customer-service")
    url = f"/v1/recordings/{recording_id}/audio?purpose=verify_content"

    beyond = await staff_api.get(url, headers={**headers, "Range": f"bytes={size}-"})
    assert beyond.status == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"
    assert beyond.content_type == "application/problem+json"
    # Invalid syntax, other units and several ranges are ignored: the whole file, 200.
    for ignored in ("bytes=5-1", "items=0-10", "bytes=0-10,20-30", "bytes=abc", "bytes=-"):
        response = await staff_api.get(url, headers={**headers, "Range": ignored})
        assert response.status == 200, ignored
        assert response.headers["Content-Length"] == str(size)
    etag = (await staff_api.get(url, headers=headers)).headers["ETag"]
    same = await staff_api.get(url, headers={**headers, "Range": "bytes=0-9", "If-Range": etag})
    assert same.status == 206
    changed = await staff_api.get(
        url, headers={**headers, "Range": "bytes=0-9", "If-Range": '"other"'}
    )
    assert changed.status == 200


async def test_a_range_reads_only_the_chunks_it_needs(staff_api: Client, audio_dir: Path) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir))
    store = staff_api.app[STORE]
    fetched: list[int] = []
    original = store.get_range

    def counting(key: str, offset: int, length: int) -> Any:
        fetched.append(length)
        return original(key, offset, length)

    store.get_range = counting  # type: ignore[method-assign,assignment]
    response = await staff_api.get(
        f"/v1/recordings/{recording_id}/audio?purpose=verify_content",
        headers={**await headers_for(staff_api, "customer-service"), "Range": "bytes=70000-71000"},
    )
    assert response.status == 206
    assert len(await response.read()) == 1001
    assert fetched == [SEALED_CHUNK_SIZE]  # one encrypted chunk of the many


async def test_curl_seeks_into_a_webhook_ingested_call(
    staff_api: Client, audio_dir: Path, tmp_path: Path
) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir))
    plain = await rendition(staff_api, recording_id)
    token = (await headers_for(staff_api, "customer-service"))["Authorization"]
    out = tmp_path / "piece.ogg"
    url = staff_api.make_url(f"/v1/recordings/{recording_id}/audio?purpose=verify_content")
    process = await asyncio.create_subprocess_exec(
        "curl", "-sS", "-f", "-r", "100000-150000", "-H", f"Authorization: {token}",
        "-o", str(out), "-w", "%{http_code}", str(url),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, _ = await process.communicate()
    assert stdout == b"206"
    assert out.read_bytes() == plain[100000:150001]


async def test_purpose_is_required_and_must_fit_the_role(
    staff_api: Client, audio_dir: Path
) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir, 5.0))
    base = f"/v1/recordings/{recording_id}/audio"
    staff = await headers_for(staff_api, "customer-service")
    for query in ("", "?purpose=", "?purpose=curiosity"):
        response = await staff_api.get(base + query, headers=staff)
        assert response.status == 400, query
        body = await response.json()
        assert body["type"].endswith("/purpose-required")
        assert "verify_content" in body["detail"]
    wrong = await staff_api.get(base + "?purpose=legal", headers=staff)
    assert wrong.status == 403
    refused = await audit_rows(staff_api, "access.refused")
    assert refused[-1]["purpose"] == "legal"
    assert refused[-1]["object_id"] == recording_id
    assert refused[-1]["actor"] == "customer-service"
    dpo = await headers_for(staff_api, "dpo")
    assert (await staff_api.get(base + "?purpose=legal", headers=dpo)).status == 200


async def test_every_play_is_audited_with_purpose_and_range(
    staff_api: Client, audio_dir: Path
) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir, 5.0))
    headers = {**await headers_for(staff_api, "customer-service"), "Range": "bytes=10-19"}
    response = await staff_api.get(
        f"/v1/recordings/{recording_id}/audio?purpose=verify_content", headers=headers
    )
    assert response.status == 206
    [entry] = await audit_rows(staff_api, "recording.play")
    assert entry["actor"] == "customer-service"
    assert entry["purpose"] == "verify_content"
    assert entry["object_type"] == "recording"
    assert entry["object_id"] == recording_id
    assert entry["outcome"] == "ok"
    assert entry["details"]["start"] == 10
    assert entry["details"]["end"] == 20


async def test_trainers_play_only_released_calls(staff_api: Client, audio_dir: Path) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir, 5.0))
    trainer = await headers_for(staff_api, "trainer")
    url = f"/v1/recordings/{recording_id}/audio?purpose=training"
    hidden = await staff_api.get(url, headers=trainer)
    assert hidden.status == 404  # an unreleased call does not exist for a trainer
    assert (await audit_rows(staff_api, "access.refused"))[-1]["actor"] == "trainer"
    assert (await staff_api.get(f"/v1/recordings/{recording_id}", headers=trainer)).status == 404

    await release(staff_api, recording_id)
    assert (await staff_api.get(url, headers=trainer)).status == 200
    assert (
        await staff_api.get(url.replace("training", "verify_content"), headers=trainer)
    ).status == 403
    # A customer-service agent may not claim the training purpose either.
    staff = await headers_for(staff_api, "customer-service")
    assert (await staff_api.get(url, headers=staff)).status == 403

    await release(staff_api, recording_id, released=False)
    assert (await staff_api.get(url, headers=trainer)).status == 404
    actions = [r["action"] for r in await staff_api.app[POOL].fetch("SELECT action FROM audit_log")]
    assert "recording.training_release" in actions
    assert "recording.training_withdraw" in actions


async def test_download_is_the_dpos_and_audited_apart_from_play(
    staff_api: Client, audio_dir: Path
) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir, 5.0))
    url = f"/v1/recordings/{recording_id}/download?purpose=subject_request"
    staff = await staff_api.get(url, headers=await headers_for(staff_api, "customer-service"))
    assert staff.status == 403
    response = await staff_api.get(url, headers=await headers_for(staff_api, "dpo"))
    assert response.status == 200
    assert response.headers["Content-Disposition"] == (f'attachment; filename="{recording_id}.ogg"')
    assert await response.read() == await rendition(staff_api, recording_id)
    assert [r["purpose"] for r in await audit_rows(staff_api, "recording.download")] == [
        "subject_request"
    ]
    assert await audit_rows(staff_api, "recording.play") == []


async def test_not_yet_processed_and_unknown_recordings(staff_api: Client, audio_dir: Path) -> None:
    pending = await ingest(staff_api, call_audio(audio_dir, 5.0), process=False)
    headers = await headers_for(staff_api, "customer-service")
    response = await staff_api.get(
        f"/v1/recordings/{pending}/audio?purpose=verify_content", headers=headers
    )
    assert response.status == 409
    assert "received" in (await response.json())["detail"]
    unknown = await staff_api.get(
        f"/v1/recordings/{uuid.uuid4()}/audio?purpose=verify_content", headers=headers
    )
    assert unknown.status == 404
    malformed = await staff_api.get(
        "/v1/recordings/not-an-id/audio?purpose=verify_content", headers=headers
    )
    assert malformed.status == 422
    assert await audit_rows(staff_api, "recording.play") == []


async def test_concurrent_streams_all_complete(staff_api: Client, audio_dir: Path) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir))
    plain = await rendition(staff_api, recording_id)
    headers = await headers_for(staff_api, "customer-service")

    async def play() -> bytes:
        response = await staff_api.get(
            f"/v1/recordings/{recording_id}/audio?purpose=verify_content", headers=headers
        )
        assert response.status == 200
        return await response.read()

    results = await asyncio.gather(*(play() for _ in range(20)))
    assert all(r == plain for r in results)


async def test_storage_down_during_playback_is_503_with_retry_after(
    staff_settings: Settings, s3_endpoint: tuple[str, str, str], audio_dir: Path
) -> None:
    app = create_app(on_s3(staff_settings, s3_endpoint), run_worker=False)
    async with TestClient(TestServer(app)) as api:
        await add_role_users(api)
        recording_id = await ingest(api, call_audio(audio_dir, 5.0))
        store = api.app[STORE]
        assert isinstance(store, S3Store)
        async for stored in store.list():
            await store.delete(stored.key)
        store._client.remove_bucket(store.bucket)  # the storage goes away under the service
        response = await api.get(
            f"/v1/recordings/{recording_id}/audio?purpose=verify_content",
            headers=await headers_for(api, "customer-service"),
        )
        assert response.status == 503
        assert response.headers["Retry-After"] == "30"
        assert (await response.json())["type"].endswith("/storage-unavailable")


async def tamper(client: Client, recording_id: str, chunk: int) -> int:
    """Alter the stored rendition inside ``chunk``; the plaintext offset of that chunk."""
    object_id = await client.app[POOL].fetchval(
        "SELECT audio_object_id FROM recordings WHERE id = $1::uuid", recording_id
    )
    return await flip_stored_byte(client, object_id, chunk)


@pytest.mark.parametrize(
    ("route", "action", "user", "purpose"),
    [
        ("audio", "recording.play", "customer-service", "verify_content"),
        ("download", "recording.download", "dpo", "subject_request"),
    ],
)
async def test_altered_audio_is_an_integrity_problem_audited_as_failed(
    staff_api: Client, audio_dir: Path, route: str, action: str, user: str, purpose: str
) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir))
    plain = await rendition(staff_api, recording_id)
    altered = await tamper(staff_api, recording_id, chunk=2)
    headers = await headers_for(staff_api, user)
    url = f"/v1/recordings/{recording_id}/{route}?purpose={purpose}"
    ranged = {**headers, "Range": f"bytes={altered + 10}-{altered + 19}"}
    refused = await staff_api.get(url, headers=ranged)
    assert refused.status == 502
    assert refused.content_type == "application/problem+json"
    problem = await refused.json()
    assert problem["type"].endswith("/integrity-error")
    assert "integrity" in problem["title"].lower()
    untouched = await staff_api.get(url, headers={**headers, "Range": "bytes=0-9"})
    assert untouched.status == 206  # only the chunks a range needs are read and checked
    assert await untouched.read() == plain[:10]
    entries = await audit_rows(staff_api, action)
    assert [(e["outcome"], e["details"]["start"]) for e in entries] == [
        ("failed", altered + 10),
        ("ok", 0),
    ]
    assert entries[0]["details"]["sent"] == 0
    assert entries[0]["details"]["error"] == "AgeError"
    assert entries[0]["purpose"] == purpose


async def test_audio_altered_mid_stream_cuts_the_connection_and_is_audited(
    staff_api: Client, audio_dir: Path
) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir))
    altered = await tamper(staff_api, recording_id, chunk=2)
    url = f"/v1/recordings/{recording_id}/audio?purpose=verify_content"
    response = await staff_api.get(url, headers=await headers_for(staff_api, "customer-service"))
    assert response.status == 200  # the first chunk was sound, so the headers went out
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()
    entries = await audit_rows(staff_api, "recording.play")
    assert [e["outcome"] for e in entries] == ["ok", "failed"]
    assert entries[1]["details"]["sent"] == altered  # every byte before the altered chunk


async def test_audio_missing_from_the_store_is_an_integrity_problem_audited_as_failed(
    staff_api: Client, audio_dir: Path
) -> None:
    recording_id = await ingest(staff_api, call_audio(audio_dir, 5.0))
    key = await staff_api.app[POOL].fetchval(
        "SELECT o.object_key FROM recordings r JOIN sealed_objects o ON o.id = r.audio_object_id"
        " WHERE r.id = $1::uuid",
        recording_id,
    )
    await staff_api.app[STORE].delete(key)
    url = f"/v1/recordings/{recording_id}/audio?purpose=verify_content"
    response = await staff_api.get(url, headers=await headers_for(staff_api, "customer-service"))
    assert response.status == 502, await response.text()
    assert (await response.json())["type"].endswith("/integrity-error")
    entries = await audit_rows(staff_api, "recording.play")
    assert [(e["outcome"], e["details"]["error"]) for e in entries] == [
        ("failed", "ObjectNotFound")
    ]


class ProductionServer(TestServer):
    """The app served as ``callrec serve`` serves it: a client that leaves does not cancel
    the handler, whose next write then fails."""

    async def _make_runner(self, **kwargs: Any) -> web.BaseRunner:
        return await super()._make_runner(**{**kwargs, "handler_cancellation": False})


def listen_a_little(host: str, port: int, path: str, authorization: str) -> bytes:
    """GET ``path``, read a few kilobytes of the audio, then leave (as a closed tab or a
    browser's seek does with the request it abandons)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, port))
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: callrec\r\nAuthorization: {authorization}\r\n\r\n".encode()
        )
        received = b""
        while len(received) < 3000:
            received += sock.recv(512)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return received


@pytest.mark.parametrize("server", [TestServer, ProductionServer])
async def test_a_listener_who_leaves_is_no_server_error(
    staff_settings: Settings,
    audio_dir: Path,
    caplog: pytest.LogCaptureFixture,
    server: type[TestServer],
) -> None:
    async with TestClient(server(create_app(staff_settings, run_worker=False))) as api:
        await add_role_users(api)
        # longer than a socket's largest send buffer (4 MiB): a server that could hand the
        # whole answer to the kernel before the listener left would log 200, not 499
        recording_id = await ingest(api, call_audio(audio_dir, 480.0))
        headers = await headers_for(api, "customer-service")
        path = f"/v1/recordings/{recording_id}/audio?purpose=verify_content"
        with caplog.at_level(logging.INFO):
            head = await asyncio.to_thread(
                listen_a_little,
                api.server.host,
                api.server.port or 0,
                path,
                headers["Authorization"],
            )
            assert head.startswith(b"HTTP/1.1 200")
            for _ in range(200):  # the server notices on its own time
                if "/audio -> " in caplog.text:
                    break
                await asyncio.sleep(0.05)
        assert "GET /v1/recordings/{id}/audio -> 499" in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        metrics = await (await api.get("/metrics")).text()
        assert 'route="/v1/recordings/{id}/audio",status="500"' not in metrics


async def test_a_refused_purpose_never_writes_the_typed_path_into_the_audit_log(
    staff_api: Client,
) -> None:
    """The refusal is audited with the recording's id; what was typed in its place (a
    henkilötunnus, a name) is no id and answers 422 without entering the log."""
    cs = await headers_for(staff_api, "customer-service")
    for route in ("audio", "transcript"):
        response = await staff_api.get(
            f"/v1/recordings/131052-308T-Matti%20Virtanen/{route}?purpose=legal", headers=cs
        )
        assert response.status == 422, route
    rows = await staff_api.app[POOL].fetch("SELECT t::text AS row FROM audit_log t")
    assert not [r for r in rows if "131052" in r["row"] or "Virtanen" in r["row"]]
