"""Forward-only numbered SQL migrations, each applied in its own transaction and recorded.

Files in ``storage/migrations`` are named ``NNNN_description.sql`` and never edited once
released: a changed checksum stops the run, so a database never silently diverges from the
code. An advisory lock lets any number of replicas start at once; one migrates, the others
wait and then find nothing to do.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from storage.db import Connection, Pool

log = logging.getLogger(__name__)

MIGRATIONS_DIR: Final = Path(__file__).parent / "migrations"
_NAME: Final = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK_ID: Final = 0x63616C6C72656331  # "callrec1": the migration advisory lock

CREATE_TABLE: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    sha256     text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
SELECT_APPLIED: Final = "SELECT version, name, sha256 FROM schema_migrations ORDER BY version"
SCHEMA_VERSION: Final = "SELECT max(version) FROM schema_migrations"
INSERT_APPLIED: Final = "INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)"


class MigrationError(Exception):
    """The migrations on disk and in the database disagree."""


@dataclass(frozen=True)
class Migration:
    """One SQL file."""

    version: int
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        """Checksum that detects an edited migration."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read and order the migration files, refusing gaps and duplicates."""
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file name not NNNN_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), path.name, path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {expected:04d} missing before {migration.name}")
    return found


async def migrate(conn: Connection, folder: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; return the names applied (empty when up to date)."""
    migrations = load_migrations(folder)
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
    try:
        await conn.execute(CREATE_TABLE)
        applied = {row["version"]: row for row in await conn.fetch(SELECT_APPLIED)}
        unknown = set(applied) - {m.version for m in migrations}
        if unknown:
            raise MigrationError(
                f"the database has migrations this code does not know: {sorted(unknown)}; "
                "run a newer callrec"
            )
        done: list[str] = []
        for migration in migrations:
            row = applied.get(migration.version)
            if row is not None:
                if row["sha256"] != migration.sha256:
                    raise MigrationError(
                        f"{migration.name} was changed after it was applied; "
                        "write a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    INSERT_APPLIED, migration.version, migration.name, migration.sha256
                )
            log.info("applied migration %s", migration.name)
            done.append(migration.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)


async def schema_version(db: Connection | Pool) -> int | None:
    """The newest migration applied to this database (None before the first)."""
    version = await db.fetchval(SCHEMA_VERSION)
    return None if version is None else int(version)
