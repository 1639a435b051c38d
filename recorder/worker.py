"""The ingest worker: turns received recordings into encrypted Opus renditions.

Jobs live in PostgreSQL. A worker claims one with ``FOR UPDATE SKIP LOCKED`` and takes a
lease; if it crashes, the lease runs out and another worker takes the job again. Transient
failures (store or network down) and unexpected ones (altered ciphertext, a missing key)
retry with exponential backoff and then fail; audio that cannot be used fails at once with a
reason a person can act on. Unexpected errors are named by type only, since their texts can
quote data. Any number of workers can run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import aiohttp
import asyncpg
from asyncpg.pool import PoolConnectionProxy

from callrec.backoff import backoff as retry_backoff
from callrec.logs import log_failure
from callrec.settings import Settings
from recorder.audio import AudioError, AudioReport, duration_mismatch, process_audio
from recorder.fetch import FetchError, fetch_audio
from recorder.queries import PURGE_SIGNATURES
from storage.db import Pool
from storage.objects import ObjectStoreError
from storage.vault import SealedObject, Vault, insert_sealed, load_sealed

log = logging.getLogger(__name__)

LEASE: Final = timedelta(minutes=15)
MAX_ATTEMPTS: Final = 5
BACKOFF_BASE: Final = timedelta(seconds=10)
BACKOFF_MAX: Final = timedelta(minutes=30)
POLL_SECONDS: Final = 2.0
PURGE_EVERY_SECONDS: Final = 60.0
NOTIFY_CHANNEL: Final = "callrec_ingest"

CLAIM_JOB: Final = """
UPDATE ingest_jobs SET attempts = attempts + 1, leased_until = now() + $1::interval
WHERE recording_id = (
    SELECT recording_id FROM ingest_jobs
    WHERE run_after <= now() AND (leased_until IS NULL OR leased_until < now())
    ORDER BY run_after
    FOR UPDATE SKIP LOCKED
    LIMIT 1
)
RETURNING recording_id, attempts
"""
START_RECORDING: Final = """
UPDATE recordings SET status = 'processing', updated_at = now() WHERE id = $1
RETURNING incoming_object_id, audio_url, fetch_auth, declared_duration_seconds, caller_number,
    channel_layout
"""
SET_INCOMING: Final = """
UPDATE recordings SET incoming_object_id = $2, received_sha256 = $3, audio_url = NULL,
    updated_at = now()
WHERE id = $1
"""
FIND_CUSTOMERS_BY_PHONE: Final = """
SELECT DISTINCT customer_id FROM customer_phones WHERE number = $1 LIMIT 2
"""
FINISH_RECORDING: Final = """
UPDATE recordings SET
    status = 'ready', audio_object_id = $2, measured_duration_seconds = $3, channels = $4,
    audio_format = $5, waveform = $6, audio_sha256 = $7, duration_mismatch = $8,
    incoming_object_id = CASE WHEN $9 THEN incoming_object_id END,
    customer_id = COALESCE(customer_id, $10),
    customer_link = CASE WHEN customer_id IS NULL AND $10::uuid IS NOT NULL THEN 'auto_phone'
                         ELSE customer_link END,
    error = NULL, updated_at = now()
