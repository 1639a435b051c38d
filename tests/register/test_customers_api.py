"""The register over HTTP against real PostgreSQL: create, read, mask, search, change, log."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiohttp.test_utils import TestClient, TestServer

from accounts.users import create_user
from api.appkeys import POOL
from callrec.app import create_app
from common.settings import Settings
from storage.keyring import Keyring
from tests.api.sessions import PASSWORD, Client, add_role_users, headers_for
from tests.register.samples import maija


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(settings, run_worker=False))) as client:
        await add_role_users(client)
        await create_user(client.app[POOL], "other-advisor", PASSWORD, ["housing_advisor"])
        yield client


async def create(api: Client, **overrides: Any) -> dict[str, Any]:
    response = await api.post(
        "/v1/customers", json=maija(**overrides), headers=await headers_for(api, "customer-service")
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def read(api: Client, customer_id: str, user: str) -> tuple[int, Any]:
    response = await api.get(f"/v1/customers/{customer_id}", headers=await headers_for(api, user))
    return response.status, await response.json()


async def test_create_and_read_back(api: Client) -> None:
    created = await create(api)
    assert created["henkilotunnus"] == "131052-308T"
    assert created["birth_date"] == "1952-10-13"
    assert created["phones"] == [{"number": "+358401234567", "type": "mobile"}]
    status, body = await read(api, created["id"], "dpo")
    assert status == 200
    assert body["addresses"][0]["city"] == "Helsinki"
    row = await api.app[POOL].fetchrow("SELECT * FROM customers WHERE id = $1::uuid", created["id"])
    assert row is not None
    assert b"131052" not in bytes(row["hetu_encrypted"])
    assert "131052" not in str(dict(row))


async def test_every_bad_field_is_named_and_nothing_is_stored(api: Client) -> None:
    response = await api.post(
        "/v1/customers",
        json={
            "customer_number": "bad number!",
            "first_name": "",
            "henkilotunnus": "131052-308U",
            "roles": ["landlord"],
            "language": "de",
            "phones": [
                {"number": "12", "type": "mobile"},
                {"number": "+358401234567", "type": "fax"},
            ],
            "emails": ["not-an-email"],
            "addresses": [{"street": "", "postal_code": "5300", "city": "Helsinki"}],
            "turvakielto": "yes",
            "turvakielto_start": "2026-11-23",
            "turvakielto_end": "2026-01-01",
        },
        headers=await headers_for(api, "customer-service"),
    )
    assert response.status == 422
    body = await response.json()
    fields = {e["field"] for e in body["errors"]}
    assert fields == {
        "customer_number", "first_name", "last_name", "henkilotunnus", "roles", "language",
        "phones[0].number", "phones[1].type", "emails", "addresses[0].street",
        "addresses[0].postal_code", "turvakielto", "turvakielto_end",
    }  # fmt: skip
    assert "131052-308U" not in await response.text()
    assert await api.app[POOL].fetchval("SELECT count(*) FROM customers") == 0


async def test_duplicates_are_409_naming_the_field(api: Client) -> None:
    await create(api)
    headers = await headers_for(api, "customer-service")
    same_number = await api.post(
        "/v1/customers", json=maija(henkilotunnus="010195+433X"), headers=headers
    )
    assert same_number.status == 409
    assert (await same_number.json())["errors"][0]["field"] == "customer_number"
    same_person = await api.post(
        "/v1/customers", json=maija(customer_number="A-1002"), headers=headers
    )
    assert same_person.status == 409
    assert (await same_person.json())["errors"][0]["field"] == "henkilotunnus"
    assert await api.app[POOL].fetchval("SELECT count(*) FROM customer_phones") == 1


async def test_housing_advisor_sees_only_own_customers_without_identity_code(api: Client) -> None:
    mine = await create(api)
    theirs = await create(api, customer_number="A-2", henkilotunnus="010195+433X",
                          assigned_advisor="other-advisor")  # fmt: skip
    status, body = await read(api, mine["id"], "housing-advisor")
    assert status == 200
    assert "henkilotunnus" not in body
    assert body["phones"][0]["number"] == "+358401234567"
    status, _ = await read(api, theirs["id"], "housing-advisor")
    assert status == 404
    listed = await api.get("/v1/customers", headers=await headers_for(api, "housing-advisor"))
    assert [c["id"] for c in (await listed.json())["items"]] == [mine["id"]]
    by_code = await api.post(
        "/v1/customers/search",
        json={"q": "131052-308T"},
        headers=await headers_for(api, "housing-advisor"),
    )
    assert by_code.status == 403


async def test_turvakielto_masks_contacts_for_advisors_and_audits_full_reads(api: Client) -> None:
    protected = await create(api, turvakielto=True, turvakielto_start="2026-01-01")
    status, body = await read(api, protected["id"], "housing-advisor")
    assert status == 200
    assert body["addresses"] == body["phones"] == body["emails"] == "masked"
    status, body = await read(api, protected["id"], "customer-service")
    assert body["addresses"][0]["street"] == "Toinen linja 14"
    actions = await api.app[POOL].fetch(
        "SELECT actor, action FROM audit_log WHERE object_id = $1 ORDER BY seq", protected["id"]
    )
    assert ("customer-service", "customer.view_protected") in [tuple(a) for a in actions]
    assert ("housing-advisor", "customer.view") in [tuple(a) for a in actions]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("131052-308T", True),
        ("131052Y308T", False),  # another person: the separator is part of the identity
        ("040 123 4567", True),
        ("+358401234567", True),
        ("A-1001", True),
        ("mäki", True),
        ("MÄKINOTKELMA", True),
        ("maija mäk", True),
        ("mäk maija", True),
        ("virtanen", False),
        ("50%", False),
    ],
)
async def test_search(api: Client, q: str, found: bool) -> None:
    created = await create(api)
    response = await api.post(
        "/v1/customers/search", json={"q": q}, headers=await headers_for(api, "customer-service")
    )
    assert response.status == 200
    ids = [c["id"] for c in (await response.json())["items"]]
    assert ids == ([created["id"]] if found else [])
    audit = await api.app[POOL].fetchval(
        "SELECT details FROM audit_log WHERE action = 'customer.search'"
    )
    assert q not in str(audit)


async def test_changes_keep_history_that_shows_old_and_new(api: Client) -> None:
    created = await create(api)
    headers = await headers_for(api, "customer-service")
    response = await api.patch(
        f"/v1/customers/{created['id']}",
        json={"last_name": "Virtanen", "henkilotunnus": "010195+433X", "first_name": "Maija"},
        headers=headers,
    )
    assert response.status == 200
    assert (await response.json())["birth_date"] == "1895-01-01"
    history = await api.get(f"/v1/customers/{created['id']}/history", headers=headers)
    items = (await history.json())["items"]
    assert {(i["field"], i["old"], i["new"]) for i in items} == {
        ("last_name", "Mäkinotkelma", "Virtanen"),
        ("henkilotunnus", "131052-308T", "010195+433X"),
    }
    assert all(i["changed_by"] == "customer-service" for i in items)
    advisor = await api.get(
        f"/v1/customers/{created['id']}/history",
        headers=await headers_for(api, "housing-advisor"),
    )
    assert [i["field"] for i in (await advisor.json())["items"]] == ["last_name"]
    found = await api.post("/v1/customers/search", json={"q": "010195+433X"}, headers=headers)
    assert len((await found.json())["items"]) == 1
    bad = await api.patch(
        f"/v1/customers/{created['id']}", json={"roles": [], "language": 1}, headers=headers
    )
    assert bad.status == 422
    assert {e["field"] for e in (await bad.json())["errors"]} == {"roles", "language"}


async def test_contact_log_pages_newest_first(api: Client) -> None:
    created = await create(api)
    headers = await headers_for(api, "customer-service")
    url = f"/v1/customers/{created['id']}/contacts"
    for n in range(5):
        response = await api.post(
            url,
            json={
                "channel": "phone",
                "direction": "inbound",
                "topic": "fault_report",
                "note": f"leaking tap {n}",
                "at": f"2026-11-2{n}T10:00:00+02:00",
            },
            headers=headers,
        )
        assert response.status == 201
    notes: list[str] = []
    page_url = url + "?limit=2"
    while page_url:
        page = await (await api.get(page_url, headers=headers)).json()
        notes += [item["note"] for item in page["items"]]
        page_url = f"{url}?limit=2&cursor={page['next']}" if page["next"] else ""
    assert notes == [f"leaking tap {n}" for n in range(4, -1, -1)]
    bad = await api.post(
        url,
        json={"channel": "fax", "direction": "in", "topic": "x", "note": "", "recording_id": "1"},
        headers=headers,
    )
    assert {e["field"] for e in (await bad.json())["errors"]} == {
        "channel", "direction", "topic", "note", "recording_id",
    }  # fmt: skip
    unknown_recording = await api.post(
        url,
        json={
            "channel": "phone",
            "direction": "inbound",
            "topic": "rent",
            "note": "x",
            "recording_id": "00000000-0000-4000-8000-000000000000",
        },
        headers=headers,
    )
    assert unknown_recording.status == 422


async def test_disclosure_log_records_recipient_and_legal_basis(api: Client) -> None:
    created = await create(api)
    headers = await headers_for(api, "customer-service")
    url = f"/v1/customers/{created['id']}/disclosures"
    added = await api.post(
        url,
        json={
            "recipient": "Perintä Oy",
            "recipient_kind": "debt_collection",
            "legal_basis": "lease agreement; rent arrears",
            "data_disclosed": "name, address, unpaid rent",
        },
        headers=headers,
    )
    assert added.status == 201
    listed = await (await api.get(url, headers=await headers_for(api, "dpo"))).json()
    [entry] = listed["items"]
    assert (entry["recipient"], entry["recipient_kind"], entry["disclosed_by"]) == (
        "Perintä Oy",
        "debt_collection",
        "customer-service",
    )
    bad = await api.post(url, json={"recipient_kind": "neighbour", "at": "now"}, headers=headers)
    assert bad.status == 422
    assert {e["field"] for e in (await bad.json())["errors"]} == {
        "recipient", "recipient_kind", "legal_basis", "data_disclosed", "at",
    }  # fmt: skip
    dpo_add = await api.post(url, json={}, headers=await headers_for(api, "dpo"))
    assert dpo_add.status == 403


async def test_marketing_ban_supersedes_consent(api: Client) -> None:
    created = await create(api)
    headers = await headers_for(api, "customer-service")
    url = f"/v1/customers/{created['id']}/marketing"
    for allowed, at in ((True, "2026-01-01T09:00:00+02:00"), (False, "2026-06-01T09:00:00+03:00")):
        response = await api.post(
            url,
            json={"kind": "direct_marketing", "allowed": allowed, "given_via": "phone", "at": at},
            headers=headers,
        )
        assert response.status == 201
    items = (await (await api.get(url, headers=headers)).json())["items"]
    assert [(i["allowed"], i["current"]) for i in items] == [(False, True), (True, False)]
    bad = await api.post(url, json={"kind": "spam", "allowed": "no"}, headers=headers)
    assert {e["field"] for e in (await bad.json())["errors"]} == {"kind", "allowed", "given_via"}


async def test_leases_with_parties_and_household(api: Client) -> None:
    maija_row = await create(api)
    pekka = await create(
        api, customer_number="A-2", first_name="Pekka", henkilotunnus="010195+433X"
    )
    headers = await headers_for(api, "customer-service")
    lease = {
        "lease_number": "V-2024/118",
        "property": "Toinen linja 14",
        "apartment": "B 12",
        "start_date": "2024-03-01",
        "parties": [
            {"customer_id": maija_row["id"], "role": "tenant"},
            {"customer_id": pekka["id"], "role": "co_tenant"},
        ],
        "household": [{"name": "Aino Mäkinotkelma", "birth_date": "2015-04-01"}],
    }
    created = await api.post("/v1/leases", json=lease, headers=headers)
    assert created.status == 201, await created.text()
    again = await api.post("/v1/leases", json=lease, headers=headers)
    assert again.status == 409
    assert (await again.json())["errors"][0]["field"] == "lease_number"
    listed = await api.get(
        f"/v1/customers/{pekka['id']}/leases", headers=await headers_for(api, "dpo")
    )
    [item] = (await listed.json())["items"]
    assert item["apartment"] == "B 12"
    assert {(p["role"], p["name"]) for p in item["parties"]} == {
        ("tenant", "Maija Mäkinotkelma"),
        ("co_tenant", "Pekka Mäkinotkelma"),
    }
    assert item["household"] == [{"name": "Aino Mäkinotkelma", "birth_date": "2015-04-01"}]
    bad = await api.post(
        "/v1/leases",
        json={
            "lease_number": "",
            "start_date": "2024-13-01",
            "end_date": "2020-01-01",
            "parties": [{"customer_id": "x", "role": "tenant"}, {"role": "owner"}],
            "household": [{"birth_date": "yesterday"}],
        },
        headers=headers,
    )
    assert bad.status == 422
    assert {e["field"] for e in (await bad.json())["errors"]} == {
        "lease_number", "property", "apartment", "start_date", "parties[0].customer_id",
        "parties[1].customer_id", "household[0].name",
        # one 422 names every bad field (issue 16), not only the first of each item
        "parties[1].role", "household[0].birth_date",
    }  # fmt: skip
    stranger = dict(
        lease, lease_number="V-1", parties=[{"customer_id": str(uuid4()), "role": "tenant"}]
    )
    missing = await api.post("/v1/leases", json=stranger, headers=headers)
    assert missing.status == 409
    assert await api.app[POOL].fetchval("SELECT count(*) FROM leases") == 1


async def ward_and_guardian(api: Client) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Two customers, and customer service's headers to link them with."""
    ward = await create(api)
    guardian = await create(
        api, customer_number="A-2", first_name="Pekka", henkilotunnus="010195+433X"
    )
    return ward, guardian, await headers_for(api, "customer-service")


