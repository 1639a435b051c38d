"""Single sign-on against a real OpenID provider: accounts are created and follow the
provider's groups, refusals are clear and audited, and nothing of a code or token is kept."""

from __future__ import annotations

import logging
import os
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from accounts.oidc import OidcError, OpenIdProvider
from accounts.passwords import hash_password
from accounts.sso import check_role_map
from accounts.users import create_user
from api.appkeys import POOL
from callrec.app import create_app
from callrec.cli import main
from common.settings import Secret, Settings, SettingsError
from tests.oidc.idp import PASSWORD, Client, Idp, browser, sign_in

MAIJA = "maija.meikalainen"
REDIRECT = "http://127.0.0.1:9/v1/auth/oidc/callback"  # never followed: the code is read off it


def base(client: Client) -> str:
    return str(client.make_url("")).rstrip("/")


async def me(session: Any, client: Client) -> tuple[int, dict[str, Any]]:
    response = await session.get(f"{base(client)}/v1/auth/me")
    return response.status, await response.json()


async def audit(client: Client) -> list[dict[str, Any]]:
    rows = await client.app[POOL].fetch(
        "SELECT outcome, actor, details FROM audit_log WHERE action = 'auth.sso_login' ORDER BY seq"
    )
    return [{"outcome": r["outcome"], "actor": r["actor"], **r["details"]} for r in rows]


