"""Turvakielto reaches every address shared with a protected person.

Pekka (C1) shares a lease, a home address and a landline with Kaisa (C2), who is under
turvakielto. Every route of the app is walked as each reader for whom Kaisa's address is
masked, about Pekka and about Kaisa, and so is Pekka's access export: none may show Kaisa's
name next to the lease, her street, apartment, property, postal code, phones, e-mails or
household. A new register route fails the guard below until it is added to the walk.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from typing import Any, Final

from accounts.users import create_user
from api.appkeys import POOL, SETTINGS, VAULT
from rights.processor import RightsProcessor
from tests.api.sessions import PASSWORD, Client, headers_for
from tests.register.samples import maija

SHARED_ADDRESS: Final = {"street": "Piilokuja 7 C 317", "postal_code": "99871", "city": "Oulu"}
LANDLINE: Final = "+358981234560"  # the household's landline: Kaisa's too
KAISA: Final = {
    "customer_number": "K-2",
    "first_name": "Kaisa",
    "last_name": "Varjo",
    "henkilotunnus": "010195+433X",
    "turvakielto": True,
    "phones": [
        {"number": "+358457654321", "type": "mobile"},
        {"number": LANDLINE, "type": "landline"},
    ],
    "emails": ["kaisa.varjo@example.fi"],
    "addresses": [SHARED_ADDRESS],
    "assigned_advisor": "other-advisor",
}
PEKKA: Final = {
    "customer_number": "P-1",
    "first_name": "Pekka",
    "last_name": "Laine",
    "phones": [
        {"number": "+358401110001", "type": "mobile"},
        {"number": LANDLINE, "type": "landline"},
    ],
    "emails": ["pekka.laine@example.fi"],
    "addresses": [{"street": "Vanha tie 1", "postal_code": "00100", "city": "Helsinki"}],
}
LEASE: Final = {
    "lease_number": "V-77",
    "property": "Piilokuja 7",
    "apartment": "C 317",
    "start_date": "2025-01-01",
    "household": [{"name": "Ilona Varjo", "birth_date": "2016-05-05"}],
}
SECRETS: Final = (
    "Kaisa Varjo",  # her name as a party of the lease: a name with an address
    "Ilona Varjo",  # her household
    "Piilokuja",  # street and property
    "C 317",  # apartment
    "+358457654321",
    "358457654321",
    "+358981234560",
    "358981234560",
    "kaisa.varjo@example.fi",
)
POSTAL_CODE: Final = re.compile(r"\b99871\b")
# Every route about customers and leases, and the JSON bodies to send when walking it; a new
# one must be added here (so that someone decides what a masked reader may see of it).
REGISTER_ROUTES: Final[dict[tuple[str, str], list[Any]]] = {
    ("GET", "/v1/customers"): [None],
    ("POST", "/v1/customers"): [{}],
    ("POST", "/v1/customers/search"): [
        {"q": "Laine"},
        {"q": "Varjo"},
        {"q": "Pekka Laine"},
        {"q": "P-1"},
        {"q": LANDLINE},
        {"q": "+358457654321"},
    ],
    ("GET", "/v1/customers/{id}"): [None],
    ("PATCH", "/v1/customers/{id}"): [{"first_name": "X"}],
    ("GET", "/v1/customers/{id}/history"): [None],
    ("POST", "/v1/customers/{id}/history/{change_id}/undo"): [None],
    ("GET", "/v1/customers/{id}/contacts"): [None],
    ("POST", "/v1/customers/{id}/contacts"): [{}],
    ("GET", "/v1/customers/{id}/disclosures"): [None],
    ("POST", "/v1/customers/{id}/disclosures"): [{}],
    ("GET", "/v1/customers/{id}/marketing"): [None],
    ("POST", "/v1/customers/{id}/marketing"): [{}],
    ("GET", "/v1/customers/{id}/leases"): [None],
    ("GET", "/v1/customers/{id}/guardianships"): [None],
    ("POST", "/v1/customers/{id}/guardianships"): [{}],
    ("PATCH", "/v1/customers/{id}/guardianships/{link_id}"): [{}],
    ("POST", "/v1/leases"): [{}],
    ("PATCH", "/v1/leases/{id}"): [{}],
}
MASKED_READERS: Final = ("housing-advisor", "advisor-trainer", "other-advisor", "trainer", "admin")


def leaks(text: str) -> list[str]:
    """Which of Kaisa's protected values ``text`` shows."""
    found = [secret for secret in SECRETS if secret in text]
    return found + (["postal code"] if POSTAL_CODE.search(text) else [])


