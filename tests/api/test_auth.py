"""Accounts, login, lockout, sessions and the deny-by-default permission check."""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from accounts.roles import ROLE_PERMISSIONS, Permission
from api.appkeys import POOL
from api.permissions import requirement_of
from callrec.app import create_app
from common.settings import Settings
from tests.api.sessions import PASSWORD, Client, add_role_users, bearer, token_for


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(settings))) as client:
        await add_role_users(client)
        yield client


async def test_login_me_logout(api: Client) -> None:
    token = await token_for(api, "dpo")
    me = await api.get("/v1/auth/me", headers=bearer(token))
    body = await me.json()
    assert body["username"] == "dpo"
    assert "audit:read" in body["permissions"]
    assert body["purposes"] == ["legal", "subject_request"]  # the console offers these only
    assert (await api.post("/v1/auth/logout", headers=bearer(token))).status == 200
    again = await api.get("/v1/auth/me", headers=bearer(token))
    assert again.status == 401
    assert "revoked" in (await again.json())["detail"]


async def test_tokens_are_stored_hashed(api: Client) -> None:
    token = await token_for(api, "admin")
    stored = await api.app[POOL].fetch("SELECT token_sha256 FROM sessions")
    assert all(token.encode() not in bytes(r["token_sha256"]) for r in stored)


async def test_expired_session_is_refused(api: Client) -> None:
    token = await token_for(api, "admin")
    await api.app[POOL].execute("UPDATE sessions SET expires_at = now() - interval '1 second'")
    assert (await api.get("/v1/auth/me", headers=bearer(token))).status == 401


async def test_five_failures_lock_the_account_for_15_minutes(api: Client) -> None:
    for _ in range(5):
        response = await api.post(
            "/v1/auth/login", json={"username": "trainer", "password": "wrong password!"}
        )
        assert response.status == 401
    locked = await api.post("/v1/auth/login", json={"username": "trainer", "password": PASSWORD})
    assert locked.status == 401
    until = await api.app[POOL].fetchval(
        "SELECT locked_until - now() FROM users WHERE username = 'trainer'"
    )
    assert 14 * 60 < until.total_seconds() <= 15 * 60
    await api.app[POOL].execute("UPDATE users SET locked_until = now() - interval '1 second'")
    assert await token_for(api, "trainer")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"username": "x"}, 422, "password"),
        ({"password": "x"}, 422, "username"),
        ([1, 2], 422, "body"),
        ({"username": "nobody", "password": "whatever at all"}, 401, None),
    ],
)
async def test_bad_login_requests(
    api: Client, body: object, status: int, field: str | None
) -> None:
    response = await api.post("/v1/auth/login", json=body)
    assert response.status == status
    problem = await response.json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    if field:
        assert problem["errors"][0]["field"] == field


async def test_login_needs_json(api: Client) -> None:
    response = await api.post("/v1/auth/login", data="username=a&password=b")
    assert response.status == 415


async def test_admin_manages_users_and_others_cannot(api: Client) -> None:
    admin = bearer(await token_for(api, "admin"))
    created = await api.post(
        "/v1/users",
        headers=admin,
        json={
            "username": "maija.m",
            "password": PASSWORD,
            "roles": ["customer_service"],
            "extension": "2041",
        },
    )
    assert created.status == 201
    listed = await (await api.get("/v1/users?limit=2", headers=admin)).json()
    assert len(listed["items"]) == 2
    assert listed["next"] == listed["items"][-1]["username"]
    rest = await (await api.get(f"/v1/users?after={listed['next']}", headers=admin)).json()
    assert "maija.m" in [u["username"] for u in listed["items"] + rest["items"]]
    for role in ("customer-service", "trainer", "dpo", "housing-advisor"):
        token = bearer(await token_for(api, role))
        assert (await api.get("/v1/users", headers=token)).status == 403
        assert (await api.post("/v1/users", headers=token, json={})).status == 403
    assert (await api.get("/v1/users")).status == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "short.pw", "password": "too short", "roles": ["dpo"]}, "password"),
        ({"username": "Bad Name", "password": PASSWORD, "roles": ["dpo"]}, "username"),
        ({"username": "dpo", "password": PASSWORD, "roles": ["dpo"]}, "username"),
        ({"username": "nobody2", "password": PASSWORD, "roles": ["root"]}, "roles"),
        ({"username": "nobody3", "password": PASSWORD, "roles": "dpo"}, "roles"),
    ],
)
async def test_bad_user_requests_are_422(api: Client, body: dict[str, object], field: str) -> None:
    admin = bearer(await token_for(api, "admin"))
    response = await api.post("/v1/users", headers=admin, json=body)
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == field


