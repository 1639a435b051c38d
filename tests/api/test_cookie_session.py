"""The console's cookie session: HttpOnly SameSite cookie, CSRF header on every change."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import POOL
from callrec.app import create_app
from common.settings import Settings
from tests.api.sessions import PASSWORD, Client, add_role_users

NEW_USER = {"username": "uusi.kayttaja", "password": "another long password", "roles": ["trainer"]}


@pytest.fixture
async def browser(settings: Settings) -> AsyncIterator[Client]:
    """A client with a cookie jar, like a browser."""
    async with TestClient(TestServer(create_app(settings, run_worker=False))) as client:
        await add_role_users(client)
        yield client


async def log_in(client: Client, username: str = "admin") -> str:
    response = await client.post(
        "/v1/auth/session", json={"username": username, "password": PASSWORD}
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert set(body) == {"expires_at", "csrf_token"}  # the session token is only in the cookie
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests; behind TLS see below
    return str(body["csrf_token"])


async def users(client: Client) -> int:
    return int(await client.app[POOL].fetchval("SELECT count(*) FROM users"))


async def test_a_cookie_session_reads_freely_and_changes_only_with_the_csrf_header(
    browser: Client,
) -> None:
    csrf = await log_in(browser)
    me = await browser.get("/v1/auth/me")
    assert me.status == 200
    assert (await me.json())["csrf_token"] == csrf
    before = await users(browser)

    forged = await browser.post("/v1/users", json=NEW_USER)  # what another site could send
    assert forged.status == 403
    assert forged.content_type == "application/problem+json"
    assert "X-CSRF-Token" in (await forged.json())["detail"]
    wrong = await browser.post("/v1/users", json=NEW_USER, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status == 403
    assert await users(browser) == before  # nothing was created

    made = await browser.post("/v1/users", json=NEW_USER, headers={"X-CSRF-Token": csrf})
    assert made.status == 201


async def test_logging_out_needs_the_csrf_header_and_ends_the_session(browser: Client) -> None:
    csrf = await log_in(browser, "dpo")
    assert (await browser.delete("/v1/auth/session")).status == 403
    assert (await browser.get("/v1/auth/me")).status == 200  # still logged in

    out = await browser.delete("/v1/auth/session", headers={"X-CSRF-Token": csrf})
    assert out.status == 200
    assert 'callrec_session=""' in out.headers["Set-Cookie"]
    browser.session.cookie_jar.clear()
    assert (await browser.get("/v1/auth/me")).status == 401


async def test_a_revoked_cookie_is_refused(browser: Client) -> None:
    await log_in(browser, "trainer")
    await browser.app[POOL].execute("UPDATE sessions SET expires_at = now()")
    refused = await browser.get("/v1/auth/me")
    assert refused.status == 401
    assert "log in again" in (await refused.json())["detail"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": "admin", "password": "wrong password!"}, 401),
        ({"username": "admin"}, 422),
        ({"username": 5, "password": PASSWORD}, 422),
    ],
)
async def test_a_failed_console_login_sets_no_cookie(
    browser: Client, body: dict[str, object], status: int
) -> None:
    response = await browser.post("/v1/auth/session", json=body)
    assert response.status == status
    assert response.content_type == "application/problem+json"
    assert "Set-Cookie" not in response.headers
    assert (await browser.get("/v1/auth/me")).status == 401


async def test_behind_tls_the_cookie_is_secure(browser: Client) -> None:
    response = await browser.post(
        "/v1/auth/session",
        json={"username": "admin", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in response.headers["Set-Cookie"]


async def test_bearer_clients_need_no_csrf_header(browser: Client) -> None:
    login = await browser.post("/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    token = (await login.json())["token"]
    made = await browser.post(
        "/v1/users", json=NEW_USER, headers={"Authorization": f"Bearer {token}"}
    )
    assert made.status == 201
