"""The orphan reaper on both object stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from retention.reaper import OrphanReaper
from storage.db import Pool
from storage.vault import Vault
from tests.retention.helpers import add_recording, object_key_of


async def _bytes() -> AsyncIterator[bytes]:
    yield b"x" * 1000


async def keys(vault: Vault) -> set[str]:
    return {item.key async for item in vault.store.list()}


async def test_unreferenced_and_pending_payloads_go_referenced_and_fresh_ones_stay(
    pool: Pool, vault: Vault
) -> None:
    recording = await add_recording(pool, vault)
    kept = await object_key_of(pool, recording)
    orphan = (await vault.seal(_bytes(), kind="recordings")).object_key  # header never saved
    pending = (await vault.seal(_bytes(), kind="exports")).object_key
    await pool.execute("INSERT INTO pending_object_deletions (object_key) VALUES ($1)", pending)
    await pool.execute(
        "INSERT INTO scheduler_runs (job, tick, node, started_at) VALUES"
        " ('old', 1, 'n', now() - interval '800 days'), ('new', 1, 'n', now())"
    )
    reaper = OrphanReaper(pool, vault.store, keep_runs_days=730)

    fresh = await reaper.run()  # the orphan could be an upload still being written
    assert fresh.pending.objects_deleted == 1
    assert fresh.orphans.objects_deleted == 0
    assert await keys(vault) == {kept, orphan}
    assert await pool.fetchval("SELECT count(*) FROM pending_object_deletions") == 0
    assert fresh.runs_pruned == 1

    aged = await reaper.run(datetime.now(UTC) + timedelta(days=2))
    assert aged.orphans.objects_deleted == 1
    assert await keys(vault) == {kept}
    assert "orphans deleted 1" in aged.summary()
