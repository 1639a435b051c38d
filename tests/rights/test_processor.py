"""The rights processor and the erasure engine when the object store fails under them."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, cast

import pytest

from common.logs import JsonFormatter
from common.settings import Settings
from retention.erasure import Why
from rights.processor import RightsProcessor
from rights.sweeps import erasure_engine
from storage.db import Pool
from storage.objects import ObjectStore, ObjectStoreUnavailable
from storage.vault import Vault
from tests.retention.helpers import add_recording, object_key_of

CALLER = "+358401234567"


class DeleteRefusingStore:
    """The real store, except that every delete fails as if the server were down."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def delete(self, key: str) -> None:
        raise ObjectStoreUnavailable("object store unreachable")


async def processing_request(pool: Pool, phone: str = CALLER) -> uuid.UUID:
    request_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO subject_requests (id, kind, subject_type, phone_number, channel, received_at,"
        " due_at, legal_due_at, status) VALUES ($1, 'access', 'phone', $2, 'phone', now(),"
        " now() + interval '14 days', now() + interval '1 month', 'processing')",
        request_id,
        phone,
    )
    return request_id


async def test_an_export_whose_audio_is_gone_is_retried_not_lost(
    pool: Pool, vault: Vault, settings: Settings
) -> None:
    recording = await add_recording(pool, vault, caller_number=CALLER)
    key = await object_key_of(pool, recording)
    await vault.store.delete(key)  # the storage lost it under the service
    request_id = await processing_request(pool)

    assert await RightsProcessor(pool, vault, settings).run_once() == request_id

    row = await pool.fetchrow(
        "SELECT status, error, leased_until > now() AS waiting FROM subject_requests"
    )
    assert row is not None
    assert (row["status"], row["waiting"]) == ("processing", True)
    assert "retried" in row["error"]
    assert await pool.fetchval("SELECT count(*) FROM exports") == 0
    assert await RightsProcessor(pool, vault, settings).run_once() is None  # backing off


async def one_piece(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_a_request_that_keeps_failing_backs_off_and_the_others_are_served(
    pool: Pool, vault: Vault, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A tampered object fails the export's decryption: that request waits, longer each time."""
    caplog.set_level(logging.INFO, logger="rights.processor")
    recording = await add_recording(pool, vault, caller_number=CALLER)
    key = await object_key_of(pool, recording)
    size = await vault.store.size(key)
    data = bytearray(b"".join([piece async for piece in vault.store.get_range(key, 0, size)]))
    data[size // 2] ^= 1
    await vault.store.put(key, one_piece(bytes(data)))
    poisoned = await processing_request(pool)
    healthy = await processing_request(pool, phone="+358409999999")
    processor = RightsProcessor(pool, vault, settings)

    assert set(await processor.run_until_idle()) == {poisoned, healthy}

    status = (
        "SELECT status, error, leased_until - now() AS wait FROM subject_requests WHERE id = $1"
    )
    first = await pool.fetchrow(status, poisoned)
    assert first is not None
    assert first["status"] == "processing"
    assert first["error"] == "AgeError; retried in 5 min (attempt 1)"
    assert await pool.fetchval("SELECT status FROM subject_requests WHERE id = $1", healthy) == (
        "completed"
    )
    await pool.execute("UPDATE subject_requests SET leased_until = now() WHERE id = $1", poisoned)
    assert await processor.run_once() == poisoned
    second = await pool.fetchrow(status, poisoned)
    assert second is not None
    assert second["error"] == "AgeError; retried in 10 min (attempt 2)"
    assert second["wait"] > timedelta(minutes=9)
    assert await pool.fetchval("SELECT count(*) FROM exports") == 1  # the healthy one's only
    failures = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(failures) == 2
    logged = json.loads(JsonFormatter().format(failures[0]))
    assert logged["msg"] == "subject request failed; it will be retried: AgeError"
    assert logged["subject_request_id"] == str(poisoned)
    assert "authentication" not in caplog.text  # AgeError's own text stays out of the log


async def test_payloads_a_store_cannot_delete_stay_queued_and_unreadable(
    pool: Pool, vault: Vault
) -> None:
    recording = await add_recording(pool, vault)
    key = await object_key_of(pool, recording)
    engine = erasure_engine(pool, cast(ObjectStore, DeleteRefusingStore(vault.store)))

    report = await engine.erase_recordings([recording], Why("manual"))

    assert (report.objects_deleted, report.objects_pending) == (0, 1)
    assert await pool.fetchval("SELECT count(*) FROM sealed_objects") == 0  # key gone: shredded
    assert await pool.fetchval("SELECT object_key FROM pending_object_deletions") == key
    await vault.store.size(key)  # the bytes are still there, for the reaper to retry
