"""PostgreSQL connection pool and helpers shared by every package that stores rows."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final
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


CONNECT_TIMEOUT_SECONDS: Final = 10.0
# Errors that mean "the server is not there (now)", never "this query is wrong": a lost or
# refused connection, a server shutting down or starting up, no connection slot free. Not
# all of class 08: a protocol violation (08P01) would fail again on a retry.
_UNAVAILABLE: Final = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.ConnectionFailureError,
    asyncpg.ClientCannotConnectError,
    asyncpg.ConnectionRejectionError,
    asyncpg.TransactionResolutionUnknownError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


# Errors of a server that is there but takes no such work now: read-only (a standby after a
# failover), out of disk or memory, or a transaction that lost a race. The statement was
# refused, so nothing was committed; a retry later may well succeed.
_REFUSING_NOW: Final = (
    asyncpg.ReadOnlySQLTransactionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)


class DatabaseUnavailable(ConnectionError):
    """No connection to PostgreSQL could be opened; an ``OSError``, so every handler that
    already treats network failures as retryable keeps doing so."""


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what it was raised while handling) is a lost or refused
    database connection, or a server that takes no writes now: worth a 503 and a retry, not
    a 500. asyncpg raises an ``InterfaceError`` on leaving a transaction whose connection
    died, hence the chain."""
    return _in_chain(exc, (DatabaseUnavailable, *_UNAVAILABLE, *_REFUSING_NOW))


def may_have_committed(exc: BaseException) -> bool:
    """True when the connection was lost during a transaction, so its COMMIT may have
    landed without the answer reaching us (a refused connect or statement committed
    nothing)."""
    return _in_chain(exc, _UNAVAILABLE) and not isinstance(exc, DatabaseUnavailable)


def _in_chain(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kinds):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _connect(*args: Any, **kwargs: Any) -> asyncpg.Connection[asyncpg.Record]:
    """``asyncpg.connect`` for the pool, with a refused or timed-out connect named as such;
    the type of the error is kept, its text (which may carry the host) is not."""
    try:
        connection: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(*args, **kwargs)
    except (OSError, TimeoutError, *_UNAVAILABLE) as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {type(exc).__name__}") from None
    return connection


async def _init_connection(conn: Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any) -> Pool:
    """Open a pool, prove it works with ``SELECT 1`` and log where it points (masked).

    Connections lost while the pool runs (a restarted server) are opened again on the next
    acquire; a connect gives up after ``CONNECT_TIMEOUT_SECONDS`` so a request waiting on an
    unreachable server soon answers 503 instead of holding its slot for a minute.
    """
    kwargs.setdefault("timeout", CONNECT_TIMEOUT_SECONDS)
    pool: Pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, connect=_connect, **kwargs
    )
    await pool.fetchval("SELECT 1")
    log.info("database pool ready", extra={"dsn": mask_dsn(dsn)})
    return pool


# The next page of ids past a cutoff: (cutoff, keyset after, limit) → ids in id order.
DuePage = Callable[[datetime, uuid.UUID, int], Awaitable[list[uuid.UUID]]]


def due_page(pool: Pool, query: str) -> DuePage:
    """Pages of the rows whose period has passed, for the retention sweep: ``query`` takes the
    cutoff ($1), the last id of the previous page ($2) and the page size ($3), and selects
    ``id`` in id order. Each owner of a table keeps its own query; the paging is this one."""

    async def page(cutoff: datetime, after: uuid.UUID, limit: int) -> list[uuid.UUID]:
        return [row["id"] for row in await pool.fetch(query, cutoff, after, limit)]

    return page


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


@contextlib.asynccontextmanager
async def listening(pool: Pool, channel: str, wake: asyncio.Event) -> AsyncIterator[None]:
    """While inside, a NOTIFY on ``channel`` sets ``wake`` (the job queues' workers sleep on
    it). Without LISTEN (a pooler in transaction mode, the database away) the workers still
    poll on their own timer, so this only warns."""

    def notified(*_args: object) -> None:
        wake.set()

    listener = None
    try:
        listener = await pool.acquire()
        await listener.add_listener(channel, notified)
    except (OSError, asyncpg.PostgresError):
        log.warning("LISTEN %s unavailable; the workers poll", channel)
    try:
        yield
    finally:
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.remove_listener(channel, notified)
            await pool.release(listener)
