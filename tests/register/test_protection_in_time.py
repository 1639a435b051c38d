"""Turvakielto has a time: masked only while in force, and a lease that has ended no longer
makes a co-tenant's home a protected person's home (register/protection.py), through the API.

A housing advisor (no task for protected data) reads; customer service (with it) is the
control that the data is there.
"""

from __future__ import annotations

from typing import Any, Final

from api.appkeys import POOL
from tests.api.sessions import Client, headers_for
from tests.register.samples import maija

PAST: Final = {"turvakielto_start": "2020-01-01", "turvakielto_end": "2021-01-01"}
FUTURE: Final = {"turvakielto_start": "2099-01-01"}
NOW: Final = {"turvakielto_start": "2020-01-01"}
MASKED: Final = "masked"


async def created(api: Client, n: int, **fields: Any) -> str:
    """A customer of the housing advisor, with their own phone, e-mail and address."""
    body = maija(
        customer_number=f"T-{n}",
        henkilotunnus=None,
        phones=[{"number": f"+35840555000{n}", "type": "mobile"}],
        emails=[f"person{n}@example.fi"],
        addresses=[{"street": f"Oma katu {n}", "postal_code": "00100", "city": "Helsinki"}],
    )
    response = await api.post(
        "/v1/customers", json=body | fields, headers=await headers_for(api, "customer-service")
    )
    assert response.status == 201, await response.text()
    return str((await response.json())["id"])


async def read(api: Client, path: str, user: str) -> Any:
    response = await api.get(path, headers=await headers_for(api, user))
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_turvakielto_masks_only_while_it_is_in_force(staff_api: Client) -> None:
    ended = await created(staff_api, 1, turvakielto=True, **PAST)
    coming = await created(staff_api, 2, turvakielto=True, **FUTURE)
    current = await created(staff_api, 3, turvakielto=True, **NOW)
    for customer, masked in ((ended, False), (coming, False), (current, True)):
        document = await read(staff_api, f"/v1/customers/{customer}", "housing-advisor")
        contacts = [document[name] for name in ("phones", "emails", "addresses")]
        assert (contacts == [MASKED] * 3) is masked, document
        if not masked:
            assert document["addresses"][0]["street"].startswith("Oma katu")
            assert document["phones"][0]["number"].startswith("+35840555000")
        full = await read(staff_api, f"/v1/customers/{customer}", "customer-service")
        assert full["addresses"][0]["street"].startswith("Oma katu")
        assert full["turvakielto"] is True  # the order itself is kept, only not in force
    actions = await staff_api.app[POOL].fetch(
        "SELECT object_id, action FROM audit_log WHERE actor = 'customer-service'"
        " AND action LIKE 'customer.view%'"
    )
    viewed = {str(row["object_id"]): row["action"] for row in actions}
    assert viewed == {
        ended: "customer.view",
        coming: "customer.view",
        current: "customer.view_protected",
    }


async def test_a_co_tenant_on_an_ended_lease_no_longer_lives_with_the_protected_person(
    staff_api: Client,
) -> None:
    """The ended lease is still the protected person's address (masked), and so is an
    address the co-tenant shares with her; the co-tenant's own address, phone and e-mail are
    not masked, as they would be while the two live together."""
    shared = {"street": "Piilokuja 7 C 317", "postal_code": "99871", "city": "Oulu"}
    protected = await created(staff_api, 4, turvakielto=True, addresses=[shared], **NOW)
    tenant = await created(staff_api, 5)
    staff = await headers_for(staff_api, "customer-service")
    lease = {
        "lease_number": "V-1",
        "property": "Piilokuja 7",
        "apartment": "C 317",
        "start_date": "2020-01-01",
        "end_date": "2021-12-31",
        "parties": [
            {"customer_id": protected, "role": "tenant"},
            {"customer_id": tenant, "role": "co_tenant"},
        ],
        "household": [{"name": "Ilona Varjo"}],
    }
    assert (await staff_api.post("/v1/leases", json=lease, headers=staff)).status == 201
    moved = {"street": "Oma katu 5", "postal_code": "00100", "city": "Helsinki"}
    change = {"addresses": [moved, shared]}  # the co-tenant still has her address on file
    patched = await staff_api.patch(f"/v1/customers/{tenant}", json=change, headers=staff)
    assert patched.status == 200, await patched.text()

    document = await read(staff_api, f"/v1/customers/{tenant}", "housing-advisor")
    assert document["current_leases"] == []  # ended: nobody lives there now
    assert document["addresses"] == [
        moved | {"country": "FI"},
        dict.fromkeys([*shared, "country"], MASKED),
    ]
    assert document["phones"] == [{"number": "+358405550005", "type": "mobile"}]
    assert document["emails"] == ["person5@example.fi"]
    [ended] = (await read(staff_api, f"/v1/customers/{tenant}/leases", "housing-advisor"))["items"]
    assert (ended["property"], ended["apartment"], ended["household"]) == (MASKED,) * 3
    parties = {p["role"]: p for p in ended["parties"]}
    assert parties["tenant"]["customer_id"] == parties["tenant"]["name"] == MASKED
    assert parties["co_tenant"]["customer_id"] == tenant  # the reader's own customer

    full = await read(staff_api, f"/v1/customers/{tenant}/leases", "customer-service")
    assert full["items"][0]["property"] == "Piilokuja 7"
    assert {p["customer_id"] for p in full["items"][0]["parties"]} == {protected, tenant}
