"""The customer page: search, the register card masked under turvakielto, the contact log
form, and linking an unlinked call; and the administrator's users page."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import expect

from api.appkeys import POOL
from tests.console.browser import Console, screenshot
from tests.register.test_protected_addresses import household, leaks
from tests.staff import call_audio


async def test_customer_service_logs_a_contact_and_links_a_call(
    console: Console, audio_dir: Path
) -> None:
    customer_id = await console.customer()
    recording_id = await console.recording(  # from a number the register does not know
        call_audio(audio_dir, 5.0), external_id="pbx-link", caller_number="+358409876543"
    )
    page = await console.login("customer-service")
    await page.locator("#nav a[data-page=customers]").click()
    await page.get_by_label("Search by name").fill("Mäkinotkelma")
    await page.locator("#customer-search button[type=submit]").click()
    await page.get_by_role("link", name="Mäkinotkelma, Maija").click()
    await expect(page.locator("main h1")).to_have_text("Mäkinotkelma, Maija")
    await expect(page.locator("main dl")).to_contain_text("131052-****")
    await expect(page.locator("main dl")).not_to_contain_text("131052-308T")  # masked at first
    await page.get_by_role("button", name="Show the identity code").click()
    await expect(page.locator("main dl")).to_contain_text("131052-308T")

    contact = page.locator("#contact-form")
    await contact.get_by_label("Topic").select_option("fault_report")
    await contact.get_by_label("What was agreed").fill("Plumber comes on Tuesday morning.")
    await contact.get_by_role("button", name="Save").click()
    await expect(page.locator("#contact-log tbody tr")).to_have_count(1)
    await expect(page.locator("#contact-log")).to_contain_text("Plumber comes on Tuesday")

    unlinked = page.locator("#unlinked-recordings tbody tr")
    await expect(unlinked).to_have_count(1)
    await unlinked.get_by_role("button", name="Link to this customer").click()
    await expect(page.locator("#notice")).to_have_text("Linked.")
    await expect(page.locator("#customer-recordings tbody tr")).to_have_count(1)
    await expect(page.locator("#unlinked-recordings tbody tr")).to_have_count(0)
    linked_to = await console.client.app[POOL].fetchval(
        "SELECT customer_id FROM recordings WHERE id = $1", recording_id
    )
    assert str(linked_to) == customer_id
    await screenshot(page, "customer")

    await page.get_by_role("link", name="+ Subject request from this customer").click()
    await expect(page.get_by_label("Identified by")).to_have_value("customer_id")
    await expect(page.get_by_label("Data subject")).to_have_value(customer_id)
    await page.get_by_label("Kind of request").select_option("erasure")
    await page.get_by_role("button", name="Create").click()
    await expect(page.locator("#notice")).to_have_text("Request created.")
    kind = await console.client.app[POOL].fetchval(
        "SELECT kind FROM subject_requests WHERE customer_id = $1", uuid.UUID(customer_id)
    )
    assert kind == "erasure"


async def test_turvakielto_hides_contact_data_from_the_housing_advisor(console: Console) -> None:
    customer_id = await console.customer(
        turvakielto=True, turvakielto_start="2026-01-01", assigned_advisor="housing-advisor"
    )
    page = await console.card(customer_id, "housing-advisor")
    await expect(page.locator(".warning")).to_contain_text("turvakielto")
    card = await page.locator("main dl").inner_text()
    assert "Toinen linja" not in card
    assert "+358401234567" not in card
    assert "131052-308T" not in card
    assert "hidden" in card
    await expect(page.locator("#contact-form")).to_have_count(0)  # reads only
    await expect(page.locator("#customer-recordings")).to_have_count(0)
    await screenshot(page, "customer-turvakielto-advisor")


async def test_a_co_tenants_card_hides_the_protected_tenants_home(console: Console) -> None:
    ids = await household(console.client)
    page = await console.login("housing-advisor")
    await page.goto(f"/#/customers/{ids['pekka']}")
    await expect(page.locator("main h1")).to_have_text("Laine, Pekka")
    card = await page.locator("main dl").inner_text()
    assert leaks(card) == []
    assert "+358401110001 (mobile), hidden" in card  # his own phone, not their landline
    assert "V-77: hidden (tenant)" in card
    await screenshot(page, "customer-shared-home-advisor")


async def test_admin_adds_a_user_then_changes_its_roles_and_switches_it_off(
    console: Console,
) -> None:
    page = await console.login("admin")
    form = page.locator("#add-user")
    await form.get_by_label("Username").fill("liisa.k")
    await form.get_by_label("Password").fill("short")
    await form.get_by_label("trainer").check()
    await form.get_by_role("button", name="Create").click()
    await expect(page.locator("#error")).to_contain_text("password")  # the policy, from the API
    await form.get_by_label("Password").fill("a long enough passphrase")
    await form.get_by_role("button", name="Create").click()
    await expect(page.locator("#notice")).to_have_text("Created.")
    row = page.locator("#users tbody tr", has_text="liisa.k")
    await expect(row).to_contain_text("trainer")

    await row.get_by_role("button", name="liisa.k").click()  # opens the account's editor
    editor = page.locator("#change-user")
    await editor.get_by_label("Data protection officer").check()
    await editor.get_by_label("Disabled").check()
    await screenshot(page, "users")
    await editor.get_by_role("button", name="Save").click()
    await expect(page.locator("#notice")).to_have_text("Saved.")
    await expect(row).to_contain_text("data protection officer, trainer")
    disabled = await console.client.app[POOL].fetchval(
        "SELECT disabled FROM users WHERE username = 'liisa.k'"
    )
    assert disabled is True
