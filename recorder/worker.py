"""The ingest worker: turns received recordings into encrypted Opus renditions (and, when no
ingest is due, renders redacted renditions: :mod:`recorder.redaction_render`).

Jobs live in PostgreSQL. A worker claims one with ``FOR UPDATE SKIP LOCKED`` and takes a
short lease (``CALLREC_WORKER_LEASE_SECONDS``, 60 s) that a heartbeat renews while the job
runs: a worker killed mid-job loses it within a minute, and a live long job is never taken
twice. Each claim counts an attempt, and that number is the lease's fencing token: every
write of the job checks it, so a worker whose lease was taken over commits nothing.

Long calls (declared, or found while decoding, to run over :data:`LONG_CALL`) get at most
all but one of a worker's slots; the last slot takes ordinary calls only, so a 12-hour
recording delays no one.

Transient failures (store or network down) and unexpected ones (altered ciphertext, a
missing key) retry with exponential backoff and then fail; audio that cannot be used fails at
once. The status answer names the kind of failure only (:func:`public_reason`): exception
texts, ffmpeg's output and paths can quote data, so none of them reach it. Once the ready
transaction has committed, nothing moves the recording back: an upload the store refuses to
delete stays queued for the reaper. Any number of workers can run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import aiohttp
import asyncpg

from common.backoff import backoff as retry_backoff
from common.logs import log_failure
from common.settings import Settings
from recorder import queries
from recorder.audio import (
    AudioError,
    AudioReport,
    LaneExceeded,
    Unusable,
    duration_mismatch,
)
from recorder.fetch import FetchError, FetchFailure, fetch_audio
from recorder.redaction_render import RedactionRenderer
from recorder.rendition import render_sealed
from recorder.waveform import waveform_document
from register.search import customers_with_phone
from retention.reaper import delete_after_commit
from storage.db import Connection, Pool, listening
from storage.failures import storage_reason
from storage.objects import ObjectNotFound
from storage.vault import SealedObject, Vault, discard, insert_sealed, load_sealed, shred_headers

log = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 5
BACKOFF_BASE: Final = timedelta(seconds=10)
BACKOFF_MAX: Final = timedelta(minutes=30)
LONG_CALL: Final = timedelta(minutes=30)  # decoding takes ~10 s; 12 hours take minutes
POLL_SECONDS: Final = 2.0
PURGE_EVERY_SECONDS: Final = 60.0
NOTIFY_CHANNEL: Final = "callrec_ingest"


# What else happens, in the ready transaction, when a call becomes ready: the composition
# root queues its transcription here (recorder does not import transcripts).
ReadyHook = Callable[[Connection, uuid.UUID], Awaitable[None]]


class LeaseLost(Exception):
    """Another worker holds this job now (our lease ran out); whatever we did is dropped."""


@dataclass
class Job:
    """One claimed job: ``attempt`` is also the lease's fencing token."""

    recording_id: uuid.UUID
    attempt: int
    long_ok: bool  # claimed by a slot that takes long calls
    # the ready transaction has begun: from here the fence decides, the heartbeat must not
    # cancel (a cancelled COMMIT may still have happened)
    settling: bool = False


@dataclass(frozen=True)
class JobOutcome:
    """What happened to one claimed job (for logs and tests).

    ``status``: ready | received (retry later) | failed | long (waits for a long-call slot)
    | lease_lost (another worker has it).
    """

    recording_id: uuid.UUID
    status: str
    error: str | None = None


def backoff(attempt: int) -> timedelta:
    """Delay before retry ``attempt`` + 1: 10 s, 20 s, 40 s … capped at 30 min."""
    return retry_backoff(attempt, first=BACKOFF_BASE, most=BACKOFF_MAX)


def public_reason(exc: BaseException) -> str:
    """The one text shown for a failure: chosen by its kind, never the exception's own words."""
    if isinstance(exc, AudioError):
        return exc.reason.value
    if isinstance(exc, FetchError):
        return exc.public
    if isinstance(exc, ObjectNotFound):
        return "the received audio is missing from storage"
    return storage_reason(exc)


async def _hold(conn: Connection, job: Job) -> None:
    """Lock the job row inside the caller's transaction, or raise :class:`LeaseLost`."""
    if not await queries.hold_job(conn, job.recording_id, job.attempt):
        raise LeaseLost


