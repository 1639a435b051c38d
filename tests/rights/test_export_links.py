"""Export links survive being viewed and an interrupted download; one complete download, or
expiry, ends them; an unknown link tells a guesser nothing."""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
import socket
import statistics
import struct
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from api.appkeys import POOL, SETTINGS, VAULT
from rights.links import link_key
from rights.sweeps import erasure_engine, retention_sweep
from storage.db import Pool
from storage.keyring import Keyring
from storage.vault import rewrap
from tests.api.sessions import Client, headers_for
from tests.rights.test_subject_requests import processed, registered
from tests.staff import call_audio, ingest

CALLER = "+358401234567"
NOT_RECEIVED = "export download not received in full"


async def ready_export(api: Client, audio_dir: Path) -> tuple[str, str]:
    """A completed access request with one call in its export: (request id, download path)."""
    await ingest(api, call_audio(audio_dir, 6.0), caller_number=CALLER)
    request_id = await registered(api, "access", {"phone_number": CALLER})
    document = await processed(api, request_id)
    assert document["download_url"], document
    return request_id, str(document["download_url"])


async def view(api: Client, request_id: str) -> dict[str, Any]:
    """The request as the data protection officer reads it."""
    response = await api.get(
        f"/v1/subject-requests/{request_id}", headers=await headers_for(api, "dpo")
    )
    assert response.status == 200
    return dict(await response.json())