async def test_guardianship_links_show_from_both_sides(api: Client) -> None:
    ward, guardian, headers = await ward_and_guardian(api)
    url = f"/v1/customers/{ward['id']}/guardianships"
    added = await api.post(
        url,
        json={"guardian_id": guardian["id"], "kind": "edunvalvonta", "start_date": "2025-01-01"},
        headers=headers,
    )
    assert added.status == 201
    seen = await (
        await api.get(f"/v1/customers/{guardian['id']}/guardianships", headers=headers)
    ).json()
    [link] = seen["items"]
    assert (link["role"], link["kind"], link["ward"]["name"]) == (
        "guardian",
        "edunvalvonta",
        "Maija Mäkinotkelma",
    )
    self_link = await api.post(
        url, json={"guardian_id": ward["id"], "kind": "minor"}, headers=headers
    )
    assert self_link.status == 409
    bad = await api.post(
        url, json={"guardian_id": "x", "kind": "parent", "end_date": "-"}, headers=headers
    )
    assert {e["field"] for e in (await bad.json())["errors"]} == {"guardian_id", "kind", "end_date"}


async def test_a_change_can_be_undone(api: Client) -> None:
    created = await create(api)
    headers = await headers_for(api, "customer-service")
    url = f"/v1/customers/{created['id']}"
    changed = await api.patch(
        url,
        json={
            "phones": [{"number": "+358409999999", "type": "work"}],
            "henkilotunnus": "010195+433X",
        },
        headers=headers,
    )
    assert changed.status == 200
    history = (await (await api.get(url + "/history", headers=headers)).json())["items"]
    for item in history:
        undone = await api.post(f"{url}/history/{item['id']}/undo", headers=headers)
        assert undone.status == 200, await undone.text()
    restored = await (await api.get(url, headers=headers)).json()
    assert restored["phones"] == [{"number": "+358401234567", "type": "mobile"}]
    assert restored["henkilotunnus"] == "131052-308T"
    assert restored["birth_date"] == "1952-10-13"
    after = (await (await api.get(url + "/history", headers=headers)).json())["items"]
    assert len(after) == 4  # the undos are changes too
    unknown = await api.post(f"{url}/history/{uuid4()}/undo", headers=headers)
    assert unknown.status == 404


