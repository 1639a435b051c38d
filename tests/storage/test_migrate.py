"""Migrations: an empty database reaches the latest schema, and a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from storage.migrate import MigrationError, load_migrations, migrate

SCHEMA_SNAPSHOT = """
SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
"""


async def test_migrates_empty_database_then_second_run_is_a_no_op(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        applied = await migrate(conn)
        assert applied == [m.name for m in load_migrations()]
        before = await conn.fetch(SCHEMA_SNAPSHOT)
        assert await migrate(conn) == []
        assert await conn.fetch(SCHEMA_SNAPSHOT) == before
        versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in versions] == list(range(1, len(applied) + 1))
    finally:
        await conn.close()


async def test_edited_migration_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x int);")
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await migrate(conn, tmp_path) == ["0001_first.sql"]
        (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x bigint);")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, tmp_path)
    finally:
        await conn.close()


async def test_failing_migration_rolls_back_whole_file(
    empty_database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE b (y int); SELECT nonsense;")
    conn = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(asyncpg.PostgresError):
            await migrate(conn, tmp_path)
        assert await conn.fetchval("SELECT to_regclass('b')") is None
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == 1
    finally:
        await conn.close()


def test_gaps_and_bad_names_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0003_c.sql").write_text("")
    with pytest.raises(MigrationError, match="0002 missing"):
        load_migrations(tmp_path)
    (tmp_path / "4_bad.sql").write_text("")
    with pytest.raises(MigrationError, match="NNNN_name"):
        load_migrations(tmp_path)
