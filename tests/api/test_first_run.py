"""First run: the one-time setup token and ``POST /v1/setup``."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from accounts.setup import issue_setup_token
from accounts.users import create_user
from api.appkeys import POOL
from callrec.firstrun import setup_link

Client = TestClient[web.Request, web.Application]
GOOD = "my own admin phrase"


async def _setup(client: Client, token: str, **fields: object) -> tuple[int, Any]:
    body = {"token": token, "username": "first.admin", "password": GOOD, **fields}
    response = await client.post("/v1/setup", json=body)
    return response.status, await response.json()


async def test_the_setup_link_creates_the_first_admin_once(client: Client) -> None:
    pool = client.app[POOL]
    token = await issue_setup_token(pool)
    assert token is not None
    stored = await pool.fetch("SELECT * FROM setup_tokens")
    assert len(stored) == 1
    assert token.encode() not in bytes(stored[0]["token_sha256"])
    # Bad input says what to fix and leaves the token usable.
    status, problem = await _setup(client, token, password="password1234")
    assert status == 422
    assert problem["errors"][0]["field"] == "password"
    status, problem = await _setup(client, token, password="first.admin is me")
    assert status == 422
    assert "username" in problem["errors"][0]["message"]
    status, problem = await _setup(client, token, username="Not Valid!")
    assert status == 422
    assert problem["errors"][0]["field"] == "username"
    status, problem = await _setup(client, 12345)  # type: ignore[arg-type]
    assert status == 422
    assert problem["errors"][0]["field"] == "token"
    huge = await client.post("/v1/setup", json={"token": "t" * 70_000})
    assert huge.status == 413
    malformed = await client.post(
        "/v1/setup", data=b"[", headers={"Content-Type": "application/json"}
    )
    assert malformed.status == 422
    status, problem = await _setup(client, token + "x")
    assert status == 404
    assert problem["type"].endswith("/not-found")
    assert await pool.fetchval("SELECT count(*) FROM users") == 0

    status, created = await _setup(client, token)
    assert status == 201
    assert created["username"] == "first.admin"
    roles = await pool.fetchval("SELECT roles FROM users WHERE username = 'first.admin'")
    assert roles == ["admin"]
    login = {"username": "first.admin", "password": GOOD}
    assert (await client.post("/v1/auth/login", json=login)).status == 200
    # Used: the same link and any new one are refused; no new token is issued.
    assert (await _setup(client, token, username="second.admin"))[0] == 404
    assert await issue_setup_token(pool) is None
    assert await pool.fetchval("SELECT count(*) FROM setup_tokens") == 0
    audit = await pool.fetch(
        "SELECT outcome, object_id FROM audit_log WHERE action = 'setup.first_admin' ORDER BY seq"
    )
    assert [r["outcome"] for r in audit] == ["refused", "ok", "refused"]
    assert audit[1]["object_id"] == created["id"]
    everything = str([dict(r) for r in await pool.fetch("SELECT * FROM audit_log")])
    assert token not in everything
    assert GOOD not in everything


async def test_an_expired_or_replaced_token_is_refused(client: Client) -> None:
    pool = client.app[POOL]
    first = await issue_setup_token(pool)
    second = await issue_setup_token(pool)  # a restart prints a new link: the old one dies
    assert first is not None
    assert second is not None
    assert first != second
    assert (await _setup(client, first))[0] == 404
    await pool.execute("UPDATE setup_tokens SET expires_at = now() - interval '1 second'")
    assert (await _setup(client, second))[0] == 404
    assert await pool.fetchval("SELECT count(*) FROM users") == 0


async def test_no_token_once_an_admin_exists_even_from_the_cli(client: Client) -> None:
    pool = client.app[POOL]
    token = await issue_setup_token(pool)
    assert token is not None
    await create_user(pool, "cli-admin", GOOD, ["admin"])  # callrec users add keeps working
    assert (await _setup(client, token))[0] == 404
    assert await issue_setup_token(pool) is None


def test_the_printed_link_names_a_reachable_host() -> None:
    assert setup_link("127.0.0.1", 8080, "abc") == "http://127.0.0.1:8080/#/setup?token=abc"
    assert setup_link("0.0.0.0", 80, "abc") == "http://localhost:80/#/setup?token=abc"  # noqa: S104
    assert setup_link("::1", 8080, "abc") == "http://[::1]:8080/#/setup?token=abc"