async def test_every_route_declares_a_requirement(api: Client) -> None:
    undeclared = [
        f"{route.method} {route.resource.canonical}"
        for route in api.app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and requirement_of(route.handler) is None
    ]
    assert undeclared == []


def test_role_table_matches_the_architecture() -> None:
    assert ROLE_PERMISSIONS["admin"] == {Permission.MANAGE_USERS}
    assert Permission.READ_AUDIT in ROLE_PERMISSIONS["dpo"]
    assert ROLE_PERMISSIONS["trainer"] == {
        Permission.PLAY_RECORDINGS,
        Permission.LIST_TRAINING_RECORDINGS,
        Permission.ANNOTATE_TRAINING,
        Permission.KEEP_TRAINING_COLLECTIONS,
    }
    assert Permission.DOWNLOAD_RECORDINGS not in ROLE_PERMISSIONS["customer_service"]


async def test_nul_characters_are_refused_before_they_reach_the_database(api: Client) -> None:
    client = api
    headers = bearer(await token_for(client, "admin"))
    body = {"username": "nul\x00user", "password": "long enough password", "roles": ["trainer"]}
    response = await client.post("/v1/users", json=body, headers=headers)
    assert response.status == 422
    assert [e["field"] for e in (await response.json())["errors"]] == ["username"]
    query = await client.get("/v1/users?after=%00", headers=headers)
    assert query.status == 400
    assert "NUL" in (await query.json())["detail"]


async def test_admin_changes_roles_and_switches_an_account_off_at_once(api: Client) -> None:
    admin = bearer(await token_for(api, "admin"))
    trainer_token = await token_for(api, "trainer")
    trainer_id = await api.app[POOL].fetchval("SELECT id FROM users WHERE username = 'trainer'")
    url = f"/v1/users/{trainer_id}"

    changed = await api.patch(url, json={"roles": ["trainer", "dpo"]}, headers=admin)
    assert changed.status == 200, await changed.text()
    me = await (await api.get("/v1/auth/me", headers=bearer(trainer_token))).json()
    assert me["roles"] == ["dpo", "trainer"]  # the open session has the new roles already

    off = await api.patch(url, json={"disabled": True}, headers=admin)
    assert off.status == 200
    assert (await api.get("/v1/auth/me", headers=bearer(trainer_token))).status == 401
    login = await api.post("/v1/auth/login", json={"username": "trainer", "password": PASSWORD})
    assert login.status == 401
    actions = await api.app[POOL].fetch(
        "SELECT details FROM audit_log WHERE action = 'user.update' ORDER BY seq"
    )
    assert [dict(r["details"]) for r in actions] == [{"roles": "dpo,trainer"}, {"disabled": True}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "roles"),
        ({"roles": None}, "roles"),
        ({"roles": []}, "roles"),
        ({"roles": ["root"]}, "roles"),
        ({"roles": "dpo"}, "roles"),
        ({"disabled": "yes"}, "disabled"),
        ({"disabled": False, "password": "x"}, "password"),
    ],
)
async def test_bad_account_changes_are_422_and_change_nothing(
    api: Client, body: dict[str, object], field: str
) -> None:
    admin = bearer(await token_for(api, "admin"))
    user_id = await api.app[POOL].fetchval("SELECT id FROM users WHERE username = 'dpo'")
    response = await api.patch(f"/v1/users/{user_id}", json=body, headers=admin)
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    assert [e["field"] for e in (await response.json())["errors"]] == [field]
    roles = await api.app[POOL].fetchval("SELECT roles FROM users WHERE id = $1", user_id)
    assert roles == ["dpo"]