async def test_a_recipients_only_node_cannot_open_the_register(
    settings: Settings, tmp_path: Path
) -> None:
    full = Keyring.create(tmp_path / "full.txt")
    recipients_only = tmp_path / "recipients.txt"
    recipients_only.write_text(full.recipients_only())
    ingest_node = dataclasses.replace(settings, keyring=recipients_only)
    async with TestClient(TestServer(create_app(ingest_node, run_worker=False))) as client:
        await add_role_users(client)
        response = await client.get(
            "/v1/customers/00000000-0000-4000-8000-000000000000",
            headers=await headers_for(client, "customer-service"),
        )
        assert response.status == 503
        assert (await response.json())["type"].endswith("/register-unavailable")


async def test_a_lease_ends_and_shows_as_current_until_then(api: Client) -> None:
    tenant = await create(api)
    headers = await headers_for(api, "customer-service")
    lease = {
        "lease_number": "V-7",
        "property": "Toinen linja 14",
        "apartment": "B 12",
        "start_date": "2024-03-01",
        "parties": [{"customer_id": tenant["id"], "role": "tenant"}],
    }
    lease_id = (await (await api.post("/v1/leases", json=lease, headers=headers)).json())["id"]
    await api.post(
        f"/v1/customers/{tenant['id']}/marketing",
        json={"kind": "surveys", "allowed": False, "given_via": "phone"},
        headers=headers,
    )
    document = await (await api.get(f"/v1/customers/{tenant['id']}", headers=headers)).json()
    assert [(item["lease_number"], item["role"]) for item in document["current_leases"]] == [
        ("V-7", "tenant")
    ]
    assert document["marketing"]["direct_marketing"] is None
    assert document["marketing"]["surveys"]["allowed"] is False

    url = f"/v1/leases/{lease_id}"
    ended = await api.patch(
        url, json={"terminated_on": "2025-01-15", "end_date": "2025-02-28"}, headers=headers
    )
    assert ended.status == 200, await ended.text()
    document = await (await api.get(f"/v1/customers/{tenant['id']}", headers=headers)).json()
    assert document["current_leases"] == []
    [item] = (
        await (await api.get(f"/v1/customers/{tenant['id']}/leases", headers=headers)).json()
    )["items"]
    assert (item["end_date"], item["terminated_on"]) == ("2025-02-28", "2025-01-15")

    before_start = await api.patch(url, json={"end_date": "2020-01-01"}, headers=headers)
    assert before_start.status == 409
    assert (await before_start.json())["errors"][0]["field"] == "end_date"
    bad = await api.patch(url, json={"apartment": "C 1", "end_date": "soon"}, headers=headers)
    assert bad.status == 422
    assert {e["field"] for e in (await bad.json())["errors"]} == {"apartment", "end_date"}
    assert (await api.patch(url, json={}, headers=headers)).status == 422
    unknown = await api.patch(f"/v1/leases/{uuid4()}", json={"end_date": None}, headers=headers)
    assert unknown.status == 404
    advisor = await api.patch(
        url, json={"end_date": None}, headers=await headers_for(api, "housing-advisor")
    )
    assert advisor.status == 403
    row = await api.app[POOL].fetchrow("SELECT end_date, apartment FROM leases")
    assert row is not None
    assert (str(row["end_date"]), row["apartment"]) == ("2025-02-28", "B 12")


