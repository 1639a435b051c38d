"""One's own password and sessions, and the administrator's reset and ending of sessions."""

from __future__ import annotations

import json
from typing import Any

from api.appkeys import POOL
from tests.api.sessions import PASSWORD, Client, bearer, token_for

NEW = "a kettle of fresh herring"
CHANGE_REQUIRED = "https://callrec.invalid/problems/password-change-required"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


async def _login(api: Client, username: str, password: str = PASSWORD, **headers: str) -> Any:
    response = await api.post(
        "/v1/auth/login", json={"username": username, "password": password}, headers=headers
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def _audit(api: Client, action: str) -> list[Any]:
    rows = await api.app[POOL].fetch(
        "SELECT outcome, actor, object_id, details FROM audit_log WHERE action = $1 ORDER BY seq",
        action,
    )
    return [dict(row) for row in rows]


async def test_changing_the_password_ends_every_other_session(staff_api: Client) -> None:
    kept = await token_for(staff_api, "trainer")
    other = await token_for(staff_api, "trainer")
    someone_else = await token_for(staff_api, "dpo")
    changed = await staff_api.post(
        "/v1/auth/password", json={"current": PASSWORD, "new": NEW}, headers=bearer(kept)
    )
    assert changed.status == 200, await changed.text()
    assert await changed.json() == {"status": "changed", "other_sessions_ended": 1}
    assert (await staff_api.get("/v1/auth/me", headers=bearer(kept))).status == 200
    assert (await staff_api.get("/v1/auth/me", headers=bearer(other))).status == 401
    assert (await staff_api.get("/v1/auth/me", headers=bearer(someone_else))).status == 200
    await token_for(staff_api, "trainer", NEW)  # the new password works, the old does not
    old = await staff_api.post("/v1/auth/login", json={"username": "trainer", "password": PASSWORD})
    assert old.status == 401
    [entry] = await _audit(staff_api, "auth.password_change")
    assert entry["outcome"] == "ok"
    assert entry["actor"] == "trainer"
    said = json.dumps(entry["details"])
    assert entry["details"]["sessions_ended"] == 1
    assert PASSWORD not in said
    assert NEW not in said


async def test_a_change_is_refused_saying_what_to_fix(staff_api: Client) -> None:
    token = await token_for(staff_api, "trainer")
    cases = [
        ({"current": "not the password", "new": NEW}, "current", "not your current password"),
        ({"current": PASSWORD, "new": "short one"}, "new", "at least 12 characters"),
        ({"current": PASSWORD, "new": "password1234"}, "new", "most common passwords"),
        ({"current": PASSWORD, "new": "trainer on monday"}, "new", "username"),
        ({"current": PASSWORD, "new": "123456789012"}, "new", "run of characters"),
        ({"current": PASSWORD, "new": PASSWORD}, "new", "differ"),
        ({"current": PASSWORD, "new": "x" * 1025}, "new", "1024"),
        ({"current": PASSWORD}, "new", "required"),
        ({"current": PASSWORD, "new": 123456789012}, "new", "new password"),
    ]
    for body, field, says in cases:
        response = await staff_api.post("/v1/auth/password", json=body, headers=bearer(token))
        assert response.status == 422, body
        assert response.content_type == "application/problem+json"
        [error] = (await response.json())["errors"]
        assert (error["field"], says in error["message"]) == (field, True), (body, error)
    malformed = await staff_api.post(
        "/v1/auth/password",
        data=b"{",
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert malformed.status == 422
    huge = {"current": PASSWORD, "new": "y" * 70_000}
    assert (
        await staff_api.post("/v1/auth/password", json=huge, headers=bearer(token))
    ).status == 413
    anonymous = await staff_api.post("/v1/auth/password", json={"current": "a", "new": "b"})
    assert anonymous.status == 401
    await token_for(staff_api, "trainer")  # nothing changed
    [refused] = await _audit(staff_api, "auth.password_change")
    assert refused["outcome"] == "refused"
    # Wrong current passwords count toward the lockout (the login above reset the count).
    for _ in range(5):
        wrong = {"current": "guessing again", "new": NEW}
        await staff_api.post("/v1/auth/password", json=wrong, headers=bearer(token))
    right = {"current": PASSWORD, "new": NEW}
    locked = await staff_api.post("/v1/auth/password", json=right, headers=bearer(token))
    assert locked.status == 422
    assert "15 minutes" in (await locked.json())["errors"][0]["message"]


async def test_sessions_list_and_end_one_of_ones_own(staff_api: Client) -> None:
    first = await _login(staff_api, "dpo", **{"User-Agent": BROWSER})
    second = await _login(staff_api, "dpo", **{"User-Agent": "curl/8.5.0"})
    listed = await staff_api.get("/v1/auth/sessions", headers=bearer(second["token"]))
    assert listed.status == 200
    body = await listed.json()
    assert [s["device"] for s in body["items"]] == ["curl", "Firefox on Linux"]
    assert [s["current"] for s in body["items"]] == [True, False]
    assert set(body["items"][0]) == {
        "id",
        "device",
        "started_at",
        "last_seen_at",
        "expires_at",
        "current",
    }
    text = json.dumps(body)
    assert first["token"] not in text
    assert second["token"] not in text
    old_id = body["items"][1]["id"]
    # Someone else cannot end it (404, as if it did not exist), its owner can.
    other = await token_for(staff_api, "trainer")
    assert (
        await staff_api.delete(f"/v1/auth/sessions/{old_id}", headers=bearer(other))
    ).status == 404
    assert (await staff_api.get("/v1/auth/me", headers=bearer(first["token"]))).status == 200
    ended = await staff_api.delete(f"/v1/auth/sessions/{old_id}", headers=bearer(second["token"]))
    assert ended.status == 200
    assert (await staff_api.get("/v1/auth/me", headers=bearer(first["token"]))).status == 401
    again = await staff_api.delete(f"/v1/auth/sessions/{old_id}", headers=bearer(second["token"]))
    assert again.status == 404
    bad = await staff_api.delete("/v1/auth/sessions/not-an-id", headers=bearer(second["token"]))
    assert bad.status == 422
    assert (await staff_api.get("/v1/auth/sessions")).status == 401
    assert (await staff_api.delete(f"/v1/auth/sessions/{old_id}")).status == 401
    [entry] = await _audit(staff_api, "auth.session_end")
    assert entry["object_id"] == old_id
    assert entry["actor"] == "dpo"


async def test_reset_gives_a_one_time_password_that_must_be_changed(staff_api: Client) -> None:
    pool = staff_api.app[POOL]
    user_id = str(await pool.fetchval("SELECT id FROM users WHERE username = 'trainer'"))
    victim = await token_for(staff_api, "trainer")
    admin = bearer(await token_for(staff_api, "admin"))
    reset = await staff_api.post(f"/v1/users/{user_id}/password-reset", headers=admin)
    assert reset.status == 200, await reset.text()
    assert reset.headers["Cache-Control"] == "no-store"
    answer = await reset.json()
    one_time = answer.pop("one_time_password")
    assert answer == {
        "id": user_id,
        "username": "trainer",
        "password_change_required": True,
        "sessions_ended": 1,
    }
    assert (await staff_api.get("/v1/auth/me", headers=bearer(victim))).status == 401
    # The one-time session can see who it is, and change the password: nothing else.
    login = await _login(staff_api, "trainer", one_time)
    assert login["password_change_required"] is True
    restricted = bearer(login["token"])
    me = await (await staff_api.get("/v1/auth/me", headers=restricted)).json()
    assert me["password_change_required"] is True
    for method, path in [("GET", "/v1/recordings"), ("GET", "/v1/auth/sessions")]:
        refused = await staff_api.request(method, path, headers=restricted)
        assert refused.status == 403
        problem = await refused.json()
        assert problem["type"] == CHANGE_REQUIRED
        assert "/v1/auth/password" in problem["detail"]
    change = {"current": one_time, "new": NEW}
    changed = await staff_api.post("/v1/auth/password", json=change, headers=restricted)
    assert changed.status == 200
    assert (await staff_api.get("/v1/recordings", headers=restricted)).status == 200
    me = await (await staff_api.get("/v1/auth/me", headers=restricted)).json()
    assert me["password_change_required"] is False
    [entry] = await _audit(staff_api, "user.password_reset")
    assert entry["actor"] == "admin"
    assert entry["object_id"] == user_id
    assert one_time not in json.dumps([str(r) for r in await pool.fetch("SELECT * FROM audit_log")])


async def test_reset_refusals_and_ending_all_sessions(staff_api: Client) -> None:
    pool = staff_api.app[POOL]
    admin_id = str(await pool.fetchval("SELECT id FROM users WHERE username = 'admin'"))
    dpo_id = str(await pool.fetchval("SELECT id FROM users WHERE username = 'dpo'"))
    admin = bearer(await token_for(staff_api, "admin"))
    own = await staff_api.post(f"/v1/users/{admin_id}/password-reset", headers=admin)
    assert own.status == 409
    missing = "00000000-0000-4000-8000-000000000000"
    for method, path in [
        ("POST", "/v1/users/{}/password-reset"),
        ("DELETE", "/v1/users/{}/sessions"),
    ]:
        assert (await staff_api.request(method, path.format(missing), headers=admin)).status == 404
        assert (await staff_api.request(method, path.format("x"), headers=admin)).status == 422
        assert (await staff_api.request(method, path.format(dpo_id))).status == 401
        dpo = bearer(await token_for(staff_api, "dpo"))
        assert (await staff_api.request(method, path.format(dpo_id), headers=dpo)).status == 403
    await token_for(staff_api, "dpo")  # the refusals changed nothing

    # Ending every session of an account: a lost laptop, a leaver.
    cs_id = str(await pool.fetchval("SELECT id FROM users WHERE username = 'customer-service'"))
    laptop = await token_for(staff_api, "customer-service")
    phone = await token_for(staff_api, "customer-service")
    ended = await staff_api.delete(f"/v1/users/{cs_id}/sessions", headers=admin)
    assert ended.status == 200
    assert await ended.json() == {"id": cs_id, "sessions_ended": 2}
    for token in (laptop, phone):
        assert (await staff_api.get("/v1/auth/me", headers=bearer(token))).status == 401
    assert (await staff_api.get("/v1/auth/me", headers=admin)).status == 200
    [entry] = await _audit(staff_api, "user.sessions_end")
    assert entry["object_id"] == cs_id
    assert entry["details"]["sessions_ended"] == 2
