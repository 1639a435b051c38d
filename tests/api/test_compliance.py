"""The compliance routes over HTTP: the public notices (page and API) and the DPO's record,
read from the running app (its settings, its role table, its disclosure log)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from api.compliance import preferred_language
from callrec.app import create_app
from common.settings import Settings
from tests.api.sessions import Client, add_role_users, headers_for
from tests.compliance.test_organisation import EXAMPLE
from tests.register.samples import maija

NOTICE = "/v1/compliance/privacy-notice"
RECORD = "/v1/compliance/record-of-processing"


@pytest.fixture
async def changed_api(staff_settings: Settings) -> AsyncIterator[Client]:
    """The app with a shorter recordings period and the example organisation profile."""
    settings = dataclasses.replace(
        staff_settings, retention_recordings_days=45, organisation_file=EXAMPLE
    )
    async with TestClient(TestServer(create_app(settings, run_worker=False))) as client:
        await add_role_users(client)
        yield client


async def test_the_privacy_page_is_public_html_without_script(staff_api: Client) -> None:
    response = await staff_api.get("/privacy")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert '<html lang="fi">' in page
    assert "<h1>Tietosuojaselosteet</h1>" in page
    assert "<script" not in page
    policy = response.headers["Content-Security-Policy"]
    assert "script-src" not in policy  # default-src 'none': no script at all
    assert "style-src 'sha256-" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Language"] == "fi"
    assert "[täydennettävä: Y-tunnus]" in page  # no profile in these settings

    response = await staff_api.get("/privacy", headers={"Accept-Language": "sv-FI,en;q=0.5"})
    assert response.headers["Content-Language"] == "sv"
    assert response.headers["Vary"] == "Accept-Language"
    assert '<html lang="sv">' in await response.text()
    response = await staff_api.get("/privacy?lang=en", headers={"Accept-Language": "sv"})
    assert "<h1>Privacy notices</h1>" in await response.text()
    for bad in ("de", "x" * 5000, ""):
        refused = await staff_api.get("/privacy", params={"lang": bad})
        assert refused.status == 422
        assert refused.content_type == "application/problem+json"
        assert (await refused.json())["errors"][0]["field"] == "lang"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("sv-FI,sv;q=0.9,en;q=0.5", "sv"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE,fr;q=0.8", "fi"),
        ("sv;q=0.5,en;q=0.5,fi;q=0.5", "fi"),  # ties go to Finnish
        ("en;q=0.5,sv;q=0.5", "sv"),
        ("en;q=bad,sv;q=0.1", "sv"),
        ("en;q=0", "fi"),
        (None, "fi"),
    ],
)
def test_the_language_follows_the_browser_with_finnish_first(
    header: str | None, language: str
) -> None:
    assert preferred_language(header) == language


async def test_the_notice_api_answers_each_format_and_names_a_bad_query(
    staff_api: Client,
) -> None:
    document = await (await staff_api.get(f"{NOTICE}?register=customers&lang=sv")).json()
    assert document["title"] == "Dataskyddsbeskrivning: Kundregister"
    assert "controller.y_tunnus" in document["to_be_completed"]
    md = await staff_api.get(f"{NOTICE}?register=call_recordings&format=md")
    assert md.content_type == "text/markdown"
    assert (await md.text()).startswith("# Tietosuojaseloste: Asiakaspuheluiden tallenteet")
    html = await staff_api.get(f"{NOTICE}?register=call_recordings&format=html&lang=en")
    page = await html.text()
    assert "<h1>Privacy notice: Customer call recordings</h1>" in page
    assert 'href="?register=call_recordings&amp;format=html&amp;lang=fi"' in page
    for query, field in [
        ("", "register"),
        ("?register=everything", "register"),
        ("?register=customers&format=pdf", "format"),
        ("?register=customers&lang=EN", "lang"),
    ]:
        response = await staff_api.get(NOTICE + query)
        assert response.status == 422, query
        assert (await response.json())["errors"][0]["field"] == field


async def test_a_changed_setting_and_the_profile_show_in_the_notice(changed_api: Client) -> None:
    text = await (await changed_api.get(f"{NOTICE}?register=call_recordings&format=md")).text()
    assert "Puhelutallenteet: säilytysaika 45 päivää puhelun päivästä." in text
    assert "Esimerkin Vuokra-asunnot Oy" in text
    assert "Y-tunnus: 1234567-1" in text
    assert "täydennettävä" not in text
    page = await (await changed_api.get("/privacy?lang=en")).text()
    assert "Call recordings: kept for 45 days from the day of the call." in page
    assert "to be completed" not in page


async def test_the_disclosure_log_feeds_the_customer_notice(staff_api: Client) -> None:
    before = await (await staff_api.get(f"{NOTICE}?register=customers&format=md")).text()
    assert "Luovutuslokissa ei ole yhtään luovutusta." in before
    cs = await headers_for(staff_api, "customer-service")
    created = await staff_api.post("/v1/customers", json=maija(), headers=cs)
    customer_id = (await created.json())["id"]
    disclosure = {
        "recipient": "Perintä Oy",
        "recipient_kind": "debt_collection",
        "legal_basis": "vuokrasopimus, vuokrarästi",
        "data_disclosed": "nimi, osoite",
    }
    added = await staff_api.post(
        f"/v1/customers/{customer_id}/disclosures", json=disclosure, headers=cs
    )
    assert added.status == 201, await added.text()
    after = await (await staff_api.get(f"{NOTICE}?register=customers&format=md")).text()
    assert "Luovutuslokin mukaan olemme antaneet tietoja näille:\n\n- perintä" in after
    assert "Perintä Oy" not in after  # the kind, never the entry itself


async def test_the_record_is_for_the_dpo_only_in_json_and_csv(changed_api: Client) -> None:
    assert (await changed_api.get(RECORD)).status == 401
    for username in ("admin", "customer-service", "trainer", "housing-advisor"):
        response = await changed_api.get(RECORD, headers=await headers_for(changed_api, username))
        assert response.status == 403, username
    dpo = await headers_for(changed_api, "dpo")
    record = await (await changed_api.get(RECORD, headers=dpo)).json()
    assert record["controller"]["name"] == "Esimerkin Vuokra-asunnot Oy"
    assert record["registers"][0]["retention"][0] == {
        "category": "recordings",
        "days": 45,
        "text": "Call recordings: kept for 45 days from the day of the call.",
    }
    csv = await changed_api.get(f"{RECORD}?format=csv&lang=fi", headers=dpo)
    assert csv.content_type == "text/csv"
    assert "call_recordings,retention.days,45" in await csv.text()
    refused = await changed_api.get(f"{RECORD}?format=xml", headers=dpo)
    assert refused.status == 422
    assert (await refused.json())["errors"][0]["field"] == "format"
