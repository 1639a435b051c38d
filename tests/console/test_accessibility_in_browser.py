"""Every console page, for every role and in both languages, has no violation of WCAG 2.1
level A or AA that axe-core finds (Finnish public bodies' services must meet AA). The
screenshots of the other browser tests are checked the same way (browser.screenshot)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.console.browser import (
    Console,
    accessibility_violations,
    assert_accessible,
    hash_of,
    screenshot,
)
from tests.staff import call_audio

ROLE_USERS = ("admin", "customer-service", "trainer", "dpo", "housing-advisor")


async def _every_page_of_the_navigation(page: Page) -> list[str]:
    """Open each page the navigation offers and check it; returns the routes seen."""
    seen = []
    for path in [
        str(await a.get_attribute("data-page")) for a in await page.locator("#nav a").all()
    ]:
        await page.locator(f"#nav a[data-page='{path}']").click()
        await expect(page.locator("main h1")).to_be_visible()
        await page.wait_for_load_state("networkidle")  # its lists have loaded
        await assert_accessible(page)
        seen.append(hash_of(page))
    return seen


async def _open(page: Page, route: str) -> None:
    await page.goto(f"/{route}")
    await expect(page.locator("main h1")).to_be_visible()
    await page.wait_for_load_state("networkidle")
    await assert_accessible(page)


@pytest.mark.parametrize("language", ["en", "fi"])
async def test_no_page_has_a_wcag_21_aa_violation(
    console: Console, audio_dir: Path, language: str
) -> None:
    customer_id = await console.customer(
        turvakielto=True, turvakielto_start="2026-01-01", assigned_advisor="housing-advisor"
    )
    await console.api(
        "PATCH", f"/v1/customers/{customer_id}", "customer-service", json={"last_name": "Laine"}
    )
    await console.lease(customer_id)  # the card shows the lease forms
    recording_id = await console.recording(
        call_audio(audio_dir, 4.0), released=True, external_id="pbx-a11y"
    )
    request = await console.api(
        "POST",
        "/v1/subject-requests",
        "dpo",
        json={"kind": "access", "channel": "email", "subject": {"customer_id": customer_id}},
    )
    collection = await console.api(
        "POST", "/v1/training/collections", "trainer", json={"name": f"Kurssi {language}"}
    )
    await console.api(
        "POST",
        f"/v1/training/collections/{collection['id']}/items",
        "trainer",
        json={"recording_id": recording_id},
    )
    await console.api(
        "POST",
        f"/v1/recordings/{recording_id}/annotations",
        "trainer",
        json={"at_seconds": 1.0, "text": "Hyvä avaus"},
    )
    login = await console.browser.new_page(base_url=console.base_url)
    await login.goto("/")
    await expect(login.locator("#login")).to_be_visible()
    await assert_accessible(login)
    await login.goto("/#/setup?token=not-a-real-one")  # the first-run page
    await login.reload()
    await expect(login.locator("#setup")).to_be_visible()
    await assert_accessible(login)

    for username in ROLE_USERS:
        page = await console.login(username, language=language)
        assert await _every_page_of_the_navigation(page), username
        footer = page.locator("footer a#privacy")  # one footer under every page of the console
        await expect(footer).to_have_attribute("href", f"/privacy?lang={language}")
        await expect(footer).to_have_text(
            "Privacy notice" if language == "en" else "Tietosuojaseloste"
        )
        if username == "customer-service":
            await _open(page, f"#/customers/{customer_id}")
            end = page.locator("#leases form.end-date")
            await end.locator("input").fill("2020-01-01")  # before the start: the API's error
            await end.locator("button[type=submit]").click()
            await expect(end.locator(".field-error")).to_be_visible()
            await assert_accessible(page)
            await page.locator("#show-history").click()
            await expect(page.locator("#history")).to_be_visible()
            await assert_accessible(page)
            await _open(page, "#/new-customer")
            await page.locator("#customer-form button[type=submit]").click()  # errors shown
            await expect(page.locator("#customer-form .field-error").first).to_be_visible()
            await assert_accessible(page)
            await _open(page, f"#/edit-customer/{customer_id}")
            await _open(page, f"#/recordings/{recording_id}")
        if username == "dpo":
            await _open(page, f"#/requests/{request['id']}")
            await _open(page, f"#/recordings/{recording_id}")
            await expect(page.locator("#redactions")).to_be_visible()  # the redaction panel
            await assert_accessible(page)
        if username == "housing-advisor":
            await _open(page, f"#/customers/{customer_id}")
        if username == "trainer":
            await _open(page, f"#/training/{recording_id}")  # with its notes and collections
            await _open(page, f"#/collections/{collection['id']}")
            await _open(page, "#/two-factor")
        if username == "admin":  # the account editor, with reset and end-all
            await _open(page, "#/users")
            await page.locator("#users button.as-link").first.click()
            await expect(page.locator("#change-user")).to_be_visible()
            await assert_accessible(page)
        await page.context.close()


async def test_the_check_finds_a_violation_when_there_is_one(console: Console) -> None:
    page = await console.login("customer-service")
    await page.locator("#nav a[data-page=customers]").click()
    await expect(page.locator("main h1")).to_be_visible()
    await page.evaluate(  # a field nobody can name, in grey on grey
        """() => {
          const input = document.createElement('input');
          const faint = document.createElement('p');
          faint.textContent = 'faint';
          faint.style.color = '#eee';
          document.querySelector('main').append(input, faint);
        }"""
    )
    found = " ".join(await accessibility_violations(page))
    assert "label" in found
    assert "color-contrast" in found


async def test_the_privacy_notice_is_accessible_in_each_language(console: Console) -> None:
    """The public notice page, with script off, on screen and in print; a screenshot of
    each language goes to the artifacts, checked by axe like the console's pages."""
    plain = await console.browser.new_context(base_url=console.base_url, java_script_enabled=False)
    checked = await console.browser.new_context(base_url=console.base_url)
    for language in ("fi", "sv", "en"):
        page = await plain.new_page()
        await page.goto(f"/privacy?lang={language}")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await expect(page.locator("h1")).to_be_visible()
        assert await page.locator("article h2").count() == 2
        await page.emulate_media(media="print")
        await expect(page.locator("nav").first).to_be_hidden()
        page = await checked.new_page()
        await page.goto(f"/privacy?lang={language}")
        await screenshot(page, f"privacy-{language}")
    await plain.close()
    await checked.close()
