"""Fulfils subject requests in the background: the access export and erasure.

Requests in ``processing`` are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease, like
ingest jobs, so any number of workers can run and a crashed one's request is taken again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg

from audit.log import SYSTEM, AuditEvent, record
from common.backoff import backoff
from common.logs import log_failure
from common.settings import Settings
from recorder.catalog import recordings_by_caller
from retention.erasure import Decision, ErasureReport, Why
from rights.export import AccessExport, Subject
from rights.links import insert_export, link_key
from rights.sweeps import erasure_engine
from storage.db import Pool
from storage.fieldcrypt import FieldCipher, load_data_key
from storage.keyring import KeyringError
from storage.vault import Vault, insert_sealed

log = logging.getLogger(__name__)

LEASE: Final = timedelta(minutes=15)
RETRY_FIRST: Final = timedelta(minutes=5)
RETRY_MOST: Final = timedelta(hours=6)
CLAIM: Final = """
UPDATE subject_requests SET leased_until = now() + $1::interval, attempts = attempts + 1
WHERE id = (SELECT id FROM subject_requests
            WHERE status = 'processing' AND (leased_until IS NULL OR leased_until < now())
            ORDER BY due_at FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING id, kind, subject_type, customer_id, staff_username, phone_number, attempts
"""
PROGRESS: Final = (
    "UPDATE subject_requests SET progress_done = $2, progress_total = $3 WHERE id = $1"
)
COMPLETE: Final = """
UPDATE subject_requests SET status = 'completed', completed_at = now(), leased_until = NULL,
    report = $2, error = NULL, phone_number = CASE WHEN $3 THEN NULL ELSE phone_number END
WHERE id = $1
"""
FAILED_ATTEMPT: Final = """
UPDATE subject_requests SET error = $2, leased_until = now() + $3::interval WHERE id = $1
"""


class RightsProcessor:
    """Claims one request at a time and fulfils it."""

    def __init__(self, pool: Pool, vault: Vault, settings: Settings) -> None:
        self.pool = pool
        self.vault = vault
        self.settings = settings

    async def run_once(self) -> uuid.UUID | None:
        """Fulfil the most urgent waiting request; its id, or None when there was none."""
        row = await self.pool.fetchrow(CLAIM, LEASE)
        if row is None:
            return None
        request_id: uuid.UUID = row["id"]
        try:
            if row["kind"] == "access":
                report = await self._export(row)
            elif row["kind"] == "erasure":
                report = await self._erase(row)
            else:
                report = {"recorded": True, "note": "rectification and objection are recorded"}
        except Exception as exc:  # one bad request must not stop the others
            await self._failed(row, exc)
            return request_id
        await self.pool.execute(COMPLETE, row["id"], report, row["subject_type"] == "phone")
        await record(
            self.pool,
            AuditEvent(
                f"subject_request.{row['kind']}_done",
                "ok",
                SYSTEM,
                "subject_request",
                str(request_id),
            ),
        )
        return request_id

    async def _failed(self, row: asyncpg.Record, exc: Exception) -> None:
        """Keep the request queued and try again later, backing off: 5 min, 10 min … 6 h.

        The log and the request's error name the exception's type only; its text can quote
        personal data. The deadline monitor still warns the officer if it runs late.
        """
        delay = backoff(row["attempts"], first=RETRY_FIRST, most=RETRY_MOST)
        minutes = int(delay.total_seconds() // 60)
        error = f"{type(exc).__name__}; retried in {minutes} min (attempt {row['attempts']})"
        log_failure(
            log,
            "subject request failed; it will be retried",
            exc,
            subject_request_id=str(row["id"]),
        )
        await self.pool.execute(FAILED_ATTEMPT, row["id"], error, delay)

    async def run(self, stop: asyncio.Event, poll_seconds: float = 2.0) -> None:
        """Fulfil requests until ``stop`` is set, polling when there is nothing to do."""
        while not stop.is_set():
            try:
                await self.run_until_idle()
            except Exception as exc:  # the processor must outlive any one error
                log_failure(log, "subject-request processing failed; trying again shortly", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_seconds)

    async def run_until_idle(self) -> list[uuid.UUID]:
        """Fulfil every waiting request (tests, CLI)."""
        done = []
        while (request_id := await self.run_once()) is not None:
            done.append(request_id)
        return done

    async def _cipher(self) -> FieldCipher | None:
        try:
            async with self.pool.acquire() as conn:
                return FieldCipher(await load_data_key(conn, self.vault.keyring, "register"))
        except KeyringError:
            return None

    async def _export(self, row: asyncpg.Record) -> dict[str, Any]:
        subject = _subject(row)
        request_id = row["id"]

        async def progress(done: int, total: int) -> None:
            await self.pool.execute(PROGRESS, request_id, done, total)

        async with self.pool.acquire() as conn:
            export = AccessExport(
                conn,
                self.vault,
                await self._cipher(),
                self.settings,
                subject,
                progress,
                request_id=request_id,
            )
            sealed = await self.vault.seal(export.stream(), kind="exports")
            key = await link_key(conn, self.vault.keyring)
            expires = datetime.now(UTC) + timedelta(days=self.settings.retention_exports_days)
            async with conn.transaction():
                await insert_sealed(conn, sealed)
                export_id = await insert_export(
                    conn,
                    key,
                    request_id,
                    sealed.id,
                    sealed.plaintext_size,
                    export.result.files,
                    expires,
                )
        return {
            "export_id": str(export_id),
            "files": export.result.files,
            "recordings": export.result.recordings,
            "size": sealed.plaintext_size,
            "expires_at": expires.isoformat(),
        }

    async def _erase(self, row: asyncpg.Record) -> dict[str, Any]:
        engine = erasure_engine(self.pool, self.vault.store)
        why = Why("subject_request", row["id"])
        if row["subject_type"] == "customer" and row["customer_id"] is not None:
            report = await engine.erase_customer(row["customer_id"], why, datetime.now(UTC).date())
        elif row["subject_type"] == "phone":
            ids = await recordings_by_caller(self.pool, row["phone_number"])
            report = await engine.erase_recordings(ids, why)
        else:
            report = ErasureReport(
                [
                    Decision(
                        "staff",
                        row["id"],
                        "kept",
                        "calls an employee answered are the callers' data too; they go with "
                        "their retention period, and the account is closed by the administrator",
                    )
                ]
            )
        return report.as_json()


def _subject(row: asyncpg.Record) -> Subject:
    key = {
        "customer": str(row["customer_id"]),
        "staff": row["staff_username"],
        "phone": row["phone_number"],
    }[row["subject_type"]]
    return Subject(row["subject_type"], key)
