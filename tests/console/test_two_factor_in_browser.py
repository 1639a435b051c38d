"""Two-factor sign-in in the console: a DPO who has none can only enrol; enrolment with a
code pyotp computes from the page's secret; then the login takes two steps."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pyotp
import pytest
from playwright.async_api import expect

from common.settings import Settings
from tests.api.second_factor import enrol, next_code
from tests.api.sessions import PASSWORD, bearer, token_for
from tests.console.browser import Console, hash_of, nav_pages, open_console, screenshot


@pytest.fixture
async def required(staff_settings: Settings) -> AsyncIterator[Console]:
    """The console with the default rule: admins and DPOs must enrol."""
    settings = dataclasses.replace(staff_settings, require_2fa_roles=("admin", "dpo"))
    async for running in open_console(settings):
        yield running
        assert running.console_errors == []


async def test_a_dpo_enrols_then_logs_in_with_two_steps(required: Console) -> None:
    page = await required.login("dpo")
    await expect(page.locator("#two-factor-required")).to_be_visible()
    assert hash_of(page) == "#/two-factor"
    assert await page.locator("#nav a").count() == 0  # nothing but enrolment
    await page.goto("/#/audit")  # typed into the address bar
    await expect(page.locator("#two-factor-required")).to_be_visible()
    await screenshot(page, "two-factor-required")

    await page.locator("#start-enrolment").click()
    await expect(page.locator("#totp-qr")).to_be_visible()
    secret = str(await page.locator("#totp-secret").get_attribute("data-secret"))
    assert (await page.locator("#totp-secret").text_content() or "").replace(" ", "") == secret
    await screenshot(page, "two-factor-enrol")
    await page.get_by_role("textbox", name="The code the app shows").fill(pyotp.TOTP(secret).now())
    await page.locator("#totp-confirm button[type=submit]").click()
    await expect(page.locator("#recovery-codes li")).to_have_count(10)
    await screenshot(page, "two-factor-recovery-codes")
    await page.locator("#recovery-done").click()
    assert "audit" in await nav_pages(page)  # the DPO's pages are back

    await page.locator("#logout").click()
    await page.locator("#login input[name=username]").fill("dpo")
    await page.locator("#login input[name=password]").fill(PASSWORD)
    await page.locator("#login button[type=submit]").click()
    await expect(page.locator("#login-code")).to_be_visible()
    await screenshot(page, "login-second-step")
    await page.locator("#login-code input[name=code]").fill(next_code(secret))
    await page.locator("#login-code button[type=submit]").click()
    await expect(page.locator("#logout")).to_be_visible()
    assert "audit" in await nav_pages(page)  # the DPO's pages are back
    await page.locator("#two-factor-link").click()
    await expect(page.locator("#two-factor-on")).to_be_visible()


async def test_a_wrong_code_brings_the_login_back_in_finnish(required: Console) -> None:
    await enrol(required.client, bearer(await token_for(required.client, "trainer")))
    context = await required.browser.new_context(base_url=required.base_url)
    await context.add_init_script("localStorage.setItem('callrec.language', 'fi')")
    page = await context.new_page()
    await page.goto("/")
    await page.locator("#login input[name=username]").fill("trainer")
    await page.locator("#login input[name=password]").fill(PASSWORD)
    await page.locator("#login button[type=submit]").click()
    await expect(page.locator("#login-code h1")).to_have_text("Tunnistautumisen toinen vaihe")
    await screenshot(page, "login-second-step-fi")
    await page.locator("#login-code input[name=code]").fill("000000")
    await page.locator("#login-code button[type=submit]").click()
    await expect(page.locator("#login")).to_be_visible()
    await expect(page.locator("#error")).to_contain_text("log in again")
    await context.close()
