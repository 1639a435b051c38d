"""The register's lists as JSON, exactly: the domain returns typed objects and api/ writes
them; the fields, ids, dates and the staff's usernames (from accounts/) stay as they were."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from tests.api.sessions import Client, headers_for
from tests.register.samples import maija

ID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def test_lists_keep_their_json_with_the_staff_by_username(staff_api: Client) -> None:
    staff = await headers_for(staff_api, "customer-service")

    async def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await staff_api.post(url, json=body, headers=staff)
        assert response.status == 201, await response.text()
        return dict(await response.json())

    async def items(url: str) -> list[dict[str, Any]]:
        response = await staff_api.get(url, headers=staff)
        assert response.status == 200, await response.text()
        return list((await response.json())["items"])

    maija_id = (await post("/v1/customers", maija()))["id"]
    pekka_id = (
        await post("/v1/customers", maija(customer_number="A-2", first_name="Pekka",
                                          henkilotunnus="010195+433X"))
    )["id"]  # fmt: skip
    url = f"/v1/customers/{maija_id}"
    at = "2026-01-01T10:00:00+00:00"
    await post(f"{url}/contacts", {"channel": "phone", "direction": "inbound",
                                   "topic": "rent", "note": "n", "at": at})  # fmt: skip
    await post(f"{url}/disclosures", {"recipient": "R", "recipient_kind": "debt_collection",
                                      "legal_basis": "b", "data_disclosed": "d", "at": at})  # fmt: skip
    await post(f"{url}/marketing", {"kind": "surveys", "allowed": True, "given_via": "web",
                                    "at": at})  # fmt: skip
    await post("/v1/leases", {"lease_number": "V-1", "property": "P", "apartment": "A",
                              "start_date": "2025-01-01",
                              "parties": [{"customer_id": maija_id, "role": "tenant"}],
                              "household": [{"name": "Aino"}]})  # fmt: skip
    await post(f"/v1/customers/{pekka_id}/guardianships",
               {"guardian_id": maija_id, "kind": "minor"})  # fmt: skip
    changed = await staff_api.patch(url, json={"last_name": "Virtanen"}, headers=staff)
    assert changed.status == 200

    [contact] = await items(f"{url}/contacts")
    assert ID.match(contact.pop("id"))
    assert contact == {"channel": "phone", "direction": "inbound", "topic": "rent", "note": "n",
                       "recording_id": None, "at": at, "staff": "customer-service"}  # fmt: skip
    [disclosure] = await items(f"{url}/disclosures")
    assert ID.match(disclosure.pop("id"))
    assert disclosure == {"recipient": "R", "recipient_kind": "debt_collection",
                          "legal_basis": "b", "data_disclosed": "d", "at": at,
                          "disclosed_by": "customer-service"}  # fmt: skip
    [preference] = await items(f"{url}/marketing")
    assert ID.match(preference.pop("id"))
    assert preference == {"kind": "surveys", "allowed": True, "given_via": "web", "at": at,
                          "recorded_by": "customer-service", "current": True}  # fmt: skip
    [change] = await items(f"{url}/history")
    assert ID.match(change.pop("id"))
    assert datetime.fromisoformat(change.pop("at")).tzinfo is not None
    assert change == {"field": "last_name", "old": "Mäkinotkelma", "new": "Virtanen",
                      "changed_by": "customer-service"}  # fmt: skip
    [lease] = await items(f"{url}/leases")
    lease_id = lease.pop("id")
    assert ID.match(lease_id)
    assert lease == {"lease_number": "V-1", "property": "P", "apartment": "A",
                     "start_date": "2025-01-01", "end_date": None, "terminated_on": None,
                     "parties": [{"customer_id": maija_id, "role": "tenant",
                                  "name": "Maija Virtanen"}],
                     "household": [{"name": "Aino", "birth_date": None}]}  # fmt: skip
    [link] = await items(f"{url}/guardianships")
    assert ID.match(link.pop("id"))
    assert link == {"kind": "minor", "start_date": None, "end_date": None, "role": "guardian",
                    "guardian": {"id": maija_id, "name": "Maija Virtanen"},
                    "ward": {"id": pekka_id, "name": "Pekka Mäkinotkelma"}}  # fmt: skip
    document = await (await staff_api.get(url, headers=staff)).json()
    assert document["assigned_advisor"] == "housing-advisor"
    assert document["current_leases"] == [
        {"id": lease_id, "lease_number": "V-1", "property": "P", "apartment": "A",
         "start_date": "2025-01-01", "end_date": None, "terminated_on": None, "role": "tenant"}
    ]  # fmt: skip
    assert document["marketing"] == {
        "direct_marketing": None,
        "surveys": {"allowed": True, "given_via": "web", "at": at},
    }