async def test_lease_addresses_are_masked_under_turvakielto(api: Client) -> None:
    tenant = await create(api, turvakielto=True)
    lease = {
        "lease_number": "V-8",
        "property": "Salainen katu 1",
        "apartment": "A 1",
        "start_date": "2024-03-01",
        "parties": [{"customer_id": tenant["id"], "role": "tenant"}],
    }
    headers = await headers_for(api, "customer-service")
    assert (await api.post("/v1/leases", json=lease, headers=headers)).status == 201
    advisor = await headers_for(api, "housing-advisor")
    document = await (await api.get(f"/v1/customers/{tenant['id']}", headers=advisor)).json()
    listed = await (await api.get(f"/v1/customers/{tenant['id']}/leases", headers=advisor)).json()
    for item in (document["current_leases"][0], listed["items"][0]):
        assert (item["property"], item["apartment"], item["lease_number"]) == (
            "masked",
            "masked",
            "V-8",
        )
    staff = await (await api.get(f"/v1/customers/{tenant['id']}/leases", headers=headers)).json()
    assert staff["items"][0]["property"] == "Salainen katu 1"


async def test_a_guardianship_link_ends(api: Client) -> None:
    ward, guardian, headers = await ward_and_guardian(api)
    url = f"/v1/customers/{ward['id']}/guardianships"
    added = await api.post(
        url,
        json={"guardian_id": guardian["id"], "kind": "minor", "start_date": "2020-01-01"},
        headers=headers,
    )
    link_id = (await added.json())["id"]
    assert (await api.patch(f"{url}/{link_id}", json={}, headers=headers)).status == 422
    early = await api.patch(f"{url}/{link_id}", json={"end_date": "2019-12-31"}, headers=headers)
    assert early.status == 409
    other = await create(api, customer_number="A-3", henkilotunnus="131052A308T")
    elsewhere = await api.patch(
        f"/v1/customers/{other['id']}/guardianships/{link_id}",
        json={"end_date": "2026-01-01"},
        headers=headers,
    )
    assert elsewhere.status == 404
    ended = await api.patch(
        f"/v1/customers/{guardian['id']}/guardianships/{link_id}",
        json={"end_date": "2026-01-01"},
        headers=headers,
    )
    assert ended.status == 200
    [link] = (await (await api.get(url, headers=headers)).json())["items"]
    assert link["end_date"] == "2026-01-01"


