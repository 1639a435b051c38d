"""The retention sweep and the audit-log prune against real PostgreSQL and each store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from audit.log import SYSTEM, AuditEvent, record, verify_chain
from common.settings import Settings
from retention.sweep import RetentionSweep
from rights.sweeps import erasure_engine, retention_sweep
from storage.db import Pool
from storage.vault import Vault
from tests.callrec.test_cli import run
from tests.retention.helpers import add_customer, add_recording

LATER = timedelta(days=100)  # past the 90-day default for recordings, inside the others


async def test_each_category_goes_after_its_own_period(
    pool: Pool, vault: Vault, settings: Settings
) -> None:
    now = datetime.now(UTC)
    await add_recording(pool, vault, started_at=now - timedelta(days=10))  # goes
    held = await add_recording(pool, vault, started_at=now - timedelta(days=10))
    await pool.execute(
        "INSERT INTO legal_holds (id, reason) VALUES ($1, 'claim')", hold := uuid.uuid4()
    )
    await pool.execute("INSERT INTO legal_hold_recordings VALUES ($1, $2)", hold, held)
    training = await add_recording(pool, vault, started_at=now - timedelta(days=10))
    await pool.execute("UPDATE recordings SET training_released_at = now() WHERE id = $1", training)
    recent = await add_recording(pool, vault, started_at=now + LATER)
    applicant = await add_customer(pool, "H-1")
    await pool.execute("UPDATE customers SET roles = '{applicant}' WHERE id = $1", applicant)

    def sweep(dry_run: bool, later: timedelta) -> RetentionSweep:
        engine = erasure_engine(pool, vault.store, dry_run=dry_run)
        return retention_sweep(pool, engine, settings, now=now + later)

    seen: list[str] = []
    planned = await sweep(True, LATER).run(on_progress=lambda name, n: seen.append(name))
    assert planned.counts()["recordings"] == {"recording.erased": 1, "recording.kept": 1}
    assert "recordings" in seen
    assert await pool.fetchval("SELECT count(*) FROM recordings") == 4

    report = await sweep(False, LATER).run()
    assert report.counts()["recordings"] == {"recording.erased": 1, "recording.kept": 1}
    assert report.counts()["training"] == {}
    left = {row["id"] for row in await pool.fetch("SELECT id FROM recordings")}
    assert left == {held, training, recent}
    assert await pool.fetchval("SELECT count(*) FROM customers") == 1

    report = await sweep(False, timedelta(days=400)).run()
    assert report.counts()["training"] == {"recording.erased": 1}
    assert report.counts()["applicants"] == {"customer.erased": 1}
    assert await pool.fetchval("SELECT count(*) FROM customers") == 0


async def test_the_audit_log_is_pruned_behind_a_checkpoint(
    pool: Pool, vault: Vault, settings: Settings
) -> None:
    for _ in range(5):
        await record(pool, AuditEvent("recording.play", "ok", SYSTEM))
    engine = erasure_engine(pool, vault.store)
    later = datetime.now(UTC) + timedelta(days=settings.retention_audit_log_days + 1)
    report = await retention_sweep(pool, engine, settings, now=later).run()
    assert report.audit_entries_pruned == 5
    await record(pool, AuditEvent("recording.play", "ok", SYSTEM))
    async with pool.acquire() as conn:
        chain = await verify_chain(conn)
        assert chain.intact, chain.problems
        assert chain.entries == 2  # the sweep's own entry, then the new one
        await conn.execute("DELETE FROM audit_checkpoints")
        assert not (await verify_chain(conn)).intact


async def test_retention_run_dry_run_from_the_command_line(
    pool: Pool, database_url: str, tmp_path: Path
) -> None:
    expired = uuid.uuid4()
    await pool.execute(
        "INSERT INTO recordings (id, external_id, status, started_at, declared_duration_seconds,"
        " answered_by, direction, channel_layout, notice_played)"
        " VALUES ($1, 'old-call', 'ready', now() - interval '1 year', 60, 'maija.m', 'inbound',"
        " 'mono', true)",
        expired,
    )
    env = {
        "CALLREC_DATABASE_URL": database_url,
        "CALLREC_DATA_DIR": str(tmp_path),
        "CALLREC_KEYRING": str(tmp_path / "keyring.txt"),
    }
    assert run(["keys", "init"], env).returncode == 0
    result = run(["retention", "run", "--dry-run"], env)
    assert result.returncode == 0, result.stderr
    assert "would erase (dry run, nothing changed)" in result.stdout
    assert f"recording {expired}: erased (retention:recordings)" in result.stdout
    assert await pool.fetchval("SELECT count(*) FROM recordings") == 1
