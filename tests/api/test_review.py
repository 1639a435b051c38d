"""Manual linking, unmatched agents and missing notices: staff routes with role checks."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from accounts.users import create_user
from api.appkeys import POOL
from callrec.app import create_app
from common.settings import Secret, Settings
from tests.api.sessions import PASSWORD, Client, add_role_users, headers_for
from tests.recorder.helpers import SECRET, metadata, multipart, signed_headers


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Client]:
    configured = dataclasses.replace(settings, webhook_secret=Secret(SECRET))
    async with TestClient(TestServer(create_app(configured, run_worker=False))) as client:
        await add_role_users(client)
        await create_user(
            client.app[POOL], "maija.m", PASSWORD, ["customer_service"], extension="2041"
        )
        yield client


async def deliver(client: Client, **fields: Any) -> str:
    body = multipart(metadata(**fields), b"RIFF....")
    response = await client.post("/v1/recordings", data=body, headers=signed_headers(body))
    assert response.status == 202
    return str((await response.json())["id"])


async def test_manual_link(api: Client) -> None:
    recording_id = await deliver(api)
    customer_id = uuid.uuid4()
    await api.app[POOL].execute(
        "INSERT INTO customers (id, customer_number) VALUES ($1, 'A-1')", customer_id
    )
    staff = await headers_for(api, "customer-service")
    path = f"/v1/recordings/{recording_id}/customer"
    response = await api.post(path, headers=staff, json={"customer_id": str(customer_id)})
    assert response.status == 200
    row = await api.app[POOL].fetchrow("SELECT customer_id, customer_link FROM recordings")
    assert row is not None
    assert (row["customer_id"], row["customer_link"]) == (customer_id, "manual")

    missing_customer = await api.post(path, headers=staff, json={"customer_id": str(uuid.uuid4())})
    assert missing_customer.status == 422
    kept = await api.app[POOL].fetchval("SELECT customer_id FROM recordings")
    assert kept == customer_id  # a refused link leaves the earlier one
    bad_id = await api.post(path, headers=staff, json={"customer_id": "A-1"})
    assert (await bad_id.json())["errors"][0]["field"] == "customer_id"
    no_json = await api.post(path, headers=staff, data="customer_id=1")
    assert no_json.status == 415
    unknown = await api.post(
        f"/v1/recordings/{uuid.uuid4()}/customer",
        headers=staff,
        json={"customer_id": str(customer_id)},
    )
    assert unknown.status == 404
    for role in ("trainer", "housing-advisor", "admin"):
        refused = await api.post(
            path, headers=await headers_for(api, role), json={"customer_id": str(customer_id)}
        )
        assert refused.status == 403
    assert (await api.post(path, json={"customer_id": str(customer_id)})).status == 401


async def test_answered_by_matches_username_or_extension_and_lists_the_rest(api: Client) -> None:
    by_name = await deliver(api, external_id="a", answered_by="maija.m")
    by_extension = await deliver(api, external_id="b", answered_by="2041")
    await deliver(api, external_id="c", answered_by="ghost.agent")
    rows = await api.app[POOL].fetch("SELECT id::text, answered_by_user_id FROM recordings")
    matched = {r["id"] for r in rows if r["answered_by_user_id"] is not None}
    assert matched == {by_name, by_extension}
    response = await api.get(
        "/v1/recordings/unmatched-agents", headers=await headers_for(api, "admin")
    )
    assert [i["answered_by"] for i in (await response.json())["items"]] == ["ghost.agent"]
    refused = await api.get(
        "/v1/recordings/unmatched-agents", headers=await headers_for(api, "dpo")
    )
    assert refused.status == 403


async def test_calls_without_the_notice_are_listed_for_the_dpo(api: Client) -> None:
    untold = {await deliver(api, external_id=f"n{i}", notice_played=False) for i in range(3)}
    await deliver(api, external_id="told", notice_played=True)
    dpo = await headers_for(api, "dpo")
    body = await (await api.get("/v1/recordings/notice-missing", headers=dpo)).json()
    assert {i["id"] for i in body["items"]} == untold
    assert body["next"] is None
    assert "caller_number" not in str(body)
    bad = await api.get("/v1/recordings/notice-missing?cursor=garbage", headers=dpo)
    assert bad.status == 422
    refused = await api.get(
        "/v1/recordings/notice-missing", headers=await headers_for(api, "customer-service")
    )
    assert refused.status == 403
