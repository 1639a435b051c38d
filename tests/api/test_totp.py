"""Two-factor sign-in: enrolment, the two-step login, codes accepted once, recovery codes, the
lockout, the enrol-only session of a role that needs a second factor, and their audit."""

from __future__ import annotations

import dataclasses
import logging
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import pyotp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from accounts.roles import ROLES
from api.appkeys import POOL
from api.bodies import MAX_JSON_BYTES
from api.session import SESSION_COOKIE
from callrec.app import create_app
from common.settings import STAFF_ROLES, Settings, SettingsError
from tests.api.second_factor import enrol, next_code
from tests.api.sessions import PASSWORD, Client, add_role_users, bearer, token_for


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Client]:
    """The app with the default requirement: admins and DPOs must enrol."""
    required = dataclasses.replace(settings, require_2fa_roles=("admin", "dpo"))
    async with TestClient(TestServer(create_app(required))) as client:
        await add_role_users(client)
        yield client


async def challenge_for(api: Client, username: str, path: str = "/v1/auth/login") -> str:
    response = await api.post(path, json={"username": username, "password": PASSWORD})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert set(body) == {"second_factor", "challenge"}
    assert body["second_factor"] == "totp"
    return str(body["challenge"])


async def second_step(api: Client, challenge: str, code: str) -> Any:
    return await api.post("/v1/auth/login/totp", json={"challenge": challenge, "code": code})


