"""PostgreSQL connection pool and helpers shared by every package that stores rows."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Pool = asyncpg.Pool[asyncpg.Record]
    Connection = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:  # asyncpg's classes are not subscriptable at run time
    Pool = asyncpg.Pool
    Connection = asyncpg.Connection


def mask_dsn(dsn: str) -> str:
    """The DSN with its password replaced, safe for logs."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def _init_connection(conn: Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any) -> Pool:
    """Open a pool, prove it works with ``SELECT 1`` and log where it points (masked)."""
    pool: Pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, **kwargs
    )
    await pool.fetchval("SELECT 1")
    log.info("database pool ready", extra={"dsn": mask_dsn(dsn)})
    return pool


async def fetch_newest_first(
    conn: Connection,
    query: str,
    owner_id: uuid.UUID,
    before: tuple[datetime, uuid.UUID],
    limit: int,
) -> list[dict[str, Any]]:
    """One page of a newest-first log as JSON: ``query`` takes the owner ($1), the
    ``(at, id)`` to continue before ($2, $3) and the page size ($4)."""
    return [jsonable(row) for row in await conn.fetch(query, owner_id, *before, limit)]


def jsonable(row: Any, *, drop: Iterable[str] = ()) -> dict[str, Any]:
    """A record as JSON-ready values (ids and dates as strings), without the ``drop`` columns."""
    skip = set(drop)
    return {key: _json_value(value) for key, value in row.items() if key not in skip}


def _json_value(value: object) -> object:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    return value
