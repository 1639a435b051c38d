"""Recordings with real sealed objects, inserted directly: erasure and retention care about
rows, headers and payloads, not about audio, so these skip the webhook and ffmpeg."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from storage.db import Pool
from storage.vault import Vault, insert_sealed

INSERT_RECORDING = """
INSERT INTO recordings (id, external_id, status, started_at, declared_duration_seconds,
    answered_by, caller_number, direction, channel_layout, notice_played, customer_id,
    audio_object_id)
VALUES ($1, $2, 'ready', $3, 60, $4, $5, 'inbound', 'mono', true, $6, $7)
"""


async def _payload(size: int) -> AsyncIterator[bytes]:
    yield os.urandom(size)


async def add_recording(
    pool: Pool,
    vault: Vault,
    *,
    started_at: datetime | None = None,
    customer_id: uuid.UUID | None = None,
    caller_number: str | None = "+358401234567",
    answered_by: str = "maija.m",
    size: int = 70_000,
) -> uuid.UUID:
    """A ``ready`` recording whose audio is a sealed object of ``size`` random bytes."""
    sealed = await vault.seal(_payload(size), kind="recordings")
    recording_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await insert_sealed(conn, sealed)
        await conn.execute(
            INSERT_RECORDING,
            recording_id,
            f"test-{recording_id.hex}",
            started_at or datetime.now(UTC),
            answered_by,
            caller_number,
            customer_id,
            sealed.id,
        )
    return recording_id


async def add_customer(pool: Pool, number: str = "A-1") -> uuid.UUID:
    """A bare customer row (the register's API is tested elsewhere)."""
    customer_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO customers (id, customer_number, first_name, last_name) VALUES ($1, $2, $3, $4)",
        customer_id,
        number,
        "Maija",
        "Mäkinotkelma",
    )
    return customer_id


async def object_key_of(pool: Pool, recording_id: uuid.UUID) -> str:
    """The object-store key of a recording's audio."""
    key: str = await pool.fetchval(
        "SELECT s.object_key FROM recordings r JOIN sealed_objects s ON s.id = r.audio_object_id"
        " WHERE r.id = $1",
        recording_id,
    )
    return key