async def test_a_first_sign_in_creates_a_customer_service_account_in_the_cookie_session(
    idp: Idp, sso_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    idp.set_user(MAIJA, ["staff-cs", "unrelated-group"])
    caplog.set_level(logging.DEBUG)
    async with browser() as session:
        landed = await sign_in(session, base(sso_client), MAIJA)
        assert landed.status == 200
        assert landed.url.path == "/"  # the console
        assert landed.history[-1].url.path == "/v1/auth/oidc/callback"
        cookie = landed.history[-1].headers.getall("Set-Cookie")
        assert any(
            "callrec_session=" in c and "HttpOnly" in c and "SameSite=Strict" in c for c in cookie
        )
        status, who = await me(session, sso_client)
    assert status == 200
    assert who["username"] == MAIJA
    assert who["roles"] == ["customer_service"]
    row = await sso_client.app[POOL].fetchrow(
        "SELECT u.display_name, l.issuer, l.subject FROM users u JOIN sso_links l "
        "ON l.user_id = u.id WHERE u.username = $1",
        MAIJA,
    )
    assert row is not None
    assert dict(row) == {
        "display_name": "Maija Meikäläinen",
        "issuer": idp.issuer,
        "subject": MAIJA,
    }
    assert await audit(sso_client) == [
        {"outcome": "ok", "actor": MAIJA, "roles": "customer_service", "created": True}
    ]
    # (the test server keeps an access log; `callrec serve` runs without one)
    logged = " ".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")
    assert "code=" not in logged
    assert "state=" not in logged
    assert "eyJ" not in logged  # no JWT


async def test_roles_follow_the_groups_at_each_sign_in_and_no_mapped_group_is_refused(
    idp: Idp, sso_client: Client
) -> None:
    idp.set_user("teppo", ["staff-cs"])
    async with browser() as first:
        assert (await sign_in(first, base(sso_client), "teppo")).status == 200
        idp.set_user("teppo", ["staff-cs", "staff-training"])
        async with browser() as second:
            assert (await sign_in(second, base(sso_client), "teppo")).status == 200
            assert (await me(second, sso_client))[1]["roles"] == ["customer_service", "trainer"]
        assert (await me(first, sso_client))[1]["roles"] == ["customer_service", "trainer"]

        idp.set_user("teppo", ["left-the-company"])
        async with browser() as third:
            refused = await sign_in(third, base(sso_client), "teppo")
            assert refused.status == 403
            assert refused.content_type == "application/problem+json"
            assert "none of your groups" in (await refused.json())["detail"]
            assert (await me(third, sso_client))[0] == 401
        assert (await me(first, sso_client))[0] == 401  # the sessions they had ended
    accounts = await sso_client.app[POOL].fetchval("SELECT count(*) FROM users")
    assert accounts == 1  # linked by subject: one account throughout
    assert [(e["outcome"], e.get("roles"), e.get("reason")) for e in await audit(sso_client)] == [
        ("ok", "customer_service", None),
        ("ok", "customer_service,trainer", None),
        ("refused", None, "no_mapped_group"),
    ]


async def test_someone_with_no_mapped_group_gets_no_account(idp: Idp, sso_client: Client) -> None:
    idp.set_user("vieras", ["visitors"])
    async with browser() as session:
        refused = await sign_in(session, base(sso_client), "vieras")
    assert refused.status == 403
    assert await sso_client.app[POOL].fetchval("SELECT count(*) FROM users") == 0


async def test_a_tampered_state_is_refused(idp: Idp, sso_client: Client) -> None:
    idp.set_user(MAIJA, ["staff-cs"])
    async with browser() as session:
        refused = await sign_in(session, base(sso_client), MAIJA, tamper=True)
        assert refused.status == 400
        assert refused.content_type == "application/problem+json"
        problem = await refused.json()
        assert problem["type"].endswith("/sso-state-mismatch")
        assert "start again" in problem["detail"]
        assert (await me(session, sso_client))[0] == 401
    assert await sso_client.app[POOL].fetchval("SELECT count(*) FROM users") == 0
    assert (await audit(sso_client))[0]["reason"] == "state_mismatch"


async def test_a_callback_without_a_sign_in_begun_or_used_twice_is_refused(
    idp: Idp, sso_client: Client
) -> None:
    idp.set_user(MAIJA, ["staff-cs"])
    stray = await sso_client.get("/v1/auth/oidc/callback?code=abc&state=def")
    assert stray.status == 400
    assert "start again" in (await stray.json())["detail"]
    async with browser() as session:
        landed = await sign_in(session, base(sso_client), MAIJA)
        callback = str(landed.history[-1].url)
        again = await session.get(callback, allow_redirects=False)  # replayed
        assert again.status == 400
        assert (await again.json())["type"].endswith("/sso-expired")


async def test_the_provider_refusing_is_said_plainly(idp: Idp, sso_client: Client) -> None:
    async with browser() as session:
        start = await session.get(f"{base(sso_client)}/v1/auth/oidc/login", allow_redirects=False)
        cookie = start.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie  # comes back on the provider's redirect
        assert "Path=/v1/auth/oidc" in cookie
        asked = parse_qs(urlsplit(start.headers["Location"]).query)
        assert asked["code_challenge_method"] == ["S256"]
        assert asked["scope"] == ["openid profile groups"]
        assert {"nonce", "state", "code_challenge"} <= asked.keys()
        assert "code_verifier" not in asked
        state = asked["state"][0]
        answer = await session.get(
            f"{base(sso_client)}/v1/auth/oidc/callback?error=access_denied&state={state}"
        )
    assert answer.status == 403
    assert "did not sign you in (access_denied)" in (await answer.json())["detail"]


async def test_local_passwords_can_be_switched_off_for_sso_users(
    idp: Idp, settings: Settings
) -> None:
    idp.set_user(MAIJA, ["staff-cs"])
    local = {"username": MAIJA, "password": "a long local password"}
    plain = {"username": "paikallinen", "password": "another long password"}
    for local_passwords, expected in ((True, 200), (False, 401)):  # the same database
        app = create_app(idp.settings(settings, oidc_local_passwords=local_passwords))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client, browser() as session:
            if local_passwords:
                assert (await sign_in(session, base(client), MAIJA)).status == 200
                await client.app[POOL].execute(
                    "UPDATE users SET password_hash = $1", hash_password(local["password"])
                )
                await create_user(
                    client.app[POOL], plain["username"], plain["password"], ["trainer"]
                )
            answer = await client.post("/v1/auth/login", json=local)
            assert answer.status == expected
            assert (await client.post("/v1/auth/login", json=plain)).status == 200
            config = await (await client.get("/v1/auth/oidc")).json()
            assert config["local_passwords"] is local_passwords
            reasons = await client.app[POOL].fetch(
                "SELECT details->>'reason' AS reason FROM audit_log WHERE action = 'auth.login' "
                "AND actor = $1",
                MAIJA,
            )
            assert reasons[-1]["reason"] == ("ok" if local_passwords else "sso_only")


async def test_the_console_is_told_how_to_offer_sso(idp: Idp, sso_client: Client) -> None:
    answer = await sso_client.get("/v1/auth/oidc")
    assert await answer.json() == {
        "enabled": True,
        "name": "Test IdP",
        "login_url": "/v1/auth/oidc/login",
        "local_passwords": True,
    }


async def test_without_sso_the_routes_say_so(client: Client) -> None:
    assert await (await client.get("/v1/auth/oidc")).json() == {"enabled": False}
    for path in ("/v1/auth/oidc/login", "/v1/auth/oidc/callback?code=a&state=b"):
        answer = await client.get(path, allow_redirects=False)
        assert answer.status == 404
        assert "not configured" in (await answer.json())["detail"]


def test_a_bad_role_map_stops_start_up_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "CALLREC_OIDC_ISSUER": "https://login.example.fi",
        "CALLREC_OIDC_CLIENT_ID": "callrec",
        "CALLREC_OIDC_ROLE_MAP": "asiakaspalvelu=customer_service,johto=superuser",
    }
    with pytest.raises(SettingsError, match="no such role superuser; roles are admin"):
        check_role_map(Settings.from_env(env))
    with pytest.raises(SettingsError, match="group=role pairs"):
        Settings.from_env({**env, "CALLREC_OIDC_ROLE_MAP": "asiakaspalvelu"})
    with pytest.raises(SettingsError, match="CALLREC_OIDC_ROLE_MAP must be set"):
        Settings.from_env({k: v for k, v in env.items() if "ROLE_MAP" not in k})
    with pytest.raises(SettingsError, match="without CALLREC_OIDC_ISSUER"):
        Settings.from_env({"CALLREC_OIDC_CLIENT_ID": "callrec"})
    for name in [n for n in os.environ if n.startswith("CALLREC_")]:  # e.g. the test run's own
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["migrate"]) == 2
    assert "superuser" in capsys.readouterr().err


