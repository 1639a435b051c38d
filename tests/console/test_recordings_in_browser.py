"""The staff list of recordings: agent and caller beside the date, and the server's values
(statuses, directions) in the reader's language."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.console.browser import Console, screenshot
from tests.staff import call_audio


async def test_the_list_shows_agent_and_caller_and_finnish_words(
    console: Console, audio_dir: Path
) -> None:
    audio = call_audio(audio_dir, 4.0)
    maija = await console.recording(audio, external_id="pbx-maija", duration_seconds=4.0)
    await console.recording(
        audio,
        external_id="pbx-pekka",
        duration_seconds=4.0,
        answered_by="pekka.p",
        caller_number="+358409999999",
        started_at="2026-11-23T11:00:00+02:00",
    )
    page = await console.login("customer-service", language="fi")
    table = page.locator("#recordings")
    await expect(table.locator("thead")).to_contain_text("Vastaaja")
    await expect(table.locator("thead")).to_contain_text("Soittaja")
    rows = table.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("pekka.p")
    await expect(rows.nth(0)).to_contain_text("+358409999999")
    await expect(rows.nth(1)).to_contain_text("maija.m")
    await expect(rows.nth(1)).to_contain_text("+358401234567")
    await expect(rows.nth(1)).to_contain_text("valmis")  # ready
    assert "ready" not in await table.inner_text()
    await screenshot(page, "recordings-fi")

    await page.get_by_label("Soittajan numero").fill("+358401234567")  # a search in a body
    await page.locator("#recording-filters button[type=submit]").click()
    await expect(rows).to_have_count(1)
    await expect(rows.nth(0)).to_contain_text("maija.m")
    assert "+358401234567" not in page.url

    await rows.nth(0).locator(f"a[href='#/recordings/{maija}']").click()
    details = page.locator("main dl")
    await expect(details).to_contain_text("saapuva")  # inbound
    await expect(details).to_contain_text("valmis")
    assert "inbound" not in await details.inner_text()
