"""The application factory and one cleanup context per resource, in dependency order.

``create_app`` reads only the organisation profile: it wires routes, middleware and the
resource contexts; the contexts open the database, object store and keyring when the app starts and close them in
reverse order when it stops. Tests build the very same app.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

from aiohttp import web

from api.appkeys import (
    FIELD_CIPHER,
    KEYRING,
    METRICS,
    ORGANISATION,
    POOL,
    SCHEDULE,
    SETTINGS,
    STORE,
    STORE_PROBE,
    UPLOAD_SLOTS,
    VAULT,
)
from api.middleware import install_protocol_problems, problems, request_context
from api.routes import add_api_routes
from api.session import authorize
from callrec.embedded import EmbeddedPostgres, ensure_database, keep_values_out_of_log
from callrec.jobs import SCHEDULE as JOB_SCHEDULE
from callrec.jobs import standard_jobs
from callrec.transcription import Jobs, ready_hook, start_transcription
from common.metrics import Metrics
from common.settings import Secret, Settings
from compliance.organisation import load_organisation
from console import routes as console
from recorder.catalog import PLAIN_RELEASE_REASONS
from recorder.limits import UploadSlots
from recorder.redaction import PLAIN_REASONS as PLAIN_REDACTION_REASONS
from recorder.worker import IngestWorker
from register.contact_log import PLAIN_NOTES
from retention.holds import PLAIN_HOLD_REASONS
from retention.holds import PLAIN_RELEASE_REASONS as PLAIN_HOLD_RELEASE_REASONS
from retention.scheduler import JobScheduler
from rights.export_choices import PLAIN_REASONS as PLAIN_EXPORT_REASONS
from rights.processor import RightsProcessor
from rights.requests import PLAIN_DENIAL_REASONS, PLAIN_EXTENSION_REASONS
from storage.db import Pool, create_pool
from storage.fieldcrypt import FieldCipher, load_data_key
from storage.fs import FilesystemStore
from storage.keyring import Keyring, KeyringError
from storage.migrate import migrate
from storage.objects import ObjectStore, WriteProbe
from storage.s3 import S3Store
from storage.sealing import seal_plaintext
from storage.vault import Vault

log = logging.getLogger(__name__)

# Free text about people that versions before migrations 0016 and 0017 stored in plain text.
PLAIN_FREE_TEXT = (
    PLAIN_NOTES,
    PLAIN_REDACTION_REASONS,
    PLAIN_EXPORT_REASONS,
    PLAIN_RELEASE_REASONS,
    PLAIN_HOLD_REASONS,
    PLAIN_HOLD_RELEASE_REASONS,
    PLAIN_DENIAL_REASONS,
    PLAIN_EXTENSION_REASONS,
)


JOBS: Final = web.AppKey("jobs", Jobs)


def create_app(settings: Settings, *, run_worker: bool | None = None) -> web.Application:
    """Build the aiohttp application for ``settings`` without touching the outside world.

    The ingest worker runs inside the API process when ``run_worker`` says so; by default
    that is the embedded mode, where one process does everything. The one thing it reads is
    the organisation profile (a small file): a bad one raises
    :class:`compliance.organisation.OrganisationError` before anything starts.
    """
    install_protocol_problems()
    app = web.Application(
        middlewares=[request_context, problems, authorize], client_max_size=1024**2
    )
    _add_resources(app, settings)
    app[ORGANISATION] = load_organisation(settings.organisation_file)
    app.cleanup_ctx.append(register_context)
    app[UPLOAD_SLOTS] = UploadSlots(settings.max_concurrent_uploads, settings.max_uploads_per_peer)
    if settings.embedded_database if run_worker is None else run_worker:
        app.cleanup_ctx.append(worker_context)
    add_api_routes(app)
    console.add_routes(app)
    return app


def create_worker_app(settings: Settings, jobs: Jobs = Jobs.ALL) -> web.Application:
    """The same resources with the worker and no routes: what ``callrec worker`` runs."""
    jobs.transcribe(settings)  # refuses --jobs transcribe with transcription off, early
    app = web.Application()
    _add_resources(app, settings)
    app[JOBS] = jobs
    app.cleanup_ctx.append(worker_context)
    return app


def _add_resources(app: web.Application, settings: Settings) -> None:
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[SCHEDULE] = JOB_SCHEDULE
    app.cleanup_ctx.append(database_context)
    app.cleanup_ctx.append(object_store_context)
    app.cleanup_ctx.append(keyring_context)


async def worker_context(app: web.Application) -> AsyncIterator[None]:
    """Run the ingest worker, the subject-request processor and the job scheduler
    (unless ``CALLREC_SCHEDULER`` is off), and the transcription worker, as ``JOBS`` says,
    while the application runs."""
    if not app[KEYRING].can_open:
        raise KeyringError("the worker must open incoming audio: give it a keyring with identities")
    pool, vault, settings = app[POOL], app[VAULT], app[SETTINGS]
    jobs = app.get(JOBS, Jobs.ALL)
    stop = asyncio.Event()
    tasks: list[asyncio.Future[None]] = []
    if jobs.transcribe(settings):  # first: a bad model stops the start before anything runs
        tasks.append(await start_transcription(pool, vault, settings, stop))
    scheduler = None
    if jobs.ingest:
        ingest = IngestWorker(pool, vault, settings, on_ready=ready_hook(settings))
        tasks.append(asyncio.ensure_future(ingest.run(stop)))
        tasks.append(asyncio.ensure_future(RightsProcessor(pool, vault, settings).run(stop)))
        if settings.scheduler:
            scheduler = JobScheduler(pool, standard_jobs(pool, vault, settings, app[METRICS]))
            scheduler.start()
    yield
    if scheduler is not None:
        await scheduler.stop()
    stop.set()
    await asyncio.gather(*tasks)


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Pool]:
    """A migrated pool; starts (and afterwards stops) the embedded server when no URL is set."""
    embedded: EmbeddedPostgres | None = None
    if settings.database_url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        admin_dsn = await asyncio.to_thread(embedded.start)
        await keep_values_out_of_log(admin_dsn)
        await ensure_database(admin_dsn)
        dsn = embedded.dsn()
    else:
        dsn = settings.database_url.reveal()
    try:
        pool = await create_pool(dsn)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            yield pool
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def database_context(app: web.Application) -> AsyncIterator[None]:
    """The application's pool, migrated to the latest schema."""
    async with open_database(app[SETTINGS]) as pool:
        app[POOL] = pool
        yield