async def test_null_never_clears_a_protection_or_a_name_and_a_misspelt_field_is_refused(
    api: Client,
) -> None:
    """A null turvakielto read as false lifted the protection; a null name was stored as ''
    and a misspelt field ("turvakielo") answered 200 having changed nothing."""
    customer = await create(api, turvakielto=True, henkilotunnus=None)
    url = f"/v1/customers/{customer['id']}"
    headers = await headers_for(api, "customer-service")
    for body, field in [
        ({"turvakielto": None}, "turvakielto"),
        ({"last_name": None}, "last_name"),
        ({"roles": None}, "roles"),
        ({"turvakielo": False}, "turvakielo"),
    ]:
        response = await api.patch(url, json=body, headers=headers)
        assert response.status == 422, (body, await response.text())
        assert [e["field"] for e in (await response.json())["errors"]] == [field]
    response = await api.post(
        "/v1/customers", json=maija(customer_number="A-2", turvakielo=True), headers=headers
    )
    assert response.status == 422
    status, document = await read(api, customer["id"], "customer-service")
    assert status == 200
    assert document["turvakielto"] is True
    assert document["last_name"] == "Mäkinotkelma"
    cleared = await api.patch(url, json={"assigned_advisor": None, "phones": None}, headers=headers)
    assert cleared.status == 200  # optional fields still clear with null
    assert (await cleared.json())["phones"] == []