class IngestWorker:
    """Processes ingest jobs; ``worker_concurrency`` of them at once."""

    def __init__(
        self,
        pool: Pool,
        vault: Vault,
        settings: Settings,
        *,
        long_call: timedelta = LONG_CALL,
        on_ready: ReadyHook | None = None,
    ) -> None:
        self.pool = pool
        self.on_ready = on_ready
        self.vault = vault
        self.settings = settings
        self.lease = timedelta(seconds=settings.worker_lease_seconds)
        self.heartbeat_seconds = settings.worker_lease_seconds / 3
        self.long_call = long_call
        self._wake = asyncio.Event()
        self._last_purge = 0.0
        # redacted renditions take a slot only when no ingest is due: a new call comes first
        self.redactions = RedactionRenderer(pool, vault, settings, public_reason=public_reason)

    async def run_once(self, *, long_ok: bool = True) -> JobOutcome | None:
        """Claim and process one due job (a long call only if ``long_ok``); None when idle."""
        claimed = await queries.claim_job(
            self.pool, self.lease, long_ok=long_ok, long_call=self.long_call
        )
        if claimed is None:
            return None
        job = Job(claimed.recording_id, claimed.attempt, long_ok)
        try:
            return await self._settle(job)
        except LeaseLost:
            log.warning(
                "ingest lease lost; another worker has the job",
                extra={"recording_id": str(job.recording_id), "attempt": job.attempt},
            )
            return JobOutcome(job.recording_id, "lease_lost")

    async def run_until_idle(self) -> list[JobOutcome]:
        """Process due jobs until none is left (tests, `retention run`-style batch use)."""
        outcomes = []
        while (outcome := await self.run_once()) is not None:
            outcomes.append(outcome)
        return outcomes

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, woken early by NOTIFY when a recording arrives.

        Of ``worker_concurrency`` slots, all but one (at least one) take long calls. On stop,
        jobs in flight are abandoned and their leases released for the next worker.
        """
        slots = self.settings.worker_concurrency
        async with listening(self.pool, NOTIFY_CHANNEL, self._wake):
            loops = [
                asyncio.ensure_future(self._loop(long_ok=n < max(1, slots - 1)))
                for n in range(slots)
            ]
            try:
                await stop.wait()
            finally:
                for loop in loops:
                    loop.cancel()
                await asyncio.gather(*loops, return_exceptions=True)

    async def purge_signatures(self) -> None:
        """Forget webhook signatures older than 15 minutes; the 300 s window refuses them anyway."""
        await queries.purge_signatures(self.pool)

    async def _loop(self, *, long_ok: bool) -> None:
        while True:
            try:
                outcome = await self.run_once(long_ok=long_ok)
            except Exception:
                log.exception("ingest worker error; continuing")
                outcome = None
            if outcome is None and await self._render_one():
                continue
            if outcome is None:
                if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                    self._last_purge = time.monotonic()
                    with contextlib.suppress(OSError, asyncpg.PostgresError):
                        await self.purge_signatures()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_SECONDS):
                        await self._wake.wait()

    async def _render_one(self) -> bool:
        """Render one due redacted rendition; False when none was due (or it went wrong)."""
        try:
            return await self.redactions.run_once() is not None
        except Exception:
            log.exception("redaction render error; continuing")
            return False

    async def _settle(self, job: Job) -> JobOutcome:
        """Process the job under its lease and record how it ended."""
        try:
            await self._leased(job, self._process(job))
        except LeaseLost:
            raise
        except LaneExceeded:
            return await self._requeue(job, long_call=True)
        except AudioError as exc:
            return await self._fail(job, public_reason(exc))
        except asyncio.CancelledError:  # the worker is stopping: the next one takes the job
            with contextlib.suppress(Exception):
                await self._requeue(job, long_call=False)
            raise
        except Exception as exc:  # store, network, altered ciphertext, a lost key, a bug
            log_failure(log, "ingest failed", exc, recording_id=str(job.recording_id))
            return await self._again(job, exc)
        log.info(
            "recording ready", extra={"recording_id": str(job.recording_id), "attempt": job.attempt}
        )
        return JobOutcome(job.recording_id, "ready")

    async def _leased(self, job: Job, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` while a heartbeat renews the lease; stop it if the lease was lost."""
        task = asyncio.ensure_future(work)
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=self.heartbeat_seconds)
                if task.done() or job.settling or await self._renew(job):
                    continue
                if not job.settling:  # our own commit also ends the lease: not lost then
                    task.cancel()
                    await asyncio.wait({task})
                    raise LeaseLost
            task.result()
        finally:
            if not task.done():
                if not job.settling:  # a ready transaction under way is let finish
                    task.cancel()
                await asyncio.wait({task})

    async def _renew(self, job: Job) -> bool:
        """Extend the lease; False only when another worker holds the job now."""
        try:
            return await queries.renew_lease(self.pool, job.recording_id, job.attempt, self.lease)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return True  # the database is away for a moment; the final transaction checks

    async def _process(self, job: Job) -> None:
        row = await queries.start_recording(self.pool, job.recording_id)
        if row is None:  # erased while queued
            await queries.delete_job(self.pool, job.recording_id)
            return
        incoming = await self._incoming(job, row)
        report, rendition = await render_sealed(
            self.vault,
            incoming,
            bitrate_kbps=self.settings.opus_bitrate_kbps,
            max_seconds=None if job.long_ok else self.long_call.total_seconds(),
        )
        try:
            customer_id = await self._match_customer(row.caller_number)
        except BaseException:
            await self._discard(rendition.object_key)
            raise
        shredded = await self._finish(job, row, incoming, rendition, report, customer_id)
        if shredded:
            await self._delete_after_commit(shredded)

    async def _finish(
        self,
        job: Job,
        row: queries.StartedRecording,
        incoming: SealedObject,
        rendition: SealedObject,
        report: AudioReport,
        customer_id: uuid.UUID | None,
    ) -> list[str]:
        """The ready transaction; returns the upload's key, queued for deletion in it.

        The rendition is discarded only when the transaction certainly rolls back (its body
        failed); a failure at COMMIT leaves it to the reaper, which keeps it if it committed.
        """
        job.settling = True
        async with self.pool.acquire() as conn, conn.transaction(), self._discarding(rendition):
            await _hold(conn, job)
            await insert_sealed(conn, rendition)
            await queries.finish_recording(
                conn,
                job.recording_id,
                queries.Rendition(
                    rendition.id,
                    report.duration_seconds,
                    report.channels,
                    report.container,
                    waveform_document(report, row.channel_layout),
                    rendition.plaintext_sha256,
                    duration_mismatch(row.declared_duration_seconds, report.duration_seconds),
                ),
                keep_incoming=self.settings.keep_original,
                customer_id=customer_id,
            )
            await queries.delete_job(conn, job.recording_id)
            if self.on_ready is not None:
                await self.on_ready(conn, job.recording_id)
            if self.settings.keep_original:
                return []
            return await shred_headers(conn, [incoming.id])

    async def _delete_after_commit(self, keys: list[str]) -> None:
        """Delete the shredded upload now; whatever fails stays queued for the reaper."""
        await delete_after_commit(self.pool, self.vault.store, keys)

    @contextlib.asynccontextmanager
    async def _discarding(self, sealed: SealedObject) -> AsyncIterator[None]:
        """Inside a transaction's body: if the body fails, the new object goes too."""
        try:
            yield
        except BaseException:
            await self._discard(sealed.object_key)
            raise

    async def _discard(self, object_key: str) -> None:
        """Delete an object no committed row refers to; if that fails the reaper finds it."""
        await discard(self.vault, object_key)

    async def _incoming(self, job: Job, row: queries.StartedRecording) -> SealedObject:
        object_id, audio_url = row.incoming_object_id, row.audio_url
        if object_id is not None:
            sealed = await load_sealed(self.pool, object_id)
            if sealed is None:
                raise AudioError(Unusable.MISSING)
            return sealed
        if audio_url is None:
            raise AudioError(Unusable.NO_SOURCE)
        sealed = await fetch_audio(
            audio_url,
            self.vault,
            self.settings,
            authorization=self._authorization(row.fetch_auth),
        )
        async with self.pool.acquire() as conn, conn.transaction(), self._discarding(sealed):
            await _hold(conn, job)
            await insert_sealed(conn, sealed)
            await queries.set_incoming(conn, job.recording_id, sealed.id, sealed.plaintext_sha256)
        return sealed

    def _authorization(self, fetch_auth: str | None) -> str | None:
        """Credentials for the audio URL: Twilio's are the account SID and the auth token."""
        if fetch_auth is None:
            return None
        token = self.settings.twilio_auth_token
        if token is None:
            raise FetchError(FetchFailure.TWILIO_CREDENTIALS_MISSING)
        return aiohttp.encode_basic_auth(fetch_auth.removeprefix("twilio:"), token.reveal())

    async def _match_customer(self, caller_number: str | None) -> uuid.UUID | None:
        if caller_number is None:
            return None
        # Two are enough to know the number is ambiguous: only exactly one match links.
        found = await customers_with_phone(self.pool, caller_number, limit=2)
        return found[0] if len(found) == 1 else None

    async def _again(self, job: Job, exc: BaseException) -> JobOutcome:
        """Retry later with backoff, or fail for good after the last attempt."""
        reason = public_reason(exc)
        if job.attempt >= MAX_ATTEMPTS:
            return await self._fail(job, f"gave up after {job.attempt} attempts: {reason}")
        error = f"attempt {job.attempt} failed, will retry: {reason}"
        async with self.pool.acquire() as conn, conn.transaction():
            await _hold(conn, job)
            await queries.retry_job(
                conn, job.recording_id, backoff(job.attempt), type(exc).__name__
            )
            await queries.queue_recording(conn, job.recording_id, error)
        log.warning(
            "ingest attempt failed; retrying",
            extra={"recording_id": str(job.recording_id), "attempt": job.attempt},
        )
        return JobOutcome(job.recording_id, "received", error)

    async def _requeue(self, job: Job, *, long_call: bool) -> JobOutcome:
        """Give the job back at once (to a long-call slot when ``long_call``)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await _hold(conn, job)
            await queries.requeue_job(conn, job.recording_id, long_call=long_call)
            await queries.queue_recording(conn, job.recording_id, None)
        self._wake.set()
        return JobOutcome(job.recording_id, "long" if long_call else "received")

    async def _fail(self, job: Job, reason: str) -> JobOutcome:
        async with self.pool.acquire() as conn, conn.transaction():
            await _hold(conn, job)
            await queries.fail_recording(conn, job.recording_id, reason)
            await queries.delete_job(conn, job.recording_id)
        log.warning("ingest failed", extra={"recording_id": str(job.recording_id)})
        return JobOutcome(job.recording_id, "failed", reason)