WHERE id = $1
"""
DELETE_JOB: Final = "DELETE FROM ingest_jobs WHERE recording_id = $1"
RETRY_JOB: Final = """
UPDATE ingest_jobs SET run_after = now() + $2::interval, leased_until = NULL, last_error = $3
WHERE recording_id = $1
"""
RETRY_RECORDING: Final = """
UPDATE recordings SET status = 'received', error = $2, updated_at = now() WHERE id = $1
"""
FAIL_RECORDING: Final = """
UPDATE recordings SET status = 'failed', error = $2, updated_at = now() WHERE id = $1
"""
SHRED_ROW: Final = "DELETE FROM sealed_objects WHERE id = $1 RETURNING object_key"


@dataclass(frozen=True)
class JobOutcome:
    """What happened to one claimed job (for logs and tests)."""

    recording_id: uuid.UUID
    status: str
    error: str | None = None


def backoff(attempt: int) -> timedelta:
    """Delay before retry ``attempt`` + 1: 10 s, 20 s, 40 s … capped at 30 min."""
    return retry_backoff(attempt, first=BACKOFF_BASE, most=BACKOFF_MAX)


def waveform_document(report: AudioReport, channel_layout: str) -> dict[str, object]:
    """Peaks per channel, labelled agent/customer when the layout says which is which."""
    if report.channels == 2 and channel_layout in ("agent-left", "agent-right"):
        roles = ["agent", "customer"] if channel_layout == "agent-left" else ["customer", "agent"]
    else:
        roles = ["mixed"] if report.channels == 1 else ["left", "right"]
    return {
        "peaks_per_second": 10,
        "scale": 1000,
        "channels": [
            {"role": role, "peaks": peaks} for role, peaks in zip(roles, report.peaks, strict=True)
        ],
    }


class IngestWorker:
    """Processes ingest jobs; ``concurrency`` of them at once."""

    def __init__(self, pool: Pool, vault: Vault, settings: Settings) -> None:
        self.pool = pool
        self.vault = vault
        self.settings = settings
        self._wake = asyncio.Event()
        self._last_purge = 0.0

    async def run_once(self) -> JobOutcome | None:
        """Claim and process one due job; None when there is nothing to do."""
        claimed = await self.pool.fetchrow(CLAIM_JOB, LEASE)
        if claimed is None:
            return None
        recording_id: uuid.UUID = claimed["recording_id"]
        attempt: int = claimed["attempts"]
        try:
            await self._process(recording_id)
        except AudioError as exc:
            return await self._fail(recording_id, str(exc))
        except (ObjectStoreError, FetchError, OSError, asyncpg.PostgresError) as exc:
            return await self._again(recording_id, attempt, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # altered ciphertext, a lost key, a bug: never stuck processing
            log_failure(log, "ingest failed", exc, recording_id=str(recording_id))
            return await self._again(recording_id, attempt, type(exc).__name__)
        log.info("recording ready", extra={"recording_id": str(recording_id), "attempt": attempt})
        return JobOutcome(recording_id, "ready")

    async def run_until_idle(self) -> list[JobOutcome]:
        """Process due jobs until none is left (tests, `retention run`-style batch use)."""
        outcomes = []
        while (outcome := await self.run_once()) is not None:
            outcomes.append(outcome)
        return outcomes

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, woken early by NOTIFY when a recording arrives."""
        listener: PoolConnectionProxy[asyncpg.Record] | None = None
        try:
            listener = await self.pool.acquire()
            await listener.add_listener(NOTIFY_CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError):
            log.warning("LISTEN unavailable; polling every %s s", POLL_SECONDS)
        try:
            loops = [
                asyncio.ensure_future(self._loop(stop))
                for _ in range(self.settings.worker_concurrency)
            ]
            await asyncio.gather(*loops)
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.remove_listener(NOTIFY_CHANNEL, self._notified)
                await self.pool.release(listener)

    async def purge_signatures(self) -> None:
        """Forget webhook signatures older than 15 minutes; the 300 s window refuses them anyway."""
        await self.pool.execute(PURGE_SIGNATURES)

    def _notified(self, *_args: object) -> None:
        self._wake.set()

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                outcome = await self.run_once()
            except Exception:
                log.exception("ingest worker error; continuing")
                outcome = None
            if outcome is None:
                if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                    self._last_purge = time.monotonic()
                    with contextlib.suppress(OSError, asyncpg.PostgresError):
                        await self.purge_signatures()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_SECONDS):
                        stop_wait = asyncio.ensure_future(stop.wait())
                        wake_wait = asyncio.ensure_future(self._wake.wait())
                        try:
                            await asyncio.wait(
                                {stop_wait, wake_wait}, return_when=asyncio.FIRST_COMPLETED
                            )
                        finally:
                            stop_wait.cancel()
                            wake_wait.cancel()

    async def _process(self, recording_id: uuid.UUID) -> None:
        row = await self.pool.fetchrow(START_RECORDING, recording_id)
        if row is None:  # erased while queued
            await self.pool.execute(DELETE_JOB, recording_id)
            return
        incoming = await self._incoming(recording_id, row)
        layout = row["channel_layout"]
        rendition: SealedObject | None = None

        async def store(stream: AsyncIterator[bytes]) -> SealedObject:
            nonlocal rendition
            rendition = await self.vault.seal(stream, kind="recordings")
            return rendition

        try:
            report, _ = await process_audio(
                self.vault.open_range(incoming), store, bitrate_kbps=self.settings.opus_bitrate_kbps
            )
            assert rendition is not None
            customer_id = await self._match_customer(row["caller_number"])
            async with self.pool.acquire() as conn, conn.transaction():
                await insert_sealed(conn, rendition)
                await conn.execute(
                    FINISH_RECORDING,
                    recording_id,
                    rendition.id,
                    report.duration_seconds,
                    report.channels,
                    report.container,
                    waveform_document(report, layout),
                    rendition.plaintext_sha256,
                    duration_mismatch(row["declared_duration_seconds"], report.duration_seconds),
                    self.settings.keep_original,
                    customer_id,
                )
                await conn.execute(DELETE_JOB, recording_id)
                incoming_key = None
                if not self.settings.keep_original:
                    incoming_key = await conn.fetchval(SHRED_ROW, incoming.id)
        except BaseException:
            if rendition is not None:
                await self.vault.store.delete(rendition.object_key)
            raise
        if incoming_key is not None:
            await self.vault.store.delete(incoming_key)

    async def _incoming(self, recording_id: uuid.UUID, row: asyncpg.Record) -> SealedObject:
        object_id, audio_url = row["incoming_object_id"], row["audio_url"]
        if object_id is not None:
            sealed = await load_sealed(self.pool, object_id)
            if sealed is None:
                raise AudioError("the received audio was deleted before processing")
            return sealed
        if audio_url is None:
            raise AudioError("the recording has neither an audio upload nor an audio_url")
        sealed = await fetch_audio(
            audio_url,
            self.vault,
            self.settings,
            authorization=self._authorization(row["fetch_auth"]),
        )
        async with self.pool.acquire() as conn, conn.transaction():
            await insert_sealed(conn, sealed)
            await conn.execute(SET_INCOMING, recording_id, sealed.id, sealed.plaintext_sha256)
        return sealed

    def _authorization(self, fetch_auth: str | None) -> str | None:
        """Credentials for the audio URL: Twilio's are the account SID and the auth token."""
        if fetch_auth is None:
            return None
        token = self.settings.twilio_auth_token
        if token is None:
            raise FetchError("CALLREC_TWILIO_AUTH_TOKEN is needed to fetch Twilio recordings")
        return aiohttp.encode_basic_auth(fetch_auth.removeprefix("twilio:"), token.reveal())

    async def _match_customer(self, caller_number: str | None) -> uuid.UUID | None:
        if caller_number is None:
            return None
        rows = await self.pool.fetch(FIND_CUSTOMERS_BY_PHONE, caller_number)
        return rows[0]["customer_id"] if len(rows) == 1 else None

    async def _again(self, recording_id: uuid.UUID, attempt: int, reason: str) -> JobOutcome:
        """Retry later with backoff, or fail for good after the last attempt."""
        if attempt >= MAX_ATTEMPTS:
            return await self._fail(recording_id, f"gave up after {attempt} attempts: {reason}")
        await self._retry(recording_id, attempt, reason)
        return JobOutcome(recording_id, "received", reason)

    async def _retry(self, recording_id: uuid.UUID, attempt: int, reason: str) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(RETRY_JOB, recording_id, backoff(attempt), reason)
            await conn.execute(
                RETRY_RECORDING, recording_id, f"attempt {attempt} failed, will retry: {reason}"
            )
        log.warning(
            "ingest attempt failed; retrying",
            extra={"recording_id": str(recording_id), "attempt": attempt},
        )

    async def _fail(self, recording_id: uuid.UUID, reason: str) -> JobOutcome:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(FAIL_RECORDING, recording_id, reason)
            await conn.execute(DELETE_JOB, recording_id)
        log.warning("ingest failed", extra={"recording_id": str(recording_id)})
        return JobOutcome(recording_id, "failed", reason)