def build_store(settings: Settings) -> ObjectStore:
    """The object store the settings ask for: S3 when an endpoint is set, else the data dir."""
    if settings.s3_endpoint is not None:
        assert settings.s3_access_key is not None  # Settings.from_env guarantees both
        assert settings.s3_secret_key is not None
        return S3Store(
            settings.s3_endpoint,
            settings.s3_access_key.reveal(),
            settings.s3_secret_key.reveal(),
            settings.s3_bucket,
            secure=settings.s3_secure,
        )
    log.warning("objects are stored in the data directory; set CALLREC_S3_ENDPOINT for production")
    return FilesystemStore(settings.data_dir / "objects")


async def object_store_context(app: web.Application) -> AsyncIterator[None]:
    """Open the object store; create the S3 bucket when it is missing."""
    store = build_store(app[SETTINGS])
    if isinstance(store, S3Store):
        await store.ensure_bucket()
    await store.ping()
    app[STORE] = store
    app[STORE_PROBE] = WriteProbe(store)
    yield
    await store.close()


def load_or_create_keyring(settings: Settings) -> Keyring:
    """Load the keyring; in the embedded default only, create one (with a loud warning)."""
    path = settings.keyring_path
    try:
        return Keyring.load(path)
    except KeyringError:
        if settings.keyring is not None or path.exists():
            raise
    log.warning(
        "NO KEYRING FOUND: created a new one at %s. Back it up and keep it apart from the "
        "database and objects: without it no recording can ever be decrypted.",
        path,
    )
    return Keyring.create(path)


WEBHOOK_SECRET_FILE = "webhook-secret.txt"  # noqa: S105 - a file name, not a secret


def webhook_secret_path(settings: Settings) -> Path:
    """Where the embedded mode keeps its generated webhook secret (beside the keyring)."""
    return settings.data_dir / WEBHOOK_SECRET_FILE


def with_webhook_secret(settings: Settings) -> Settings:
    """The settings ``callrec serve`` runs with: in the embedded default without
    ``CALLREC_WEBHOOK_SECRET``, a secret kept in the data directory (made on first start),
    so the first webhook of a quick start works. The log names the file, never the secret."""
    if settings.webhook_secret is not None or not settings.embedded_database:
        return settings
    path = webhook_secret_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        log.warning(
            "NO WEBHOOK SECRET SET: created one in %s (mode 0600). Give the telephony system "
            "the contents of that file, or set CALLREC_WEBHOOK_SECRET.",
            path,
        )
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < 16:
        raise KeyringError(f"{path} must hold a webhook secret of at least 16 characters")
    log.info("webhook secret read from %s", path)
    return dataclasses.replace(settings, webhook_secret=Secret(value))


async def keyring_context(app: web.Application) -> AsyncIterator[None]:
    """Load the keyring and build the vault on top of the store."""
    keyring = await asyncio.to_thread(load_or_create_keyring, app[SETTINGS])
    app[KEYRING] = keyring
    app[VAULT] = Vault(app[STORE], keyring)
    yield


async def register_context(app: web.Application) -> AsyncIterator[None]:
    """Unwrap the register's field-encryption key (created on first start) and seal the free
    text an older version left in plain text."""
    if app[KEYRING].can_open:
        async with app[POOL].acquire() as conn:
            app[FIELD_CIPHER] = FieldCipher(await load_data_key(conn, app[KEYRING], "register"))
        await seal_old_free_text(app[POOL], app[FIELD_CIPHER])
    yield


async def seal_old_free_text(pool: Pool, cipher: FieldCipher) -> None:
    """Seal notes and reasons still held in plain text (migrations 0016, 0017); counts only are
    logged, never text."""
    for column in PLAIN_FREE_TEXT:
        sealed = await seal_plaintext(pool, cipher, column)
        if sealed:
            log.info("sealed plain free text", extra={"column": column.plain, "rows": sealed})
