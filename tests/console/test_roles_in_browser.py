"""Each role, logged in through the console, sees its own pages and no others."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from api.appkeys import POOL
from tests.console.browser import Console, hash_of, nav_pages, screenshot

PAGES_OF_ROLE = {
    "customer-service": ["recordings", "customers", "new-request", "account"],
    "trainer": ["training", "collections", "account"],
    "dpo": [
        "recordings",
        "customers",
        "requests",
        "holds",
        "audit",
        "evidence",
        "collections",
        "account",
    ],
    "housing-advisor": ["customers", "account"],
    "admin": ["users", "account"],
}
# "account" (one's own password and sessions) is everyone's last page.
EVERY_PAGE = sorted({page for pages in PAGES_OF_ROLE.values() for page in pages})
REACHED_FROM_ANOTHER_PAGE = {"dpo": ["new-request"]}  # the queue links to it


@pytest.mark.parametrize("username", PAGES_OF_ROLE)
async def test_each_role_sees_only_its_pages(console: Console, username: str) -> None:
    page = await console.login(username)
    assert await nav_pages(page) == PAGES_OF_ROLE[username]
    assert hash_of(page) == f"#/{PAGES_OF_ROLE[username][0]}"  # lands on its first page
    await expect(page.locator("main h1")).to_be_visible()
    await screenshot(page, f"home-{username}")
    for other in EVERY_PAGE:
        if other in PAGES_OF_ROLE[username] + REACHED_FROM_ANOTHER_PAGE.get(username, []):
            continue
        await page.goto(f"/#/{other}")  # typed into the address bar
        await expect(page.locator("#refused")).to_have_text(
            "This page is not part of your role's task."
        )


async def test_a_wrong_password_shows_the_apis_message_and_sets_no_session(
    console: Console,
) -> None:
    context = await console.browser.new_context(base_url=console.base_url)
    page = await context.new_page()
    await page.goto("/")
    await page.locator("#login input[name=username]").fill("dpo")
    await page.locator("#login input[name=password]").fill("not the password")
    await page.locator("#login button[type=submit]").click()
    await expect(page.locator("#error")).to_be_visible()
    await expect(page.locator("#error")).to_contain_text("password")
    assert await context.cookies() == []
    await screenshot(page, "login-failed")


async def test_language_switch_is_remembered_and_logout_ends_the_session(
    console: Console,
) -> None:
    page = await console.login("customer-service", language="fi")
    await expect(page.locator("#nav a[data-page=recordings]")).to_have_text("Tallenteet")
    await page.locator("#language").click()
    await expect(page.locator("#nav a[data-page=recordings]")).to_have_text("Recordings")
    await page.reload()
    await expect(page.locator("#nav a[data-page=recordings]")).to_have_text("Recordings")
    assert await page.evaluate("document.documentElement.lang") == "en"

    await page.locator("#logout").click()
    await expect(page.locator("#login")).to_be_visible()
    status = await page.evaluate("fetch('/v1/auth/me').then((r) => r.status)")
    assert status == 401


async def test_a_session_ended_on_the_server_brings_back_the_login_form(console: Console) -> None:
    page = await console.login("customer-service")
    await expect(page.locator("#recordings")).to_be_visible()
    await console.client.app[POOL].execute("UPDATE sessions SET revoked_at = now()")
    await page.locator("#nav a[data-page=customers]").click()  # the next call answers 401
    await expect(page.locator("#login")).to_be_visible()
    await expect(page.locator("#nav a")).to_have_count(0)