def cut_download(host: str, port: int, path: str, keep: int) -> tuple[bytes, bytes]:
    """GET ``path``, read the head and ``keep`` bytes of the body, then drop the connection
    (reset, like a lost network); a small receive window keeps the rest unacknowledged."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: callrec\r\n\r\n".encode())
        received = b""
        while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < keep:
            received += sock.recv(64)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body[:keep]


async def logged(caplog: pytest.LogCaptureFixture, message: str, seconds: float = 10) -> bool:
    """Whether the server logs ``message`` within ``seconds`` (it sees the cut on its own time)."""
    for _ in range(int(seconds / 0.05)):
        if message in caplog.text:
            return True
        await asyncio.sleep(0.05)
    return False


async def gone(api: Client, url: str) -> None:
    """The link answers 410 with a problem that says why, for whole and partial asks alike."""
    for headers in ({}, {"Range": "bytes=0-"}):
        response = await api.get(url, headers=headers)
        assert response.status == 410, await response.text()
        assert response.content_type == "application/problem+json"
        assert (await response.json())["type"].endswith("/link-gone")


async def test_reading_the_request_again_shows_the_same_link_and_it_works(
    staff_api: Client, audio_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api, pool = staff_api, staff_api.app[POOL]
    request_id, url = await ready_export(api, audio_dir)
    # An export made before links were derived holds a random digest: it is adopted.
    await pool.execute("UPDATE exports SET token_sha256 = $1", secrets.token_bytes(32))

    first, second = await view(api, request_id), await view(api, request_id)
    assert first["download_url"] == second["download_url"] == url
    assert first["download_expires_at"] == second["download_expires_at"]
    keyring = api.app[VAULT].keyring
    keyring.rotate(api.app[SETTINGS].keyring_path)
    assert await rewrap(pool, keyring) > 0
    assert (await view(api, request_id))["download_url"] == url  # key rotation keeps links
    download = await api.get(url)
    assert download.status == 200
    assert zipfile.ZipFile(io.BytesIO(await download.read())).testzip() is None

    token = url.rsplit("/", 1)[1]
    for table in ("exports", "audit_log", "data_keys", "subject_requests"):
        dump = await pool.fetchval(f"SELECT coalesce(string_agg(t::text, '|'), '') FROM {table} t")
        assert token not in dump, table  # stored only as its digest, never in the audit log
    assert token not in caplog.text


async def test_a_cut_download_leaves_the_link_working_and_resumes_with_range(
    staff_api: Client, audio_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    api, pool = staff_api, staff_api.app[POOL]
    request_id, url = await ready_export(api, audio_dir)
    size = await pool.fetchval("SELECT size FROM exports")
    assert size > 50_000  # far more than the cut client's receive window

    head, start = await asyncio.to_thread(
        cut_download, api.server.host, api.server.port or 0, url, 100
    )
    assert head.startswith(b"HTTP/1.1 200")
    assert b"accept-ranges: bytes" in head.lower()
    assert await logged(caplog, NOT_RECEIVED)

    assert (await view(api, request_id))["download_url"] == url
    unsatisfiable = await api.get(url, headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status == 416
    assert unsatisfiable.headers["Content-Range"] == f"bytes */{size}"
    rest = await api.get(url, headers={"Range": "bytes=100-"})
    assert rest.status == 206
    assert rest.headers["Content-Range"] == f"bytes 100-{size - 1}/{size}"
    archive = zipfile.ZipFile(io.BytesIO(start + await rest.read()))
    assert archive.testzip() is None
    assert any(name.startswith("recordings/") for name in archive.namelist())

    await gone(api, url)  # the resumed download delivered the last byte: the link is spent
    assert (await view(api, request_id))["download_url"] is None
    audited = await pool.fetch(
        "SELECT action, outcome, details FROM audit_log"
        " WHERE action LIKE 'export.%' AND object_id = $1 ORDER BY seq",
        request_id,
    )
    assert [(r["action"], r["outcome"]) for r in audited] == [
        ("export.download", "ok"),  # the cut one
        ("export.download", "refused"),  # 416
        ("export.download", "ok"),  # the resume
        ("export.downloaded", "ok"),
        ("export.download", "refused"),
        ("export.download", "refused"),
    ]
    assert audited[2]["details"] == {"start": 100, "end": size, "length": size}


async def test_a_complete_download_spends_the_link(staff_api: Client, audio_dir: Path) -> None:
    api = staff_api
    request_id, url = await ready_export(api, audio_dir)
    partial = await api.get(url, headers={"Range": "bytes=0-99"})
    assert partial.status == 206
    assert len(await partial.read()) == 100  # a part that misses the end spends nothing
    whole = await api.get(url)
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(await whole.read())).testzip() is None
    await gone(api, url)
    assert (await view(api, request_id))["download_url"] is None
    assert (await api.head(url)).status == 405  # a HEAD neither spends nor serves


async def test_an_expired_link_is_gone(staff_api: Client, audio_dir: Path) -> None:
    api, pool = staff_api, staff_api.app[POOL]
    request_id, url = await ready_export(api, audio_dir)
    await pool.execute("UPDATE exports SET expires_at = now() - interval '1 second'")
    await gone(api, url)
    assert (await view(api, request_id))["download_url"] is None
    await pool.execute("UPDATE exports SET sealed_object_id = NULL")  # as the sweep leaves it
    await gone(api, url)


async def test_the_sweep_shreds_an_expired_export_and_leaves_a_tombstone(
    staff_api: Client, audio_dir: Path
) -> None:
    api, pool = staff_api, staff_api.app[POOL]
    _, url = await ready_export(api, audio_dir)
    sealed_id = await pool.fetchval("SELECT sealed_object_id FROM exports")
    engine = erasure_engine(pool, api.app[VAULT].store)
    sweep = retention_sweep(pool, engine, api.app[SETTINGS])
    assert (await sweep.run(only=("exports",))).counts() == {"exports": {}}  # not expired yet
    await pool.execute("UPDATE exports SET expires_at = now() - interval '1 second'")

    report = await retention_sweep(pool, engine, api.app[SETTINGS]).run(only=("exports",))

    assert report.counts() == {"exports": {"export.erased": 1}}
    assert await pool.fetchval("SELECT sealed_object_id FROM exports") is None
    assert not await pool.fetchval("SELECT count(*) FROM sealed_objects WHERE id = $1", sealed_id)
    assert await pool.fetchval("SELECT count(*) FROM tombstones WHERE kind = 'export'") == 1
    await gone(api, url)


async def test_an_unknown_link_is_a_plain_404_whatever_it_looks_like(
    staff_api: Client, audio_dir: Path
) -> None:
    api, pool = staff_api, staff_api.app[POOL]
    _, url = await ready_export(api, audio_dir)
    token = url.rsplit("/", 1)[1]
    near_miss = token[:-1] + ("A" if token[-1] != "A" else "B")
    guesses = [
        near_miss,
        secrets.token_urlsafe(32),
        token[:20],
        token + "A",
        "x" * 5000,
        "%C3%A4" * 43,
        "%ED%A0%80",  # not UTF-8 (a lone surrogate)
        "..%2F..%2Fetc",
    ]
    answers = []
    for guess in guesses:
        response = await api.get(f"/v1/exports/{guess}")
        assert response.status == 404, guess
        assert response.content_type == "application/problem+json"
        body = await response.json()
        answers.append((body["type"], body["title"], body["detail"]))
    assert len(set(answers)) == 1  # a near miss reads exactly like a wild guess
    refused = await pool.fetch(
        "SELECT object_id, details FROM audit_log WHERE action = 'export.download'"
    )
    assert len(refused) == len(guesses)
    assert all(r["object_id"] is None and r["details"] == {"reason": "unknown"} for r in refused)
    assert (await api.get(url)).status == 200  # guessing did not hurt the real link


async def test_a_near_miss_takes_as_long_as_a_wild_guess(
    staff_api: Client, audio_dir: Path
) -> None:
    """The lookup is by SHA-256 of the token, so its time cannot say how close a guess was."""
    api = staff_api
    _, url = await ready_export(api, audio_dir)
    token = url.rsplit("/", 1)[1]
    near_miss = token[:-1] + ("A" if token[-1] != "A" else "B")
    times: dict[str, list[float]] = {"near": [], "wild": []}
    for _ in range(60):  # interleaved, so load on the machine falls on both alike
        for name, guess in (("near", near_miss), ("wild", secrets.token_urlsafe(32))):
            started = time.perf_counter()
            response = await api.get(f"/v1/exports/{guess}")
            await response.read()
            times[name].append(time.perf_counter() - started)
            assert response.status == 404
    ratio = statistics.median(times["near"]) / statistics.median(times["wild"])
    assert 0.67 < ratio < 1.5, ratio


async def test_reading_the_end_first_spends_nothing(staff_api: Client, audio_dir: Path) -> None:
    """A ZIP reader or a download manager may fetch the end first (the central directory):
    that response carries the last byte, but the subject does not have the file yet."""
    api, pool = staff_api, staff_api.app[POOL]
    request_id, url = await ready_export(api, audio_dir)
    size = await pool.fetchval("SELECT size FROM exports")
    for asked in ("bytes=-22", f"bytes={size - 1000}-", "bytes=-22"):
        tail = await api.get(url, headers={"Range": asked})
        assert tail.status == 206, asked
        await tail.read()
    assert (await view(api, request_id))["download_url"] == url
    head = await api.get(url, headers={"Range": f"bytes=0-{size - 1001}"})
    assert head.status == 206
    start = await head.read()
    rest = await api.get(url, headers={"Range": f"bytes={size - 1000}-"})
    assert rest.status == 206  # the file is now whole on the subject's side: the link is spent
    assert zipfile.ZipFile(io.BytesIO(start + await rest.read())).testzip() is None
    await gone(api, url)


async def reissued(api: Client, request_id: str, role: str = "dpo") -> Any:
    """The officer asks for a new copy; the raw answer."""
    return await api.post(
        f"/v1/subject-requests/{request_id}/reissue", headers=await headers_for(api, role)
    )


async def test_the_request_says_when_the_copy_was_downloaded(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    request_id, url = await ready_export(api, audio_dir)
    before = await view(api, request_id)
    assert before["downloaded_at"] is None
    assert before["copy_kept_until"] == before["download_expires_at"]
    whole = await api.get(url)
    await whole.read()
    after = await view(api, request_id)
    assert after["download_url"] is None
    assert datetime.fromisoformat(after["downloaded_at"]) <= datetime.now(UTC)
    assert after["copy_kept_until"] == before["copy_kept_until"]  # a new copy may be issued


async def test_the_dpo_issues_a_new_copy_and_the_old_link_dies(
    staff_api: Client, audio_dir: Path
) -> None:
    api, pool = staff_api, staff_api.app[POOL]
    request_id, first_url = await ready_export(api, audio_dir)
    first = await (await api.get(first_url)).read()
    assert (await reissued(api, request_id, "customer-service")).status == 403

    answer = await reissued(api, request_id)
    assert answer.status == 200, await answer.text()
    new = await answer.json()
    assert new["download_url"] != first_url
    document = await view(api, request_id)
    assert document["download_url"] == new["download_url"]
    assert document["download_expires_at"] == new["download_expires_at"]  # retention runs on
    assert document["downloaded_at"] is not None  # the first copy's download stays in view
    again = await api.get(new["download_url"])
    assert again.status == 200
    assert await again.read() == first  # the same copy
    await gone(api, new["download_url"])  # the new link is spent by its own download

    second = await (await reissued(api, request_id)).json()  # before any download, too
    third = await (await reissued(api, request_id)).json()
    await gone(api, second["download_url"])
    refused = await api.get(second["download_url"])
    assert "new copy" in (await refused.json())["detail"]
    assert (await api.get(third["download_url"])).status == 200
    actions = await pool.fetch(
        "SELECT outcome FROM audit_log WHERE action = 'subject_request.reissue' AND object_id = $1",
        request_id,
    )
    assert [r["outcome"] for r in actions] == ["ok", "ok", "ok"]


async def test_no_new_copy_once_the_export_is_gone_or_for_another_request(
    staff_api: Client, audio_dir: Path
) -> None:
    api, pool = staff_api, staff_api.app[POOL]
    request_id, _ = await ready_export(api, audio_dir)
    await pool.execute("UPDATE exports SET expires_at = now() - interval '1 second'")
    expired = await reissued(api, request_id)
    assert expired.status == 409
    assert "register a new access request" in (await expired.json())["detail"]
    assert (await view(api, request_id))["copy_kept_until"] is None
    assert (await reissued(api, str(uuid.uuid4()))).status == 404
    erasure = await registered(api, "erasure", {"phone_number": "+358409999999"})
    assert (await reissued(api, erasure)).status == 409
    assert await pool.fetchval("SELECT count(*) FROM exports") == 1  # nothing was added


async def test_the_link_key_is_unwrapped_once_per_keyring(pool: Pool, keyring: Keyring) -> None:
    async with pool.acquire() as conn:
        first = await link_key(conn, keyring)
        await conn.execute("DELETE FROM data_keys")  # a second unwrap would make a new key
        assert await link_key(conn, keyring) == first
        assert await conn.fetchval("SELECT count(*) FROM data_keys") == 0