async def test_enrolment_and_the_two_step_login(
    api: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = bearer(await token_for(api, "trainer"))
    started = await api.post("/v1/auth/totp", headers=headers)
    assert started.headers["Cache-Control"] == "no-store"
    body = await started.json()
    secret = body["secret"]
    assert len(secret) == 32
    assert pyotp.TOTP(secret).now().isdigit()
    assert body["otpauth_uri"].startswith("otpauth://totp/callrec:trainer?secret=" + secret)
    assert body["qr_svg"].startswith("<svg")
    assert secret not in body["qr_svg"]
    confirmed = await api.post(
        "/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    )
    codes = (await confirmed.json())["recovery_codes"]
    assert len(set(codes)) == 10
    assert confirmed.headers["Cache-Control"] == "no-store"

    pool = api.app[POOL]
    sealed = bytes(await pool.fetchval("SELECT secret_sealed FROM totp_factors"))
    assert secret.encode() not in sealed
    stored = b"".join(
        bytes(r["code_hmac"]) for r in await pool.fetch("SELECT * FROM totp_recovery_codes")
    )
    assert not any(code.replace("-", "").encode() in stored for code in codes)

    sessions_before = await pool.fetchval("SELECT count(*) FROM sessions")
    challenge = await challenge_for(api, "trainer")
    assert await pool.fetchval("SELECT count(*) FROM sessions") == sessions_before
    finished = await second_step(api, challenge, next_code(secret))
    assert finished.status == 200, await finished.text()
    token = (await finished.json())["token"]
    me = await (await api.get("/v1/auth/me", headers=bearer(token))).json()
    assert me["second_factor"] == "enrolled"

    rows = await pool.fetch(
        "SELECT action, outcome, details::text, details->>'reason' AS reason FROM audit_log"
        " ORDER BY seq"
    )
    trail = [(r["action"], r["outcome"]) for r in rows if r["action"] != "auth.login"]
    assert trail == [
        ("auth.totp.enrol", "ok"),
        ("auth.totp.confirm", "ok"),
        ("auth.login.totp", "ok"),
    ]
    assert ("auth.login", "ok", "second_factor") in [
        (r["action"], r["outcome"], r["reason"]) for r in rows
    ]
    said = " ".join(r["details"] for r in rows) + caplog.text
    assert secret not in said
    assert not any(code in said for code in codes)


async def test_the_console_login_ends_in_the_cookie(api: Client) -> None:
    secret, _ = await enrol(api, bearer(await token_for(api, "customer-service")))
    challenge = await challenge_for(api, "customer-service", "/v1/auth/session")
    finished = await second_step(api, challenge, next_code(secret))
    assert finished.status == 200
    assert "csrf_token" in await finished.json()
    assert finished.cookies[SESSION_COOKIE]["httponly"]


async def test_a_code_and_a_challenge_are_accepted_once(api: Client) -> None:
    secret, _ = await enrol(api, bearer(await token_for(api, "trainer")))
    code = next_code(secret)
    challenge = await challenge_for(api, "trainer")
    assert (await second_step(api, challenge, code)).status == 200
    assert (await second_step(api, challenge, code)).status == 401  # the challenge is used
    replay = await second_step(api, await challenge_for(api, "trainer"), code)
    assert replay.status == 401
    assert "log in again" in (await replay.json())["detail"]
    reasons = await api.app[POOL].fetch(
        "SELECT details->>'reason' AS r FROM audit_log WHERE action = 'auth.login.totp' ORDER BY seq"
    )
    assert [r["r"] for r in reasons] == ["totp", "no_challenge", "replayed"]


async def test_a_challenge_expires(api: Client) -> None:
    secret, _ = await enrol(api, bearer(await token_for(api, "trainer")))
    challenge = await challenge_for(api, "trainer")
    await api.app[POOL].execute("UPDATE login_challenges SET expires_at = now() - interval '1 s'")
    assert (await second_step(api, challenge, next_code(secret))).status == 401


async def test_a_recovery_code_works_once_and_is_audited(api: Client) -> None:
    _, codes = await enrol(api, bearer(await token_for(api, "trainer")))
    first = await second_step(api, await challenge_for(api, "trainer"), codes[3].upper())
    assert first.status == 200
    again = await second_step(api, await challenge_for(api, "trainer"), codes[3])
    assert again.status == 401
    used = await api.app[POOL].fetch(
        "SELECT details FROM audit_log WHERE action = 'auth.totp.recovery_used'"
    )
    assert [dict(r["details"]) for r in used] == [{"codes_left": 9}]


async def test_wrong_codes_count_toward_the_lockout(api: Client) -> None:
    secret, _ = await enrol(api, bearer(await token_for(api, "trainer")))
    right = next_code(secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):  # a right password each time does not reset the count
        assert (await second_step(api, await challenge_for(api, "trainer"), wrong)).status == 401
    locked = await api.post("/v1/auth/login", json={"username": "trainer", "password": PASSWORD})
    assert locked.status == 401
    until = await api.app[POOL].fetchval(
        "SELECT locked_until - now() FROM users WHERE username = 'trainer'"
    )
    assert 14 * 60 < until.total_seconds() <= 15 * 60


async def test_a_role_that_needs_two_factor_may_only_enrol(api: Client) -> None:
    dpo = bearer(await token_for(api, "dpo"))
    refused = await api.get("/v1/audit", headers=dpo)
    assert refused.status == 403
    assert (await refused.json())["type"].endswith("/second-factor-required")
    assert (await (await api.get("/v1/auth/me", headers=dpo)).json())["second_factor"] == "required"
    clerk = bearer(await token_for(api, "customer-service"))
    assert (await api.get("/v1/recordings", headers=clerk)).status == 200
    assert (await (await api.get("/v1/auth/me", headers=clerk)).json())[
        "second_factor"
    ] == "optional"
    await enrol(api, dpo)
    assert (await api.get("/v1/audit", headers=dpo)).status == 200  # the same session, at once
    refusals = await api.app[POOL].fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'access.refused'"
    )
    assert refusals == 1


async def test_enrolment_in_the_wrong_order_is_409(api: Client) -> None:
    headers = bearer(await token_for(api, "trainer"))
    early = await api.post("/v1/auth/totp/confirm", json={"code": "123456"}, headers=headers)
    assert early.status == 409
    await api.post("/v1/auth/totp", headers=headers)
    wrong = await api.post("/v1/auth/totp/confirm", json={"code": "abcdef"}, headers=headers)
    assert wrong.status == 422
    assert (await wrong.json())["errors"][0]["field"] == "code"
    refused = await api.app[POOL].fetchval(
        "SELECT outcome FROM audit_log WHERE action = 'auth.totp.confirm'"
    )
    assert refused == "refused"
    await api.app[POOL].execute("UPDATE totp_factors SET confirmed_at = now()")
    assert (await api.post("/v1/auth/totp", headers=headers)).status == 409


async def factors_listed(api: Client, admin: dict[str, str]) -> dict[str, bool]:
    """Whether each account has two-factor sign-in on, as the users list says."""
    listed = await api.get("/v1/users?limit=100", headers=admin)
    assert listed.status == 200, await listed.text()
    return {u["username"]: u["second_factor"] for u in (await listed.json())["items"]}


async def test_an_administrator_switches_a_lost_second_factor_off(api: Client) -> None:
    await enrol(api, bearer(await token_for(api, "trainer")))
    trainer_id = await api.app[POOL].fetchval("SELECT id FROM users WHERE username = 'trainer'")
    admin = bearer(await token_for(api, "admin"))  # an admin without one may only enrol
    assert (await api.delete(f"/v1/users/{trainer_id}/totp", headers=admin)).status == 403
    await enrol(api, admin)
    listed = await factors_listed(api, admin)
    assert {name for name, on in listed.items() if on} == {"admin", "trainer"}
    removed = await api.delete(f"/v1/users/{trainer_id}/totp", headers=admin)
    assert removed.status == 200
    assert (await factors_listed(api, admin))["trainer"] is False
    assert (await api.delete(f"/v1/users/{trainer_id}/totp", headers=admin)).status == 404
    assert (await api.delete("/v1/users/not-an-id/totp", headers=admin)).status == 422
    assert await token_for(api, "trainer")  # one step again
    left = await api.app[POOL].fetchval("SELECT count(*) FROM totp_recovery_codes")
    assert left == 10  # the administrator's own
    audited = await api.app[POOL].fetchval(
        "SELECT object_id FROM audit_log WHERE action = 'auth.totp.remove'"
    )
    assert audited == str(trainer_id)


BAD_BODIES = [
    ([1, 2], "body"),
    ({}, "code"),
    ({"code": 123456}, "code"),
    ({"code": ""}, "code"),
    ({"code": "1" * 33}, "code"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_bad_confirmations_are_422(api: Client, body: object, field: str) -> None:
    headers = bearer(await token_for(api, "trainer"))
    await api.post("/v1/auth/totp", headers=headers)
    response = await api.post("/v1/auth/totp/confirm", json=body, headers=headers)
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    assert [e["field"] for e in (await response.json())["errors"]] == [field]
    assert await api.app[POOL].fetchval("SELECT confirmed_at FROM totp_factors") is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ([1, 2], ["body"]),
        ({"challenge": "c"}, ["code"]),
        ({"challenge": "c", "code": 123456}, ["code"]),
        ({"challenge": "c", "code": "1" * 33}, ["code"]),
        ({"code": "123456"}, ["challenge"]),
        ({"challenge": "x" * 129, "code": "123456"}, ["challenge"]),
        ({"challenge": "", "code": ""}, ["challenge", "code"]),
    ],
)
async def test_bad_second_steps_are_422(api: Client, body: object, fields: list[str]) -> None:
    response = await api.post("/v1/auth/login/totp", json=body)
    assert response.status == 422
    assert [e["field"] for e in (await response.json())["errors"]] == fields


@pytest.mark.parametrize("path", ["/v1/auth/totp/confirm", "/v1/auth/login/totp"])
async def test_oversized_and_non_json_bodies_are_refused(api: Client, path: str) -> None:
    headers = bearer(await token_for(api, "trainer"))
    big = {"code": "1", "challenge": "c", "pad": "x" * MAX_JSON_BYTES}
    assert (await api.post(path, json=big, headers=headers)).status == 413
    assert (await api.post(path, data="code=123456", headers=headers)).status == 415


async def test_enrolment_needs_a_session(api: Client) -> None:
    for path in ("/v1/auth/totp", "/v1/auth/totp/confirm"):
        response = await api.post(path, json={"code": "123456"})
        assert response.status == 401
    assert await api.app[POOL].fetchval("SELECT count(*) FROM totp_factors") == 0


async def _login_seconds(api: Client, username: str, password: str) -> float:
    started = time.perf_counter()
    await api.post("/v1/auth/login", json={"username": username, "password": password})
    return time.perf_counter() - started


async def test_login_timing_does_not_tell_whether_an_account_has_a_second_factor(
    api: Client,
) -> None:
    await enrol(api, bearer(await token_for(api, "trainer")))
    for password in ("not the password", PASSWORD):  # a failed and a right password
        enrolled, plain = [], []
        for _ in range(4):
            enrolled.append(await _login_seconds(api, "trainer", password))
            plain.append(await _login_seconds(api, "housing-advisor", password))
        await api.app[POOL].execute("UPDATE users SET failed_logins = 0, locked_until = NULL")
        ratio = statistics.median(enrolled) / statistics.median(plain)
        assert 0.5 < ratio < 2.0, (password, enrolled, plain)


def test_the_setting_defaults_to_admins_and_dpos_and_empty_means_none() -> None:
    assert STAFF_ROLES == ROLES
    assert Settings.from_env({}).require_2fa_roles == ("admin", "dpo")
    assert Settings().require_2fa_roles == ("admin", "dpo")
    assert Settings.from_env({"CALLREC_REQUIRE_2FA_ROLES": ""}).require_2fa_roles == ()
    both = Settings.from_env({"CALLREC_REQUIRE_2FA_ROLES": "dpo, trainer"})
    assert both.require_2fa_roles == ("dpo", "trainer")
    with pytest.raises(SettingsError, match="CALLREC_REQUIRE_2FA_ROLES"):
        Settings.from_env({"CALLREC_REQUIRE_2FA_ROLES": "amdin"})
