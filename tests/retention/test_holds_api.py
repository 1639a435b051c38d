"""Legal holds over HTTP: who may, what a bad request gets, and the audit trail."""

from __future__ import annotations

import uuid

from api.appkeys import POOL, VAULT
from tests.api.sessions import Client, headers_for
from tests.retention.helpers import add_recording


async def test_the_dpo_places_lists_and_releases_holds(staff_api: Client) -> None:
    pool = staff_api.app[POOL]
    recording = await add_recording(pool, staff_api.app[VAULT])
    dpo = await headers_for(staff_api, "dpo")
    placed = await staff_api.post(
        "/v1/legal-holds",
        json={"recording_ids": [str(recording)], "reason": "dispute over rent"},
        headers=dpo,
    )
    assert placed.status == 201, await placed.text()
    hold_id = (await placed.json())["id"]
    [item] = (await (await staff_api.get("/v1/legal-holds", headers=dpo)).json())["items"]
    assert (item["id"], item["recording_ids"], item["placed_by"]) == (
        hold_id,
        [str(recording)],
        "dpo",
    )
    released = await staff_api.delete(
        f"/v1/legal-holds/{hold_id}", json={"reason": "settled"}, headers=dpo
    )
    assert released.status == 200
    assert (await staff_api.delete(f"/v1/legal-holds/{hold_id}", headers=dpo)).status == 404
    assert (await (await staff_api.get("/v1/legal-holds", headers=dpo)).json())["items"] == []
    listed = await staff_api.get("/v1/legal-holds?include_released=true", headers=dpo)
    [item] = (await listed.json())["items"]
    assert (item["release_reason"], item["released_by"]) == ("settled", "dpo")
    actions = [
        row["action"]
        for row in await pool.fetch(
            "SELECT action FROM audit_log WHERE action LIKE 'legal_hold.%' ORDER BY seq"
        )
    ]
    assert actions == [
        "legal_hold.place",
        "legal_hold.list",
        "legal_hold.release",
        "legal_hold.list",
        "legal_hold.list",
    ]


async def test_bad_holds_get_one_clear_error_and_store_nothing(staff_api: Client) -> None:
    pool = staff_api.app[POOL]
    recording = await add_recording(pool, staff_api.app[VAULT])
    dpo = await headers_for(staff_api, "dpo")
    cases = [
        ({"reason": "x"}, {"recording_ids"}),
        ({"reason": "", "customer_id": "nope"}, {"reason", "customer_id"}),
        (
            {"reason": "x", "recording_ids": [str(recording)], "customer_id": str(uuid.uuid4())},
            {"recording_ids"},
        ),
        ({"reason": "x", "recording_ids": ["a", str(recording)]}, {"recording_ids[0]"}),
        ({"reason": "x", "recording_ids": [str(recording), str(uuid.uuid4())]}, {"recording_ids"}),
        ({"reason": "x", "customer_id": str(uuid.uuid4())}, {"customer_id"}),
    ]
    for body, fields in cases:
        response = await staff_api.post("/v1/legal-holds", json=body, headers=dpo)
        assert response.status == 422, body
        assert response.content_type == "application/problem+json"
        assert {e["field"] for e in (await response.json())["errors"]} == fields, body
    assert await pool.fetchval("SELECT count(*) FROM legal_holds") == 0
    for user in ("customer-service", "trainer", "admin", "housing-advisor"):
        response = await staff_api.post(
            "/v1/legal-holds",
            json={"reason": "x", "recording_ids": [str(recording)]},
            headers=await headers_for(staff_api, user),
        )
        assert response.status == 403, user
    assert (await staff_api.post("/v1/legal-holds", json={})).status == 401
    bad_list = await staff_api.get("/v1/legal-holds?include_released=yes", headers=dpo)
    assert bad_list.status == 422
    bad_release = await staff_api.delete("/v1/legal-holds/not-an-id", headers=dpo)
    assert bad_release.status == 422