async def household(api: Client) -> dict[str, str]:
    """Pekka and Kaisa on one lease, at one address with one landline; Pekka moved in (his
    address history holds hers). Pekka is the housing advisor's customer, Kaisa the other
    advisor's."""
    staff = await headers_for(api, "customer-service")
    await create_user(api.app[POOL], "other-advisor", PASSWORD, ["housing_advisor"])
    await create_user(api.app[POOL], "advisor-trainer", PASSWORD, ["housing_advisor", "trainer"])
    ids = {}
    for name, body in (("kaisa", KAISA), ("pekka", PEKKA)):
        created = await api.post("/v1/customers", json=maija(**body), headers=staff)
        assert created.status == 201, await created.text()
        ids[name] = str((await created.json())["id"])
    moved = await api.patch(
        f"/v1/customers/{ids['pekka']}", json={"addresses": [SHARED_ADDRESS]}, headers=staff
    )
    assert moved.status == 200, await moved.text()
    parties = [
        {"customer_id": ids["pekka"], "role": "tenant"},
        {"customer_id": ids["kaisa"], "role": "co_tenant"},
    ]
    lease = await api.post("/v1/leases", json=LEASE | {"parties": parties}, headers=staff)
    assert lease.status == 201, await lease.text()
    ids["lease"] = str((await lease.json())["id"])
    note = {"channel": "phone", "direction": "inbound", "topic": "rent", "note": "rent plan"}
    for customer in ("pekka", "kaisa"):
        added = await api.post(f"/v1/customers/{ids[customer]}/contacts", json=note, headers=staff)
        assert added.status == 201
    history = await api.get(f"/v1/customers/{ids['pekka']}/history", headers=staff)
    ids["change"] = str((await history.json())["items"][0]["id"])
    return ids


def register_routes(api: Client) -> set[tuple[str, str]]:
    """The app's routes about customers and leases, as (method, path template)."""
    routes = set()
    for route in api.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith(("/v1/customers", "/v1/leases")) and route.method != "HEAD":
            routes.add((route.method, path))
    return routes


def every_route(api: Client) -> list[tuple[str, str, list[Any]]]:
    """Every GET route of the app, and every register route with the bodies to send."""
    walk = [(method, path, bodies) for (method, path), bodies in REGISTER_ROUTES.items()]
    for route in api.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method == "GET" and (route.method, path) not in REGISTER_ROUTES:
            walk.append(("GET", path, [None]))
    return walk


def filled(path: str, ids: dict[str, str], subject: str) -> str:
    """``path`` with its parameters pointing at ``subject`` (a customer, or the lease)."""
    values = {
        "id": ids["lease"] if path.startswith("/v1/leases") else ids[subject],
        "change_id": ids["change"],
        "link_id": str(uuid.uuid4()),
        "token": str(uuid.uuid4()),
        "name": "app.js",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), ids[subject]), path)


async def test_every_register_route_is_walked(staff_api: Client) -> None:
    assert register_routes(staff_api) == set(REGISTER_ROUTES)


async def test_no_route_shows_a_protected_co_tenants_address(staff_api: Client) -> None:
    api = staff_api
    ids = await household(api)
    dpo = await headers_for(api, "dpo")
    seen = await api.get(f"/v1/customers/{ids['pekka']}/leases", headers=dpo)
    assert set(SECRETS[:4]) <= set(leaks(await seen.text())), "the walk would find nothing"
    found = []
    answered = set()
    for reader in MASKED_READERS:
        headers = await headers_for(api, reader)
        for subject in ("pekka", "kaisa"):
            for method, path, bodies in every_route(api):
                for body in bodies:
                    url = filled(path, ids, subject)
                    response = await api.request(method, url, json=body, headers=headers)
                    assert response.status < 500, (method, url, await response.text())
                    if response.status == 200:
                        answered.add((reader, method, path))
                    if leaked := leaks(await response.text()):
                        found.append((reader, method, path, subject, body, leaked))
    assert found == []
    for advisor in ("housing-advisor", "other-advisor"):
        reads = {(advisor, m, p) for m, p in REGISTER_ROUTES if m == "GET"}
        assert reads <= answered, "each advisor must have read every register list"


async def test_the_advisor_still_sees_what_is_not_protected(staff_api: Client) -> None:
    api = staff_api
    ids = await household(api)
    advisor = await headers_for(api, "housing-advisor")
    pekka = await (await api.get(f"/v1/customers/{ids['pekka']}", headers=advisor)).json()
    assert pekka["phones"][0] == {"number": "+358401110001", "type": "mobile"}
    assert pekka["emails"] == ["pekka.laine@example.fi"]
    assert pekka["addresses"][0]["street"] == "masked"  # his home is hers
    [current] = pekka["current_leases"]
    assert (current["lease_number"], current["property"], current["apartment"]) == (
        "V-77",
        "masked",
        "masked",
    )
    leases = await (await api.get(f"/v1/customers/{ids['pekka']}/leases", headers=advisor)).json()
    [lease] = leases["items"]
    assert lease["household"] == "masked"
    assert sorted(p["name"] for p in lease["parties"]) == ["Pekka Laine", "masked"]
    staff = await headers_for(api, "customer-service")
    full = await (await api.get(f"/v1/customers/{ids['pekka']}/leases", headers=staff)).json()
    assert full["items"][0]["property"] == "Piilokuja 7"
    audit = await api.app[POOL].fetch(
        "SELECT actor, action FROM audit_log WHERE object_id = $1 ORDER BY seq", ids["pekka"]
    )
    assert [tuple(a) for a in audit if a["action"].startswith("customer.view")] == [
        ("housing-advisor", "customer.view"),
    ]
    assert ("customer-service", "customer.leases") in [tuple(a) for a in audit]