async def test_the_list_pages_by_a_cursor_that_holds_no_name(api: Client) -> None:
    """The cursor of ``GET /v1/customers`` travels in a URL (proxy logs, browser history): it
    held the last name of the page's last customer."""
    names = ["Aaltonen", "Mäkinotkelma", "Mäkinotkelma", "Virtanen"]
    for n, name in enumerate(names):
        await create(api, customer_number=f"L-{n}", last_name=name, henkilotunnus=None)
    headers = await headers_for(api, "customer-service")
    listed: list[str] = []
    cursors: list[str] = []
    url = "/v1/customers?limit=1"
    while url:
        page = await (await api.get(url, headers=headers)).json()
        listed += [item["customer_number"] for item in page["items"]]
        url = f"/v1/customers?limit=1&cursor={page['next']}" if page["next"] else ""
        cursors += [page["next"]] if page["next"] else []
    assert sorted(listed) == ["L-0", "L-1", "L-2", "L-3"]
    assert listed[1:3] in (["L-1", "L-2"], ["L-2", "L-1"])  # the two Mäkinotkelmas by id
    for cursor in cursors:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        assert not any(name.lower() in text for name in names), text
    advisor = await headers_for(api, "housing-advisor")
    mine = await (await api.get("/v1/customers?limit=1", headers=advisor)).json()
    assert [item["customer_number"] for item in mine["items"]] == ["L-0"]
    rest = await api.get(f"/v1/customers?limit=5&cursor={mine['next']}", headers=advisor)
    assert [item["customer_number"] for item in (await rest.json())["items"]] == listed[1:]
