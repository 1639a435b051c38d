"""The audit log: append-only in the database, hash-chained, verifiable, readable by the DPO."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from api.appkeys import POOL
from audit.log import SYSTEM, Actor, AuditEvent, record, verify_chain
from storage.db import Pool, create_pool
from tests.api.sessions import PASSWORD, Client, headers_for


def event(n: int) -> AuditEvent:
    return AuditEvent(
        "recording.play",
        "ok",
        Actor(uuid.uuid4(), f"user{n}"),
        "recording",
        str(uuid.uuid4()),
        "verify_content",
        {"start": n, "end": n + 10, "note": "Mäkinen ✓"},
    )


async def chain_of(pool: Pool, n: int) -> None:
    for i in range(n):
        await record(pool, event(i))


async def verify(pool: Pool) -> list[str]:
    async with pool.acquire() as conn:
        return (await verify_chain(conn)).problems


async def tamper(pool: Pool, sql: str) -> None:
    """Change the table the way only a database superuser could: triggers off."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete")
        await conn.execute(sql)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete")


async def test_an_untouched_chain_verifies(pool: Pool) -> None:
    await chain_of(pool, 5)
    async with pool.acquire() as conn:
        report = await verify_chain(conn)
    assert report.intact
    assert (report.entries, report.head_seq) == (5, 5)
    assert report.head_hash == await pool.fetchval("SELECT hash FROM audit_log WHERE seq = 5")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET outcome = 'refused' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
        "TRUNCATE audit_log",
    ],
)
async def test_the_database_refuses_changes(pool: Pool, statement: str) -> None:
    await chain_of(pool, 3)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute(statement)
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 3


async def test_an_altered_row_is_named(pool: Pool) -> None:
    await chain_of(pool, 5)
    await tamper(pool, "UPDATE audit_log SET purpose = 'legal' WHERE seq = 3")
    assert await verify(pool) == ["row 3 was altered: its hash does not match its contents"]


async def test_an_altered_timestamp_is_named(pool: Pool) -> None:
    await chain_of(pool, 3)
    await tamper(pool, "UPDATE audit_log SET at = at - interval '1 day' WHERE seq = 2")
    assert await verify(pool) == ["row 2 was altered: its hash does not match its contents"]


async def test_a_removed_row_is_named(pool: Pool) -> None:
    await chain_of(pool, 5)
    await tamper(pool, "DELETE FROM audit_log WHERE seq = 3")
    problems = await verify(pool)
    assert problems[0] == "rows 3..3 are missing (removed)"
    assert problems[1].startswith("row 4 does not follow row 3")


async def test_reordered_rows_are_named(pool: Pool) -> None:
    await chain_of(pool, 5)
    await tamper(
        pool,
        "UPDATE audit_log SET seq = -2 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 4;"
        " UPDATE audit_log SET seq = 4 WHERE seq = -2",
    )
    problems = await verify(pool)
    assert "row 2 was altered: its hash does not match its contents" in problems
    assert any(p.startswith("row 3 does not follow row 2") for p in problems)


async def test_a_rewritten_row_with_a_fresh_hash_breaks_the_next_link(pool: Pool) -> None:
    await chain_of(pool, 4)
    await tamper(pool, "UPDATE audit_log SET hash = sha256(hash) WHERE seq = 2")
    problems = await verify(pool)
    assert "row 2 was altered: its hash does not match its contents" in problems
    assert any(p.startswith("row 3 does not follow row 2") for p in problems)


async def test_concurrent_writers_make_one_gapless_chain(pool: Pool) -> None:
    await asyncio.gather(*(record(pool, event(i)) for i in range(40)))
    assert await pool.fetchval("SELECT array_agg(seq ORDER BY seq) FROM audit_log") == list(
        range(1, 41)
    )
    assert await verify(pool) == []


async def test_an_entry_rolls_back_with_the_change_it_describes(pool: Pool) -> None:
    async def failing_change() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await record(conn, AuditEvent("customer.update", "ok", SYSTEM))
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 0


async def test_logins_are_audited_without_naming_unknown_accounts(staff_api: Client) -> None:
    for username, password in (
        ("dpo", "wrong password!!"),
        ("my secret password", "x" * 12),
        ("dpo", PASSWORD),
    ):
        await staff_api.post("/v1/auth/login", json={"username": username, "password": password})
    rows = await staff_api.app[POOL].fetch(
        "SELECT actor, outcome, details FROM audit_log WHERE action = 'auth.login' ORDER BY seq"
    )
    assert [(r["actor"], r["outcome"], r["details"]["reason"]) for r in rows] == [
        ("dpo", "refused", "wrong_password"),
        (None, "refused", "unknown_account"),
        ("dpo", "ok", "ok"),
    ]


async def test_a_refused_route_is_audited(staff_api: Client) -> None:
    response = await staff_api.get("/v1/audit", headers=await headers_for(staff_api, "trainer"))
    assert response.status == 403
    row = await staff_api.app[POOL].fetchrow(
        "SELECT * FROM audit_log WHERE action = 'access.refused'"
    )
    assert row is not None
    assert (row["actor"], row["outcome"]) == ("trainer", "refused")
    assert row["details"] == {"route": "/v1/audit", "method": "GET"}


async def test_the_dpo_reads_the_log_filtered_and_paged(staff_api: Client) -> None:
    await chain_of(staff_api.app[POOL], 5)
    headers = await headers_for(staff_api, "dpo")
    response = await staff_api.get("/v1/audit?action=recording.play&limit=2", headers=headers)
    assert response.status == 200
    page = await response.json()
    assert [i["actor"] for i in page["items"]] == ["user4", "user3"]
    assert page["items"][0]["purpose"] == "verify_content"
    assert len(page["items"][0]["hash"]) == 64
    second = await staff_api.get(
        f"/v1/audit?action=recording.play&limit=2&cursor={page['next']}", headers=headers
    )
    assert [i["actor"] for i in (await second.json())["items"]] == ["user2", "user1"]
    by_actor = await staff_api.get("/v1/audit?actor=user0", headers=headers)
    assert [i["seq"] for i in (await by_actor.json())["items"]] == [1]
    read = await staff_api.app[POOL].fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'audit.read' AND actor = 'dpo'"
    )
    assert read == 3
    for query, field in (("from=monday", "from"), ("limit=0", "limit"), ("cursor=!!", "cursor")):
        bad = await staff_api.get(f"/v1/audit?{query}", headers=headers)
        assert bad.status == 422
        assert (await bad.json())["errors"][0]["field"] == field


def test_cli_verify_reports_intact_then_broken(database_url: str) -> None:
    async def build(tampered: bool) -> None:
        pool = await create_pool(database_url, min_size=1, max_size=2)
        try:
            if tampered:
                await tamper(pool, "UPDATE audit_log SET actor = 'someone' WHERE seq = 2")
            else:
                await chain_of(pool, 3)
        finally:
            await pool.close()

    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
    env = {**clean_env, "CALLREC_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "callrec.cli", "audit", "verify"]
    asyncio.run(build(False))
    intact = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert intact.returncode == 0, intact.stderr
    assert "audit chain intact: 3 entries, head #3" in intact.stdout
    asyncio.run(build(True))
    broken = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert broken.returncode == 1
    assert "BROKEN: row 2 was altered" in broken.stdout