async def test_nobody_locks_themselves_out_and_only_admins_change_accounts(api: Client) -> None:
    admin = bearer(await token_for(api, "admin"))
    admin_id = await api.app[POOL].fetchval("SELECT id FROM users WHERE username = 'admin'")
    own = await api.patch(f"/v1/users/{admin_id}", json={"disabled": True}, headers=admin)
    assert own.status == 409
    assert "another administrator" in (await own.json())["detail"]
    unknown = await api.patch(
        "/v1/users/00000000-0000-4000-8000-000000000000", json={"disabled": True}, headers=admin
    )
    assert unknown.status == 404
    dpo = bearer(await token_for(api, "dpo"))
    refused = await api.patch(f"/v1/users/{admin_id}", json={"roles": ["dpo"]}, headers=dpo)
    assert refused.status == 403
    assert not await api.app[POOL].fetchval("SELECT disabled FROM users WHERE id = $1", admin_id)


async def test_switching_an_account_off_revokes_its_sessions_for_good(api: Client) -> None:
    admin = bearer(await token_for(api, "admin"))
    old = bearer(await token_for(api, "trainer"))
    cookie_login = await api.post(
        "/v1/auth/session", json={"username": "trainer", "password": PASSWORD}
    )
    assert cookie_login.status == 200
    trainer_id = await api.app[POOL].fetchval("SELECT id FROM users WHERE username = 'trainer'")
    url = f"/v1/users/{trainer_id}"
    assert (await api.patch(url, json={"disabled": True}, headers=admin)).status == 200
    assert (await api.patch(url, json={"disabled": False}, headers=admin)).status == 200
    assert (await api.get("/v1/auth/me", headers=old)).status == 401
    live = await api.app[POOL].fetchval(
        "SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL", trainer_id
    )
    assert live == 0  # the console's cookie session went too
    fresh = bearer(await token_for(api, "trainer"))
    assert (await api.get("/v1/auth/me", headers=fresh)).status == 200
    admin_live = await api.get("/v1/auth/me", headers=admin)
    assert admin_live.status == 200  # only the switched-off account's sessions end


async def test_enabling_an_account_does_not_revoke_its_sessions(api: Client) -> None:
    admin = bearer(await token_for(api, "admin"))
    dpo = bearer(await token_for(api, "dpo"))
    dpo_id = await api.app[POOL].fetchval("SELECT id FROM users WHERE username = 'dpo'")
    url = f"/v1/users/{dpo_id}"
    assert (await api.patch(url, json={"disabled": False}, headers=admin)).status == 200
    assert (await api.patch(url, json={"roles": ["dpo"]}, headers=admin)).status == 200
    assert (await api.get("/v1/auth/me", headers=dpo)).status == 200


async def _failed_login_seconds(api: Client, username: str) -> float:
    started = time.perf_counter()
    response = await api.post(
        "/v1/auth/login", json={"username": username, "password": "not the password"}
    )
    elapsed = time.perf_counter() - started
    assert response.status == 401
    return elapsed


async def test_login_timing_does_not_tell_whether_a_username_exists(api: Client) -> None:
    # Interleaved rounds, so a burst of load on the machine hits both sides alike; the
    # real account locks after five failures, which must not change its timing either.
    unknown, known = [], []
    for _ in range(4):
        unknown.append(await _failed_login_seconds(api, "nobody-here"))
        known.append(await _failed_login_seconds(api, "trainer"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (unknown, known)
