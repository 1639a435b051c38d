"""Issue 17's "done when", as one walk: a call posted with ``callrec send-call`` to a running
service, its caller created as a customer in the browser by customer service, the call linked
and a contact logged about it, then the data protection officer hands the caller an access
copy whose times are Finnish time, in the file names and the CSV too."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from pathlib import Path

from playwright.async_api import Page, expect

from api.appkeys import POOL
from tests.callrec.test_send_call import send_call
from tests.console.browser import Console, screenshot
from tests.recorder.audio_files import make_audio
from tests.recorder.helpers import SECRET

HELSINKI = "Europe/Helsinki"
STARTED_UTC = "2026-11-20T19:55:00+00:00"  # 21:55 in Helsinki (EET, +02:00)
STARTED_HELSINKI = "2026-11-20T21:55:00+02:00"


async def _ready(console: Console, external_id: str) -> str:
    """The recording's id once the app's own worker has made it ready."""
    pool = console.client.app[POOL]
    async with asyncio.timeout(60):
        while True:
            row = await pool.fetchrow(
                "SELECT id, status FROM recordings WHERE external_id = $1", external_id
            )
            if row is not None and row["status"] == "ready":
                return str(row["id"])
            assert row is None or row["status"] not in ("failed", "rejected"), row
            await asyncio.sleep(0.1)


async def _customer_service_creates_links_and_logs(page: Page, recording_id: str) -> str:
    """Customer service: the caller as a new customer, the call linked, a contact logged."""
    await page.locator("#nav a[data-page=recordings]").click()
    row = page.locator("tbody tr", has_text="+358401234567")
    await expect(row).to_contain_text("21:55")  # the browser's zone, named on the page
    await page.locator("#nav a[data-page=customers]").click()
    await page.get_by_role("link", name="+ New customer").click()
    form = page.locator("#customer-form")
    await form.get_by_label("Customer number").fill("A-3001")
    await form.get_by_label("First name").fill("Maija")
    await form.get_by_label("Last name").fill("Mäkinotkelma")
    await form.get_by_label("tenant", exact=True).check()
    await form.get_by_role("button", name="+ Add a phone number").click()
    await form.get_by_label("Number 1", exact=True).fill("040 123 4567")  # as she said it
    await form.get_by_role("button", name="Save").click()
    await expect(page.locator("main h1")).to_have_text("Mäkinotkelma, Maija")
    customer_id = page.url.rsplit("/", 1)[1]

    call = page.locator("#unlinked-recordings tbody tr", has_text="+358401234567")
    await call.get_by_role("button", name="Link to this customer").click()
    await expect(page.locator("#notice")).to_have_text("Linked.")
    await expect(page.locator("#customer-recordings tbody tr")).to_have_count(1)
    contact = page.locator("#contact-form")
    await contact.get_by_label("The call this contact is about").select_option(recording_id)
    await contact.get_by_label("Topic").select_option("fault_report")
    await contact.get_by_label("What was agreed").fill("Plumber comes on Tuesday morning.")
    await contact.get_by_role("button", name="Save").click()
    logged = page.locator("#contact-log tbody tr")
    await expect(logged.locator(f"a[href='#/recordings/{recording_id}']")).to_be_visible()
    await expect(page.locator("#customer-recordings tbody tr")).to_contain_text("fault report")
    await screenshot(page, "walk-1-customer-card")
    return customer_id


async def _dpo_hands_over_an_access_copy(page: Page, tmp_path: Path) -> zipfile.ZipFile:
    """The officer: find the customer, register the request, verify, fulfil, download."""
    await page.locator("#nav a[data-page=customers]").click()
    search = page.locator("#customer-search")
    await search.get_by_label("Search by name").fill("mäkinotkelma")
    await search.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name="Mäkinotkelma, Maija").click()
    await page.get_by_role("link", name="+ Subject request from this customer").click()
    await page.get_by_label("Kind of request").select_option("access")
    await page.get_by_role("button", name="Create").click()
    await page.get_by_label("How the identity was checked").fill("strong electronic identification")
    await page.get_by_role("button", name="Verify identity").click()
    await page.get_by_role("button", name="Fulfil").click()
    link = page.locator("#download-export")
    await expect(link).to_be_visible(timeout=60_000)  # the page refreshes while it is built
    await screenshot(page, "walk-2-access-copy-ready")
    async with page.expect_download() as event:
        await link.click()
    path = tmp_path / "access-copy.zip"
    await (await event.value).save_as(path)
    await page.reload()
    await expect(page.locator("main dl").first).to_contain_text("Downloaded at")
    await screenshot(page, "walk-3-access-copy-downloaded")
    return zipfile.ZipFile(path)


async def test_a_call_becomes_a_customers_access_copy_in_finnish_time(
    console: Console, tmp_path: Path, audio_dir: Path
) -> None:
    audio = tmp_path / "call.wav"
    audio.write_bytes(make_audio(audio_dir, "wav-mulaw", 3.0))
    call = ["--caller", "+358401234567", "--agent", "customer-service", "--started-at", STARTED_UTC]
    sent = await send_call(
        [str(audio), "--url", console.base_url, *call, "--external-id", "pbx-1"],
        {"CALLREC_WEBHOOK_SECRET": SECRET},
    )
    assert (sent.returncode, sent.stdout[:4]) == (0, "202 "), sent
    recording_id = await _ready(console, "pbx-1")

    service = await console.login("customer-service", timezone=HELSINKI)
    customer_id = await _customer_service_creates_links_and_logs(service, recording_id)
    officer = await console.login("dpo", timezone=HELSINKI)
    archive = await _dpo_hands_over_an_access_copy(officer, tmp_path)

    assert archive.testzip() is None
    [audio_name] = [n for n in archive.namelist() if n.startswith("recordings/")]
    assert audio_name.startswith(f"recordings/2026-11-20T215500-{recording_id[:8]}")
    [row] = csv.DictReader(io.StringIO(archive.read("recordings.csv").decode("utf-8-sig")))
    assert row["started_at"] == STARTED_HELSINKI
    assert (row["file"], row["caller_number"]) == (audio_name, "+358401234567")
    [listed] = json.loads(archive.read("recordings.json"))
    assert (listed["started_at"], listed["id"]) == (STARTED_HELSINKI, recording_id)
    for name in ("recordings.csv", "recordings.json"):
        assert "19:55" not in archive.read(name).decode("utf-8-sig")
    [entry] = json.loads(archive.read("register/contact_log.json"))
    assert (entry["recording_id"], entry["topic"]) == (recording_id, "fault_report")
    customer = json.loads(archive.read("register/customer.json"))
    assert customer["id"] == customer_id
    assert customer["phones"][0]["number"] == "+358401234567"  # the caller, as the call had it
    assert HELSINKI in archive.read("index.txt").decode()
