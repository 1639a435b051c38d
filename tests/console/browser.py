"""Driving the console in Debian's Chromium with Playwright, against the real app.

The app runs with its ingest worker and subject-request processor, on a real PostgreSQL
and object store, so what the browser shows is what production would show. Playwright's
own browser download cannot work on a machine without internet access, so the tests launch
the system Chromium (``make test`` installs it) with the flags a closed network needs.
Screenshots of the main pages land in ``test-artifacts/console/``; every page screenshot is
also checked with axe-core (vendored in ``vendor/``) for WCAG 2.1 AA violations.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from api.appkeys import POOL
from callrec.app import create_app
from common.settings import Settings
from tests.api.sessions import PASSWORD, Client, add_role_users, headers_for
from tests.recorder.helpers import deliver
from tests.register.samples import maija

CHROMIUM: Final = Path(os.environ.get("CALLREC_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS: Final = Path(os.environ.get("CALLREC_TEST_ARTIFACTS", "test-artifacts")) / "console"
FLAGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
WAIT_MS: Final = 15_000
AXE: Final = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_21_AA: Final = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# axe adds <style> elements of its own while it works; the page's CSP admits them only with
# the page's style nonce, so while axe loads and runs, new style elements get that nonce (in
# any document: axe also parses stylesheets of shadow roots in documents of its own).
AXE_NONCE_ON: Final = """() => {
  const nonce = document.querySelector('meta[name=style-nonce]')?.content;  // none on /privacy

  const create = Document.prototype.createElement;
  window.__createElement = create;
  Document.prototype.createElement = function (tag, options) {
    const node = create.call(this, tag, options);
    if (nonce && String(tag).toLowerCase() === 'style') node.nonce = nonce;
    return node;
  };
}"""
AXE_RUN: Final = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})
  .then(result => result.violations.map(v =>
    `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`))
  .finally(() => { Document.prototype.createElement = window.__createElement; })"""


@dataclass
class Console:
    """The app on a real port, a browser, and the pages opened in it."""

    client: Client
    browser: Browser
    console_errors: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    async def login(
        self, username: str, *, language: str = "en", timezone: str | None = None
    ) -> Page:
        """A fresh browser context (its own cookie jar, and the given time zone, else the
        machine's) logged in through the form."""
        context = await self.browser.new_context(
            base_url=self.base_url, accept_downloads=True, timezone_id=timezone
        )
        await context.add_init_script(  # the first visit's language; a switch then sticks
            "if (!localStorage.getItem('callrec.language'))"
            f" localStorage.setItem('callrec.language', '{language}')"
        )
        page = await context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("console", self._keep_error)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        await page.goto("/")
        await page.locator("#login input[name=username]").fill(username)
        await page.locator("#login input[name=password]").fill(PASSWORD)
        await page.locator("#login button[type=submit]").click()
        await expect(page.locator("#logout")).to_be_visible()
        return page

    async def card(
        self, customer_id: str, username: str = "customer-service", **login: Any
    ) -> Page:
        """``username`` logged in (``login``: language, time zone), on the customer's card."""
        page = await self.login(username, **login)
        await page.goto(f"/#/customers/{customer_id}")
        return page

    def _keep_error(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.console_errors.append(message.text)  # a CSP violation shows up here

    async def api(self, method: str, path: str, username: str, **kwargs: Any) -> Any:
        """A call with a bearer token, for setting up what the browser then looks at."""
        headers = await headers_for(self.client, username)
        response = await self.client.request(method, path, headers=headers, **kwargs)
        assert response.status < 300, await response.text()
        return await response.json()

    async def customer(self, **overrides: Any) -> str:
        """Maija in the register, added by customer service; returns her id."""
        document = await self.api(
            "POST", "/v1/customers", "customer-service", json=maija(**overrides)
        )
        return str(document["id"])

    async def lease(self, customer_id: str, **overrides: Any) -> str:
        """A lease of the customer's (tenant, from 2026-02-01), added by customer service."""
        body = {
            "lease_number": "V-2026/7",
            "property": "Toinen linja 14",
            "apartment": "A 3",
            "start_date": "2026-02-01",
            "parties": [{"customer_id": customer_id, "role": "tenant"}],
        }
        document = await self.api("POST", "/v1/leases", "customer-service", json=body | overrides)
        return str(document["id"])

    async def recording(
        self, audio: bytes, *, released: bool = False, linked_to: str | None = None, **fields: Any
    ) -> str:
        """A call delivered through the signed webhook and processed by the app's worker;
        ``released`` for training by the DPO, ``linked_to`` a customer by customer service."""
        recording_id = await deliver(self.client, audio, **fields)
        async with asyncio.timeout(60):
            while True:
                status = await self.client.app[POOL].fetchval(
                    "SELECT status FROM recordings WHERE id = $1", recording_id
                )
                if status == "ready":
                    break
                assert status not in ("failed", "rejected"), status
                await asyncio.sleep(0.1)
        if linked_to is not None:
            await self.api(
                "POST",
                f"/v1/recordings/{recording_id}/customer",
                "customer-service",
                json={"customer_id": linked_to},
            )
        if released:
            await self.api(
                "POST",
                f"/v1/recordings/{recording_id}/training-release",
                "dpo",
                json={"released": True, "reason": "good example of a fault report"},
            )
        return recording_id

    async def redacted_rendition(self, recording_id: str) -> None:
        """Wait (up to a minute) until the worker has rendered the call's redacted rendition,
        which training playback and the trainer's transcript wait for."""
        for _ in range(300):
            listed = await self.api("GET", f"/v1/recordings/{recording_id}/redactions", "dpo")
            if listed["rendition"] == "ready":
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"the redacted rendition is {listed['rendition']}, not ready")


async def screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page for people reviewing the change (not compared), and check
    the page as it is shown for accessibility."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    await assert_accessible(page)


async def accessibility_violations(page: Page) -> list[str]:
    """What axe-core finds against WCAG 2.1 level A and AA on the page as it is now. axe is
    evaluated through the DevTools protocol, which the page's CSP does not govern, so the
    console's policy stays as strict as in production."""
    await page.evaluate(AXE_NONCE_ON)
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text())
    violations: list[str] = await page.evaluate(AXE_RUN, WCAG_21_AA)
    return violations


async def assert_accessible(page: Page) -> None:
    """Fail with axe-core's findings, each naming the rule and the elements."""
    violations = await accessibility_violations(page)
    assert violations == [], hash_of(page) + "\n" + "\n".join(violations)


async def nav_pages(page: Page) -> list[str]:
    """The pages the navigation offers, by their path."""
    await expect(page.locator("#nav a").first).to_be_visible()
    return [str(await a.get_attribute("data-page")) for a in await page.locator("#nav a").all()]


async def wait_until(page: Page, expression: str) -> None:
    """Poll ``expression`` in the page until it is truthy. (Playwright's wait_for_function
    evaluates strings inside the page, which the console's CSP rightly forbids.)"""
    async with asyncio.timeout(WAIT_MS / 1000):
        while True:
            if await page.evaluate(expression):
                return
            await asyncio.sleep(0.05)


def hash_of(page: Page) -> str:
    """The console's route, from the page's address."""
    match = re.search(r"#.*$", page.url)
    return match.group(0) if match else ""


async def open_console(settings: Settings) -> AsyncIterator[Console]:
    """The app with its workers on a real port, one account per role, and Chromium."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    async with TestClient(TestServer(create_app(settings, run_worker=True))) as client:
        await add_role_users(client)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            try:
                yield Console(client, browser)
            finally:
                await browser.close()