async def code_from(idp: Idp, provider: OpenIdProvider, nonce: str, verifier: str) -> str:
    """A real authorization code for ``provider``'s client, taken off the redirect back."""
    url = await provider.authorization_url(REDIRECT, "a-state", nonce, verifier, "groups")
    async with browser() as session:
        page = await session.get(url)
        action = re.search(r'action="([^"]+)"', await page.text())
        assert action is not None
        answer = await session.post(
            f"{idp.issuer}{action.group(1)}",
            data={"login": MAIJA, "password": PASSWORD},
            allow_redirects=False,
        )
        while not answer.headers["Location"].startswith(REDIRECT):
            answer = await session.get(
                answer.url.join(URL(answer.headers["Location"])), allow_redirects=False
            )
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


async def test_the_id_token_is_checked_for_nonce_audience_and_signature(idp: Idp) -> None:
    idp.set_user(MAIJA, ["staff-cs"])
    provider = OpenIdProvider(idp.issuer, "callrec", Secret(idp.client_secret))
    try:
        first = await code_from(idp, provider, "the-nonce", "v" * 64)
        tokens = await provider.exchange(first, REDIRECT, "v" * 64)
        claims = await provider.id_token_claims(tokens, "the-nonce")
        assert claims["sub"] == MAIJA
        assert claims["groups"] == ["staff-cs"]
        header, payload, signature = tokens["id_token"].split(".")
        forged = {**tokens, "id_token": f"{header}.{payload}.{signature[:-4]}AAAA"}
        for wrong, nonce in ((tokens, "another-nonce"), (forged, "the-nonce")):
            with pytest.raises(OidcError) as refused:
                await provider.id_token_claims(wrong, nonce)
            assert refused.value.reason == "invalid_id_token"
        code = await code_from(idp, provider, "n", "w" * 64)
        with pytest.raises(OidcError, match="invalid_grant"):  # PKCE: not without the verifier
            await provider.exchange(code, REDIRECT, "x" * 64)
        with pytest.raises(OidcError, match="invalid_grant"):  # and a code is good once
            await provider.exchange(first, REDIRECT, "v" * 64)
    finally:
        await provider.close()
    other = OpenIdProvider(idp.issuer, "someone-else", Secret(idp.client_secret))
    try:
        with pytest.raises(OidcError) as audience:
            await other.id_token_claims(tokens, "the-nonce")
        assert audience.value.reason == "invalid_id_token"
    finally:
        await other.close()
