"""Lists people can scan: staff allowed to see a person see the name, not an id. The agent
is the account the call matched (the telephony sent an extension); a linked customer, the
customer of a subject request and of a legal hold are shown by name."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from api.appkeys import POOL
from tests.console.browser import Console, screenshot
from tests.staff import call_audio

NAME = "Mäkinotkelma, Maija"
AGENT = "Asta Asiakaspalvelija (201)"


async def test_the_dpo_sees_names_in_calls_requests_and_holds(
    console: Console, audio_dir: Path
) -> None:
    await console.client.app[POOL].execute(
        "UPDATE users SET display_name = 'Asta Asiakaspalvelija', extension = '201'"
        " WHERE username = 'customer-service'"
    )
    customer_id = await console.customer()
    recording_id = await console.recording(
        call_audio(audio_dir, 4.0),
        external_id="pbx-names",
        answered_by="201",
        linked_to=customer_id,
    )
    await console.api(
        "POST",
        "/v1/subject-requests",
        "dpo",
        json={"kind": "access", "channel": "email", "subject": {"customer_id": customer_id}},
    )
    await console.api(
        "POST", "/v1/legal-holds", "dpo", json={"customer_id": customer_id, "reason": "dispute"}
    )
    page = await console.login("dpo")

    row = page.locator("#recordings tbody tr")
    await expect(row).to_contain_text(AGENT)
    await expect(row.get_by_role("link", name=NAME)).to_have_attribute(
        "href", f"#/customers/{customer_id}"
    )
    await screenshot(page, "recordings-names")
    await row.locator(f"a[href='#/recordings/{recording_id}']").click()
    await expect(page.locator("main dl")).to_contain_text(AGENT)
    await expect(page.locator("main dl").get_by_role("link", name=NAME)).to_be_visible()

    await page.locator("#nav a[data-page=requests]").click()
    request = page.locator("#request-queue tbody tr")
    await expect(request.get_by_role("link", name=NAME)).to_be_visible()
    await request.get_by_role("link", name="access").click()
    await expect(page.locator("main dl").get_by_role("link", name=NAME)).to_be_visible()
    assert customer_id not in await page.locator("main").inner_text()

    await page.locator("#nav a[data-page=holds]").click()
    await expect(page.locator("#holds tbody tr").get_by_role("link", name=NAME)).to_be_visible()
    await screenshot(page, "legal-holds-names")


async def test_the_unlinked_calls_on_a_card_show_the_caller_number(
    console: Console, audio_dir: Path
) -> None:
    customer_id = await console.customer()
    await console.recording(
        call_audio(audio_dir, 4.0), external_id="pbx-unknown", caller_number="+358409876543"
    )
    page = await console.card(customer_id)
    unlinked = page.locator("#unlinked-recordings")
    await expect(unlinked.locator("thead")).to_contain_text("Caller")
    await expect(unlinked.locator("tbody tr")).to_contain_text("+358409876543")
