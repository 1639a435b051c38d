"""Two-factor sign-in in the console: a DPO who has none can only enrol; enrolment with a
code pyotp computes from the page's secret; then the login takes two steps. An
administrator switches a lost factor off, after a confirmation."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pyotp
import pytest
from playwright.async_api import Dialog, expect

from common.settings import Settings
from tests.api.second_factor import enrol, next_code
from tests.api.sessions import PASSWORD, bearer, token_for
from tests.console.browser import Console, hash_of, nav_pages, open_console, screenshot


async def console_requiring(settings: Settings, *roles: str) -> AsyncIterator[Console]:
    """The console where these roles must enrol; it logs no script errors."""
    async for running in open_console(dataclasses.replace(settings, require_2fa_roles=roles)):
        yield running
        assert running.console_errors == []


@pytest.fixture
async def required(staff_settings: Settings) -> AsyncIterator[Console]:
    """The console with the default rule: admins and DPOs must enrol."""
    async for running in console_requiring(staff_settings, "admin", "dpo"):
        yield running


@pytest.fixture
async def dpo_required(staff_settings: Settings) -> AsyncIterator[Console]:
    """Only DPOs must enrol, so the administrator logs in with one step."""
    async for running in console_requiring(staff_settings, "dpo"):
        yield running


async def test_an_administrator_switches_a_dpos_lost_factor_off(dpo_required: Console) -> None:
    await enrol(dpo_required.client, bearer(await token_for(dpo_required.client, "dpo")))
    page = await dpo_required.login("admin")
    await page.goto("/#/users")
    dpo_row = page.locator("#users tr").filter(has=page.get_by_role("button", name="dpo"))
    await expect(dpo_row.locator("td").last).to_have_text("yes")
    await dpo_row.get_by_role("button", name="dpo").click()
    switch_off = page.get_by_role("button", name="Switch off two-factor sign-in")

    asked: list[str] = []

    async def answer(dialog: Dialog, accept: bool) -> None:
        asked.append(dialog.message)
        await (dialog.accept() if accept else dialog.dismiss())

    page.once("dialog", lambda dialog: answer(dialog, False))
    await switch_off.click()  # cancelled (the click returns once the dialog is answered)
    assert len(asked) == 1
    assert "dpo" in asked[0]
    await expect(switch_off).to_be_visible()
    page.once("dialog", lambda dialog: answer(dialog, True))
    await switch_off.click()
    await expect(page.locator("#notice")).to_have_text("Two-factor sign-in switched off: dpo")
    await expect(switch_off).to_have_count(0)
    assert len(asked) == 2
    await expect(dpo_row.locator("td").last).to_have_text("no")
    await screenshot(page, "two-factor-switched-off")

    dpo = await dpo_required.login("dpo")  # one step, and held to enrolment again
    await expect(dpo.locator("#two-factor-required")).to_be_visible()
    assert await dpo.locator("#nav a").count() == 0


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
