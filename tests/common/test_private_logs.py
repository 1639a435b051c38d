"""No personal data in logs: neither callrec's own nor the embedded PostgreSQL's.

A database error's text quotes the row ("Failing row contains (…)"), and the server logs the
failing statement after it; both would put names, numbers and password hashes in a log.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path

import asyncpg
import pytest

from accounts.users import UserError, create_user
from api.appkeys import POOL
from callrec.app import open_database
from common.logs import JsonFormatter, TextFormatter
from common.settings import Settings
from storage.db import Pool
from tests.api.sessions import PASSWORD, Client, add_role_users, headers_for
from tests.register.samples import maija

SECRET_NAME = "Salaisuus-Mäkinotkelma"
SECRET_NUMBER = "+358401234567"


def formatted(records: list[logging.LogRecord]) -> str:
    """Every record as both formatters write it."""
    return "\n".join(f.format(r) for r in records for f in (JsonFormatter(), TextFormatter()))


async def test_the_embedded_servers_log_holds_no_row_values(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", log_format="text", scheduler=False)
    async with open_database(settings) as pool:
        await create_user(pool, "owner-account", PASSWORD, ["dpo"])
        password_hash = await pool.fetchval("SELECT password_hash FROM users")
        with pytest.raises(UserError):  # unique: "Key (username)=(owner-account)"
            await create_user(pool, "owner-account", PASSWORD, ["dpo"])
        with pytest.raises(asyncpg.CheckViolationError):  # "Failing row contains (…hash…)"
            await pool.execute("UPDATE users SET username = '-" + SECRET_NAME + "'")
        with pytest.raises(asyncpg.InvalidTextRepresentationError):  # the message quotes it
            await pool.fetchval("SELECT $1::text::int", SECRET_NAME)
    log = (tmp_path / "var" / "pgdata" / "log").read_text()
    assert "database system is ready to accept connections" in log  # the log is written
    for value in (password_hash, "owner-account", SECRET_NAME, SECRET_NUMBER, "Failing row"):
        assert value not in log


async def test_a_database_error_in_a_request_logs_its_type_not_its_text(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    await add_role_users(client)
    pool = client.app[POOL]
    # Make the database refuse this customer, as a constraint the code does not expect would.
    await pool.execute(
        "ALTER TABLE customers ADD CONSTRAINT test_refuses CHECK (last_name <> '"
        + SECRET_NAME
        + "')"
    )
    headers = await headers_for(client, "customer-service")
    with caplog.at_level(logging.DEBUG):
        response = await client.post(
            "/v1/customers", json=maija(last_name=SECRET_NAME), headers=headers
        )
    assert response.status != 201
    assert SECRET_NAME not in await response.text()
    logged = formatted(caplog.records)
    if response.status >= 500:  # unexpected errors are still named, by type
        assert "CheckViolationError (SQLSTATE 23514)" in logged
    for value in (SECRET_NAME, SECRET_NUMBER, "131052-308T", "Failing row"):
        assert value not in logged


async def test_exceptions_are_logged_by_type_and_sqlstate_only(
    pool: Pool, caplog: pytest.LogCaptureFixture
) -> None:
    await pool.execute("CREATE TABLE phones (number text CHECK (number LIKE '0%'))")
    try:
        await pool.execute("INSERT INTO phones VALUES ($1)", SECRET_NUMBER)
    except asyncpg.CheckViolationError as exc:
        caught = exc
    log = logging.getLogger("tests.private_logs")
    message = "wrapping " + SECRET_NAME
    with caplog.at_level(logging.DEBUG):
        try:
            raise RuntimeError(message) from caught
        except RuntimeError:
            log.exception("insert failed")
        log.warning("insert failed: %s", caught)
        log.error(caught)
    logged = formatted(caplog.records)
    assert SECRET_NUMBER not in logged
    assert SECRET_NAME not in logged
    assert "CheckViolationError (SQLSTATE 23514)" in logged
    assert "insert failed: CheckViolationError (SQLSTATE 23514)" in logged
    assert "test_private_logs.py" in logged  # the frames are still there to debug with


async def test_a_task_that_failed_unobserved_is_logged_without_its_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """asyncio's own handler writes its context's reprs into the message: a failed task's
    ``exception=DataError('… $1: +358…')``, a callback's arguments."""

    async def fails() -> None:
        raise ValueError(f"invalid input for query argument $1: {SECRET_NUMBER!r}")

    loop = asyncio.get_running_loop()
    with caplog.at_level(logging.DEBUG):
        task = asyncio.ensure_future(fails())
        await asyncio.sleep(0)
        del task
        gc.collect()  # "Task exception was never retrieved"
        loop.call_exception_handler(
            {"message": "callback failed", "handle": loop.call_soon(print, SECRET_NAME)}
        )
    records = [r for r in caplog.records if r.name == "asyncio"]
    assert len(records) == 2
    logged = formatted(records)
    assert SECRET_NUMBER not in logged
    assert SECRET_NAME not in logged
    assert "Task exception was never retrieved" in logged
    assert "ValueError" in logged  # the kind and the frames remain
