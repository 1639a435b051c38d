"""Single sign-on in Chromium: the console's "Sign in with …" link, the real provider's login
page, and the console after it; a refused sign-in says why on the login page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from common.settings import Settings
from tests.console.browser import ARTIFACTS, WAIT_MS, Console, nav_pages, open_console, screenshot
from tests.oidc.idp import PASSWORD, Idp


@pytest.fixture
async def console(idp: Idp, staff_settings: Settings) -> AsyncIterator[Console]:
    async for running in open_console(idp.settings(staff_settings)):
        yield running
        assert running.console_errors == []


async def through_provider(console: Console, username: str, shot: str | None = None) -> Page:
    """Open the console in a fresh context, follow its SSO link, sign in at the provider."""
    context = await console.browser.new_context(base_url=console.base_url)
    await context.add_init_script("localStorage.setItem('callrec.language', 'en')")
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("pageerror", lambda error: console.console_errors.append(str(error)))
    await page.goto("/")
    link = page.locator("#sso a")
    await expect(link).to_have_text("Sign in with Test IdP")
    if shot:
        await screenshot(page, "sso-login")
    await link.click()
    await expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    if shot:  # the provider's own page: no axe check of someone else's markup
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"{shot}.png", full_page=True)
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    return page


async def test_sso_in_the_browser_ends_logged_in_as_customer_service(
    idp: Idp, console: Console
) -> None:
    idp.set_user("liisa", ["staff-cs"])
    page = await through_provider(console, "liisa", "sso-provider-login")
    await expect(page.locator("#logout")).to_be_visible()
    await expect(page.locator("#who")).to_have_text("Logged in as liisa")
    assert await nav_pages(page) == ["recordings", "customers", "new-request"]
    await screenshot(page, "sso-console")


async def test_a_refused_sso_says_why_on_the_login_page(idp: Idp, console: Console) -> None:
    idp.set_user("vieras", ["visitors"])
    page = await through_provider(console, "vieras")
    failure = page.locator("#sso-failure")
    await expect(failure).to_have_text(
        "None of your groups at the identity provider gives a role here. Ask an administrator."
    )
    await expect(page.locator("#login")).to_be_visible()
    await screenshot(page, "sso-refused")
