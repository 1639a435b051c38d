"""First run as an organisation meets it: ``callrec serve`` prints the setup link, the browser
follows it to the first administrator, who logs in and, as the default
``CALLREC_REQUIRE_2FA_ROLES`` asks of an administrator, must first enrol two-factor sign-in
(with a code pyotp computes from the page's secret); then a one-time password is changed at
the next login, and the account page lists and ends sessions."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.api.second_factor import next_code
from tests.console.browser import CHROMIUM, FLAGS, WAIT_MS, screenshot

ADMIN_PASSWORD = "lighthouse keeper at dawn"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/#/setup\?token=[A-Za-z0-9_-]{40,}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Served:
    """A running ``callrec serve``: the setup link it printed and everything it printed."""

    process: asyncio.subprocess.Process
    link: str
    printed: list[str]

    async def stop(self) -> str:
        """Stop it (SIGTERM) and return all it printed."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            _, rest = await asyncio.wait_for(self.process.communicate(), 30)
            self.printed.append((rest or b"").decode())
        assert self.process.returncode == 0, "".join(self.printed)
        return "".join(self.printed)


@pytest.fixture
async def served(empty_database_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    """``callrec serve`` on an empty database, once it has printed the setup link."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
    env = {
        **clean,
        "CALLREC_DATABASE_URL": empty_database_url,
        "CALLREC_DATA_DIR": str(tmp_path / "var"),
        "CALLREC_PORT": str(_free_port()),
        "CALLREC_SCHEDULER": "false",
        "CALLREC_LOG_FORMAT": "text",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callrec.cli", "serve", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    printed: list[str] = []
    running = Served(process, "", printed)
    try:
        async with asyncio.timeout(60):
            while not any(LINK.search(line) for line in printed):
                line = (await process.stderr.readline()).decode()
                assert line, "serve ended: " + "".join(printed)
                printed.append(line)
        running.link = next(m.group(0) for line in printed if (m := LINK.search(line)))
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


async def _page(browser: Browser, base_url: str) -> Page:
    context = await browser.new_context(base_url=base_url)
    await context.add_init_script("localStorage.setItem('callrec.language', 'en')")
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    return page


async def _api(base_url: str, method: str, path: str, token: str, body: Any = None) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, base_url + path, json=body, headers={"Authorization": f"Bearer {token}"}
        ) as answer,
    ):
        assert answer.status < 300, await answer.text()
        return await answer.json()


async def test_the_printed_link_leads_to_a_logged_in_admin(
    served: Served, browser: Browser
) -> None:
    link = served.link
    assert len([line for line in served.printed if "/#/setup?token=" in line]) == 1
    base_url = link.split("/#/")[0]
    page = await _page(browser, base_url)
    await page.goto(link)
    await expect(page.locator("#setup")).to_be_visible()
    await screenshot(page, "setup")
    await page.locator("#setup input[name=username]").fill("ulla.admin")
    await page.locator("#setup input[name=password]").fill("password1234")
    await page.locator("#setup button[type=submit]").click()
    await expect(page.locator("#error")).to_contain_text("common passwords")  # policy, said
    await page.locator("#setup input[name=password]").fill(ADMIN_PASSWORD)
    await page.locator("#setup button[type=submit]").click()
    await expect(page.locator("#login")).to_be_visible()
    await expect(page.locator("#notice")).to_contain_text("Administrator created")
    assert "token" not in page.url  # spent, and off the address bar
    await expect(page.locator("#login input[name=username]")).to_have_value("ulla.admin")
    await page.locator("#login input[name=password]").fill(ADMIN_PASSWORD)
    await page.locator("#login button[type=submit]").click()
    # An administrator may do nothing before enrolling a second factor.
    await expect(page.locator("#two-factor-required")).to_be_visible()
    assert await page.locator("#nav a").count() == 0
    await page.locator("#start-enrolment").click()
    await expect(page.locator("#totp-qr")).to_be_visible()
    secret = str(await page.locator("#totp-secret").get_attribute("data-secret"))
    await screenshot(page, "setup-two-factor")
    await page.locator("#totp-confirm input[name=code]").fill(pyotp.TOTP(secret).now())
    await page.locator("#totp-confirm button[type=submit]").click()
    await expect(page.locator("#recovery-codes li")).to_have_count(10)
    await page.locator("#recovery-done").click()
    await expect(page.locator("#logout")).to_be_visible()
    await expect(page.locator("#nav a[data-page=users]")).to_be_visible()
    await screenshot(page, "setup-done")

    # The link is spent: opening it again says so.
    again = await _page(browser, base_url)
    await again.goto(link)
    await again.locator("#setup input[name=username]").fill("someone.else")
    await again.locator("#setup input[name=password]").fill(ADMIN_PASSWORD)
    await again.locator("#setup button[type=submit]").click()
    await expect(again.locator("#error")).to_contain_text("no setup is waiting")

    # A one-time password from the administrator: the next login can only change it.
    async with aiohttp.ClientSession() as http:
        credentials = {"username": "ulla.admin", "password": ADMIN_PASSWORD}
        async with http.post(base_url + "/v1/auth/login", json=credentials) as answer:
            challenge = (await answer.json())["challenge"]  # enrolled: two steps
        second = {"challenge": challenge, "code": next_code(secret)}
        async with http.post(base_url + "/v1/auth/login/totp", json=second) as answer:
            token = (await answer.json())["token"]
    user = await _api(
        base_url,
        "POST",
        "/v1/users",
        token,
        {"username": "teemu", "password": "first given phrase", "roles": ["trainer"]},
    )
    reset = await _api(base_url, "POST", f"/v1/users/{user['id']}/password-reset", token)
    teemu = await _page(browser, base_url)
    await teemu.goto("/")
    await teemu.locator("#login input[name=username]").fill("teemu")
    await teemu.locator("#login input[name=password]").fill(reset["one_time_password"])
    await teemu.locator("#login button[type=submit]").click()
    await expect(teemu.locator("#change-password")).to_be_visible()
    assert await teemu.locator("#nav a").count() == 0
    await screenshot(teemu, "password-change-required")
    await teemu.locator("#change-password input[name=current]").fill(reset["one_time_password"])
    await teemu.locator("#change-password input[name=new]").fill("my very own phrase")
    await teemu.locator("#change-password button[type=submit]").click()
    await expect(teemu.locator("#nav a[data-page=training]")).to_be_visible()

    # The account page lists the admin's sessions (browser and API) and ends the other one.
    await page.locator("#nav a[data-page=account]").click()
    await expect(page.locator("#session-list tbody tr")).to_have_count(2)
    await expect(page.locator("#session-list")).to_contain_text("this session")
    await screenshot(page, "account")
    await page.locator("#session-list tbody button").click()
    await expect(page.locator("#notice")).to_contain_text("Session ended")
    await expect(page.locator("#session-list tbody tr")).to_have_count(1)
    async with (
        aiohttp.ClientSession() as http,
        http.get(base_url + "/v1/auth/me", headers={"Authorization": f"Bearer {token}"}) as me,
    ):
        assert me.status == 401
    text = await served.stop()
    assert text.count(link.split("token=")[1]) == 1  # in the one line, nowhere else
    assert ADMIN_PASSWORD not in text
    assert reset["one_time_password"] not in text
