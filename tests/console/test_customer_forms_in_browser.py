"""Customer service keeps the register from the browser: creates a customer with every field,
sees the henkilötunnus checked as it is typed and the API's 422 beside the field it names,
then changes the record; the henkilötunnus is never shown back in full in the form."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from api.appkeys import POOL
from register.identity import parse_henkilotunnus
from tests.console.browser import Console, screenshot
from tests.staff import call_audio

SERVER_MESSAGES = {  # register/identity.py's messages → the keys of i18n.js the console shows
    "use the form DDMMYYCZZZQ, for example 131052-308T": "hetuFormat",
    "the date or the individual number is not possible": "hetuDate",
    "the check character does not match; check for a typo": "hetuChecksum",
}


async def _customer(console: Console, customer_id: str) -> Any:
    return await console.api("GET", f"/v1/customers/{customer_id}", "customer-service")


async def _pekka(console: Console) -> str:
    """A second customer, A-1002, with no identity code or contacts: a party or a guardian."""
    return await console.customer(
        customer_number="A-1002",
        first_name="Pekka",
        last_name="Laine",
        henkilotunnus=None,
        phones=[],
        emails=[],
        addresses=[],
    )


async def _fill_new_customer(page: Page) -> None:
    form = page.locator("#customer-form")
    await form.get_by_label("Customer number").fill("A-2001")
    await form.get_by_label("First name").fill("Maija")
    await form.get_by_label("Last name").fill("Mäkinotkelma")
    await form.get_by_label("tenant", exact=True).check()
    await form.get_by_label("Language of service").select_option("sv")
    await form.get_by_label("Customer since").fill("2020-05-01")
    await form.get_by_label("Turvakielto in force").check()
    await form.get_by_label("Turvakielto from").fill("2026-01-01")
    await form.get_by_role("button", name="+ Add a phone number").click()
    await form.get_by_label("Number 1", exact=True).fill(
        "+358401234567"
    )  # the add button focused it
    await form.get_by_role("button", name="+ Add a phone number").click()
    await form.get_by_label("Number 2", exact=True).fill("0917 23456")
    await form.get_by_label("Kind of number 2", exact=True).select_option("landline")
    await form.get_by_role("button", name="+ Add an e-mail address").click()
    await form.get_by_label("E-mail 1", exact=True).fill("maija@example.fi")
    await form.get_by_role("button", name="+ Add an address").click()
    await form.get_by_label("Street address 1", exact=True).fill("Toinen linja 14")
    await form.get_by_label("Postal code 1", exact=True).fill("530")  # the API wants five digits
    await form.get_by_label("City 1", exact=True).fill("Helsinki")
    await form.get_by_label("Housing advisor (username)").fill("housing-advisor")


async def test_customer_service_creates_then_changes_a_customer(console: Console) -> None:
    page = await console.login("customer-service")
    await page.locator("#nav a[data-page=customers]").click()
    await page.get_by_role("link", name="+ New customer").click()
    await expect(page.locator("main h1")).to_have_text("New customer")
    await _fill_new_customer(page)
    form = page.locator("#customer-form")

    hetu = form.get_by_label("Henkilötunnus")
    await hetu.press_sequentially("131052-308U")  # a typo in the check character
    await expect(hetu).to_have_attribute("aria-invalid", "true")
    await expect(form.locator(".field-error")).to_have_text(
        "the check character does not match; check for a typo"
    )
    await hetu.fill("131052-308T")
    await hetu.dispatch_event("input")
    await expect(form.locator(".field-error")).to_have_count(0)

    await form.get_by_role("button", name="Save").click()  # the API refuses the postal code
    postal = form.get_by_label("Postal code 1", exact=True)
    await expect(postal).to_have_attribute("aria-invalid", "true")
    await expect(postal).to_be_focused()
    error_id = await postal.get_attribute("aria-describedby")
    await expect(page.locator(f"[id='{error_id}']")).to_have_text("five digits, like 00530")
    await screenshot(page, "customer-new-422")
    assert await console.client.app[POOL].fetchval("SELECT count(*) FROM customers") == 0

    await postal.fill("00530")
    await form.get_by_role("button", name="Save").click()
    await expect(page.locator("#notice")).to_have_text("Saved.")
    await expect(page.locator("main h1")).to_have_text("Mäkinotkelma, Maija")
    customer_id = page.url.rsplit("/", 1)[1]
    saved = await _customer(console, customer_id)
    assert saved["henkilotunnus"] == "131052-308T"
    assert saved["language"] == "sv"
    assert saved["relationship_start"] == "2020-05-01"
    assert (saved["turvakielto"], saved["turvakielto_start"]) == (True, "2026-01-01")
    assert saved["phones"] == [
        {"number": "+358401234567", "type": "mobile"},
        {"number": "+35891723456", "type": "landline"},
    ]
    assert saved["emails"] == ["maija@example.fi"]
    assert saved["addresses"][0]["postal_code"] == "00530"
    assert saved["assigned_advisor"] == "housing-advisor"

    await page.get_by_role("link", name="Change data").click()
    form = page.locator("#customer-form")
    hetu = form.get_by_label("Henkilötunnus")
    await expect(hetu).to_have_value("")  # never put back into the page in full
    await expect(form).to_contain_text("Saved: 131052-****")
    assert "131052-308T" not in await page.content()
    await form.get_by_label("Last name").fill("Virtanen")
    await form.get_by_role("button", name="Remove: Phone numbers 2").click()
    await form.get_by_label("Status").select_option("former")
    await screenshot(page, "customer-edit")
    await form.get_by_role("button", name="Save").click()
    await expect(page.locator("main h1")).to_have_text("Virtanen, Maija")
    changed = await _customer(console, customer_id)
    assert changed["status"] == "former"
    assert changed["phones"] == [{"number": "+358401234567", "type": "mobile"}]
    assert changed["henkilotunnus"] == "131052-308T"  # untouched
    fields = await console.client.app[POOL].fetch(
        "SELECT field FROM rectifications WHERE customer_id = $1", uuid.UUID(customer_id)
    )
    assert sorted(r["field"] for r in fields) == ["last_name", "phones", "status"]


CODES = [
    "131052-308T",  # the classic example
    "131052-308U",  # wrong check character
    "131052308T",  # too short
    "310252-308Y",  # 31 February
    "290200A001C",  # 29 February 2000, individual number 001: not possible
    "290200A002C",  # 29 February 2000
    "290200A002D",
    "010594Y9032",  # 2023 separators and a temporary number
    "010594Y903T",
    "010100+002H",
    "311299X999E",
    "020304W123P",
    "150616B456B",
    "150616B456H",
    "010101-0101",
    " 131052-308t ",  # spaces and lower case, as typed
    "131052Z308T",  # no such separator
    "131052-308G",  # G is never a check character
]


async def test_the_browsers_henkilotunnus_check_agrees_with_the_servers(
    console: Console,
) -> None:
    page = await console.login("customer-service")
    problems = await page.evaluate(
        "codes => import('/console/henkilotunnus.js')"
        ".then(m => codes.map(code => m.henkilotunnusProblem(code)))",
        CODES,
    )
    for code, problem in zip(CODES, problems, strict=True):
        try:
            parse_henkilotunnus(code)
            expected = None
        except ValueError as exc:
            expected = SERVER_MESSAGES[str(exc)]
        assert problem == expected, code


async def test_a_contact_log_entry_points_at_one_of_the_customers_calls(
    console: Console, audio_dir: Path
) -> None:
    customer_id = await console.customer()
    recording_id = await console.recording(
        call_audio(audio_dir, 4.0),
        external_id="pbx-logged",
        caller_number="+358401234567",
        linked_to=customer_id,
    )
    page = await console.card(customer_id)
    contact = page.locator("#contact-form")
    call = contact.get_by_label("The call this contact is about")
    await expect(call.locator("option")).to_have_count(2)  # none, or the customer's one call
    await call.select_option(recording_id)
    await contact.get_by_label("Topic").select_option("fault_report")
    await contact.get_by_label("What was agreed").fill("Plumber comes on Tuesday morning.")
    await contact.get_by_role("button", name="Save").click()
    await expect(page.locator("#notice")).to_have_text("Saved.")

    entry = page.locator("#contact-log tbody tr")
    await expect(entry).to_have_count(1)
    await expect(entry.locator(f"a[href='#/recordings/{recording_id}']")).to_be_visible()
    call_row = page.locator("#customer-recordings tbody tr")
    await expect(call_row).to_contain_text("fault report")  # and back from the call
    await screenshot(page, "customer-contact-about-a-call")
    linked = await console.client.app[POOL].fetchval(
        "SELECT recording_id FROM contact_log WHERE customer_id = $1", uuid.UUID(customer_id)
    )
    assert str(linked) == recording_id


async def test_customer_service_adds_a_lease_with_parties_and_household(console: Console) -> None:
    customer_id = await console.customer()
    await _pekka(console)
    page = await console.card(customer_id)
    form = page.locator("#lease-form")
    await form.get_by_label("Lease number").fill("V-2026/7")
    await form.get_by_label("Property").fill("Toinen linja 14")
    await form.get_by_label("Apartment").fill("A 3")
    await form.get_by_label("Starts").fill("2026-02-01")
    await expect(form.get_by_label("Customer number 1", exact=True)).to_have_value("A-1001")
    await form.get_by_role("button", name="+ Add a party").click()
    await form.get_by_label("Customer number 2", exact=True).fill("A-9999")  # nobody
    await form.get_by_label("Party's role 2", exact=True).select_option("co_tenant")
    await form.get_by_role("button", name="+ Add a household member").click()
    await form.get_by_label("Member's name 1", exact=True).fill("Aino Mäkinotkelma")
    await form.get_by_label("Date of birth 1", exact=True).fill("2015-04-01")
    await form.get_by_role("button", name="Save").click()
    unknown = form.get_by_label("Customer number 2", exact=True)
    await expect(unknown).to_have_attribute("aria-invalid", "true")
    await expect(form.locator(".field-error")).to_have_text("no customer has this customer number")

    await unknown.fill("A-1002")
    await form.get_by_role("button", name="Save").click()
    await expect(page.locator("#notice")).to_have_text("Saved.")
    lease = page.locator("#leases tbody tr")
    await expect(lease).to_have_count(1)
    await expect(lease).to_contain_text("Toinen linja 14 A 3")
    await expect(lease.get_by_role("link", name="Pekka Laine (co-tenant)")).to_be_visible()
    await expect(lease).to_contain_text("Aino Mäkinotkelma")
    await expect(page.locator("main dl")).to_contain_text("V-2026/7: Toinen linja 14 A 3 (tenant)")
    await screenshot(page, "customer-lease")
    await lease.get_by_label("Notice given on (V-2026/7)").fill("2026-03-31")
    await lease.get_by_role("button", name="Terminate").click()
    await expect(page.locator("#leases tbody tr")).to_contain_text("terminated 31/03/2026")
    leases = await console.api("GET", f"/v1/customers/{customer_id}/leases", "customer-service")
    (saved,) = leases["items"]
    assert saved["terminated_on"] == "2026-03-31"
    assert sorted(p["role"] for p in saved["parties"]) == ["co_tenant", "tenant"]
    assert saved["household"] == [{"name": "Aino Mäkinotkelma", "birth_date": "2015-04-01"}]


async def _end_date_of(console: Console, customer_id: str) -> Any:
    leases = await console.api("GET", f"/v1/customers/{customer_id}/leases", "customer-service")
    return leases["items"][0]["end_date"]


async def test_customer_service_sets_changes_and_clears_a_leases_end_date(
    console: Console,
) -> None:
    customer_id = await console.customer()
    await console.lease(customer_id)  # from 2026-02-01, no end
    page = await console.card(customer_id)
    lease = page.locator("#leases tbody tr")
    end = lease.get_by_label("Ends (V-2026/7)")
    save = lease.get_by_role("button", name="Save the end date")
    await expect(end).to_have_value("")
    await expect(end).to_have_accessible_description("empty: in force until further notice")

    await end.fill("2026-01-15")  # before the start: the API's 409 names end_date
    await save.click()
    await expect(end).to_have_attribute("aria-invalid", "true")
    await expect(end).to_be_focused()
    await expect(lease.locator(".field-error")).to_have_text(
        "the lease cannot end before it starts"
    )
    await expect(page.locator("#error")).to_contain_text("Please correct the marked fields.")
    await end.fill("12345-01-01")  # the browser takes a six-digit year; the API's 422 does not
    await save.click()
    await expect(lease.locator(".field-error")).to_have_text("a date like 2026-11-23, or null")
    await screenshot(page, "customer-lease-end-422")
    assert await _end_date_of(console, customer_id) is None  # nothing half saved

    await end.fill("2027-01-31")
    await save.click()
    await expect(page.locator("#notice")).to_have_text("Saved.")
    await expect(page.locator("#leases tbody tr")).to_contain_text("01/02/2026–31/01/2027")
    assert await _end_date_of(console, customer_id) == "2027-01-31"
    end = page.locator("#leases tbody tr").get_by_label("Ends (V-2026/7)")
    await expect(end).to_have_value("2027-01-31")  # the form shows the date in force
    await expect(end).not_to_have_attribute("aria-invalid", "true")  # a fresh form
    await end.fill("2027-06-30")  # changed
    await end.press("Enter")  # the keyboard saves too
    await expect(page.locator("#leases tbody tr")).to_contain_text("01/02/2026–30/06/2027")
    assert await _end_date_of(console, customer_id) == "2027-06-30"
    end = page.locator("#leases tbody tr").get_by_label("Ends (V-2026/7)")
    await end.focus()
    await end.press("Backspace")  # one part of the date wiped: the browser cannot read it
    await page.locator("#leases tbody tr").get_by_role("button", name="Save the end date").click()
    await expect(page.locator("#leases .field-error")).to_have_text(
        "type the whole date (day, month and year)"
    )  # not sent, so not taken for "no end"
    assert await _end_date_of(console, customer_id) == "2027-06-30"
    await end.fill("")  # cleared: in force until further notice
    await page.locator("#leases tbody tr").get_by_role("button", name="Save the end date").click()
    await expect(page.locator("#leases tbody tr")).not_to_contain_text("30/06/2027")
    assert await _end_date_of(console, customer_id) is None
    updates = await console.client.app[POOL].fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'lease.update'"
    )
    assert updates == 3  # the refused tries changed nothing


async def test_the_dpo_and_the_housing_advisor_read_the_card_and_cannot_edit(
    console: Console,
) -> None:
    customer_id = await console.customer(assigned_advisor="housing-advisor")
    for username in ("dpo", "housing-advisor"):
        page = await console.card(customer_id, username)
        await expect(page.locator("main h1")).to_have_text("Mäkinotkelma, Maija")
        await expect(page.get_by_role("link", name="Change data")).to_have_count(0)
        await expect(page.locator("#lease-form, #contact-form, #customer-form")).to_have_count(0)
        await page.goto(f"/#/edit-customer/{customer_id}")
        await expect(page.locator("#refused")).to_be_visible()
        await page.goto("/#/new-customer")
        await expect(page.locator("#refused")).to_be_visible()
        card = await console.api("GET", f"/v1/customers/{customer_id}", username)
        assert ("henkilotunnus" in card) == (username == "dpo")  # as the API masks
        await page.context.close()


async def test_customer_service_records_a_marketing_ban_and_a_disclosure(console: Console) -> None:
    customer_id = await console.customer()
    page = await console.card(customer_id, language="fi")
    ban = page.locator("#marketingLog-form")
    await ban.get_by_label("Markkinoinnin laji").select_option("direct_marketing")
    await ban.get_by_label("Valinta").select_option("false")
    await ban.get_by_label("Annettu").select_option("email")
    await ban.get_by_role("button", name="Tallenna").click()
    await expect(page.locator("#notice")).to_have_text("Tallennettu.")
    await expect(page.locator("#marketingLog tbody tr")).to_contain_text("kielto")
    await expect(page.locator("main dl")).to_contain_text("suoramarkkinointi: ei")

    disclosure = page.locator("#disclosureLog-form")
    await disclosure.get_by_label("Vastaanottaja", exact=True).fill("Perintä Oy")
    await disclosure.get_by_label("Vastaanottajan laji").select_option("debt_collection")
    await disclosure.get_by_role("button", name="Tallenna").click()  # no basis: the API says
    basis = disclosure.get_by_label("Peruste")
    await expect(basis).to_have_attribute("aria-invalid", "true")
    await expect(basis).to_be_focused()
    await basis.fill("vuokrasopimus, vuokrarästit")
    await disclosure.get_by_label("Luovutetut tiedot").fill("nimi, osoite, maksamaton vuokra")
    await disclosure.get_by_role("button", name="Tallenna").click()
    await expect(page.locator("#disclosureLog tbody tr")).to_contain_text("perintätoimisto")
    await screenshot(page, "customer-marketing-disclosure-fi")
    logged = await console.api("GET", f"/v1/customers/{customer_id}/disclosures", "dpo")
    assert [d["recipient"] for d in logged["items"]] == ["Perintä Oy"]


async def test_customer_service_undoes_a_change_from_the_history(console: Console) -> None:
    customer_id = await console.customer()
    await console.api(
        "PATCH",
        f"/v1/customers/{customer_id}",
        "customer-service",
        json={"last_name": "Virtanen", "henkilotunnus": "010594Y9032"},
    )
    page = await console.card(customer_id)
    await page.get_by_role("button", name="Show the change history").click()
    changes = page.locator("#history tbody tr")
    await expect(changes).to_have_count(2)
    history = await page.locator("#history").inner_text()
    assert "131052-****" in history
    assert "131052-308T" not in history  # masked as in the form
    name_change = page.locator("#history tbody tr", has_text="Last name")
    await expect(name_change).to_contain_text("Mäkinotkelma")
    await name_change.get_by_role("button", name="Undo").click()
    await expect(page.locator("#notice")).to_have_text("Change undone.")
    await expect(page.locator("main h1")).to_have_text("Mäkinotkelma, Maija")
    await page.get_by_role("button", name="Show the change history").click()
    await expect(changes).to_have_count(3)  # the undo is a change too
    await screenshot(page, "customer-history")


async def test_customer_service_adds_a_guardian_then_ends_the_link(console: Console) -> None:
    customer_id = await console.customer()
    await _pekka(console)
    page = await console.card(customer_id)
    form = page.locator("#guardianship-form")
    number = form.get_by_label("The guardian's customer number")
    await number.fill("A-9999")
    await form.get_by_label("Kind").select_option("edunvalvonta")
    await form.get_by_label("Starts").fill("2026-01-01")
    await form.get_by_role("button", name="Save").click()
    await expect(number).to_have_attribute("aria-invalid", "true")
    await number.fill("A-1002")
    await form.get_by_role("button", name="Save").click()
    await expect(page.locator("#notice")).to_have_text("Saved.")
    link = page.locator("#guardianships tbody tr")
    await expect(link.get_by_role("link", name="Pekka Laine")).to_be_visible()
    await expect(link).to_contain_text("Maija Mäkinotkelma")
    await screenshot(page, "customer-guardianship")
    await link.get_by_role("button", name="End today").click()
    await expect(link.get_by_role("button", name="End today")).to_have_count(0)
    (ended,) = (await console.api("GET", f"/v1/customers/{customer_id}/guardianships", "dpo"))[
        "items"
    ]
    assert ended["end_date"] is not None