async def searches(api: Client, user: str, *queries: str) -> list[list[str]]:
    """The names each search finds, as ``user``."""
    headers = await headers_for(api, user)
    found = []
    for q in queries:
        response = await api.post("/v1/customers/search", json={"q": q}, headers=headers)
        assert response.status == 200
        found.append(sorted(c["first_name"] for c in (await response.json())["items"]))
    return found


async def test_a_protected_phone_number_finds_nobody_for_the_advisor(staff_api: Client) -> None:
    await household(staff_api)
    queries = (LANDLINE, "+358457654321", "+358401110001")
    assert await searches(staff_api, "housing-advisor", *queries) == [[], [], ["Pekka"]]
    her_advisor = await searches(staff_api, "other-advisor", "+358457654321", "Varjo")
    assert her_advisor == [[], ["Kaisa"]]
    assert await searches(staff_api, "customer-service", *queries) == [
        ["Kaisa", "Pekka"],
        ["Kaisa"],
        ["Pekka"],
    ]


async def test_an_access_export_leaves_out_a_protected_co_tenants_address(
    staff_api: Client,
) -> None:
    api = staff_api
    ids = await household(api)
    created = await api.post(
        "/v1/subject-requests",
        json={"kind": "access", "subject": {"customer_id": ids["pekka"]}, "channel": "phone"},
        headers=await headers_for(api, "customer-service"),
    )
    assert created.status == 201, await created.text()
    request_id = (await created.json())["id"]
    dpo = await headers_for(api, "dpo")
    url = f"/v1/subject-requests/{request_id}"
    verified = await api.post(f"{url}/verify", json={"method": "in person"}, headers=dpo)
    assert verified.status == 200
    assert (await api.post(f"{url}/fulfil", headers=dpo)).status == 202
    await RightsProcessor(api.app[POOL], api.app[VAULT], api.app[SETTINGS]).run_until_idle()
    document = await (await api.get(url, headers=dpo)).json()
    download = await api.get(document["download_url"])
    assert download.status == 200
    archive = zipfile.ZipFile(io.BytesIO(await download.read()))
    texts = {
        name: archive.read(name).decode("utf-8-sig", errors="replace")
        for name in archive.namelist()
    }
    assert {name: leaks(text) for name, text in texts.items() if leaks(text)} == {}
    customer = texts["register/customer.json"]
    assert "+358401110001" in customer  # his own phone and e-mail are his
    assert "pekka.laine@example.fi" in customer
    assert "V-77" in texts["register/leases.json"]


async def test_her_address_is_masked_wherever_it_is_written(staff_api: Client) -> None:
    api = staff_api
    ids = await household(api)
    staff = await headers_for(api, "customer-service")
    liisa = maija(
        customer_number="L-3",
        first_name="Liisa",
        last_name="Koski",
        henkilotunnus="131052Y308T",
        phones=[{"number": "+358402220002", "type": "mobile"}],
        emails=["kaisa.varjo@example.fi"],  # her ward's mail comes to her
        addresses=[
            {"street": "Koskitie 2", "postal_code": "00200", "city": "Helsinki"},
            {"street": "  PIILOKUJA 7   c 317 ", "postal_code": "99871", "city": "Oulu"},
        ],
    )
    created = await api.post("/v1/customers", json=liisa, headers=staff)
    assert created.status == 201, await created.text()
    liisa_id = (await created.json())["id"]
    link = await api.post(
        f"/v1/customers/{ids['kaisa']}/guardianships",
        json={"guardian_id": liisa_id, "kind": "edunvalvonta"},
        headers=staff,
    )
    assert link.status == 201, await link.text()
    advisor = await headers_for(api, "housing-advisor")
    document = await (await api.get(f"/v1/customers/{liisa_id}", headers=advisor)).json()
    assert leaks(str(document)) == []
    assert "PIILOKUJA" not in str(document)
    assert document["phones"] == [{"number": "+358402220002", "type": "mobile"}]
    assert document["emails"] == ["masked"]
    assert [a["street"] for a in document["addresses"]] == ["Koskitie 2", "masked"]
