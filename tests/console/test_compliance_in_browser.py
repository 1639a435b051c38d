"""The data protection officer's evidence page, and the access copy a person receives opened
from disk in Chromium: readable pages in their language, and a call that plays in place."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from api.appkeys import POOL, SETTINGS
from rights.wording import retention_sentences, rights
from tests.console.browser import Console, screenshot, wait_until
from tests.staff import call_audio

NAME = '<script>document.title="pwned"</script>Åsa'


async def _completed_copy(console: Console, customer_id: str) -> bytes:
    """An access request for the customer, verified and fulfilled by the app's own worker."""
    request = await console.api(
        "POST",
        "/v1/subject-requests",
        "dpo",
        json={"kind": "access", "channel": "email", "subject": {"customer_id": customer_id}},
    )
    url = f"/v1/subject-requests/{request['id']}"
    await console.api("POST", f"{url}/verify", "dpo", json={"method": "ID card at the desk"})
    await console.api("POST", f"{url}/fulfil", "dpo")
    document: dict[str, Any] = {}
    async with asyncio.timeout(60):
        while document.get("status") != "completed":
            await asyncio.sleep(0.2)
            document = await console.api("GET", url, "dpo")
    response = await console.client.get(document["download_url"])
    assert response.status == 200
    return await response.read()


async def test_the_access_copy_reads_and_plays_from_disk_in_the_subjects_language(
    console: Console, audio_dir: Path, tmp_path: Path
) -> None:
    customer_id = await console.customer(first_name=NAME, language="sv")
    await console.recording(call_audio(audio_dir, 4.0), external_id="pbx-copy")
    staff = f"/v1/customers/{customer_id}"
    await console.api(
        "POST",
        f"{staff}/contacts",
        "customer-service",
        json={"channel": "phone", "direction": "inbound", "topic": "fault_report",
              "note": "<b>leaking</b> tap", "at": "2026-11-20T10:00:00+02:00"},
    )  # fmt: skip
    await console.api(
        "POST",
        f"{staff}/marketing",
        "customer-service",
        json={"kind": "direct_marketing", "allowed": False, "given_via": "phone",
              "at": "2026-06-01T09:00:00+03:00"},
    )  # fmt: skip
    archive = zipfile.ZipFile(io.BytesIO(await _completed_copy(console, customer_id)))
    names = set(archive.namelist())
    assert {"index.html", "recordings.json", "recordings.csv", "register/customer.json"} <= names
    assert "index.html" in archive.read("manifest.sha256").decode()
    folder = tmp_path / "copy"
    archive.extractall(folder)
    html = (folder / "index.html").read_text()
    assert "<script" not in html  # the name is text, never markup
    assert "&lt;script&gt;" in html

    context = await console.browser.new_context(timezone_id="Europe/Helsinki")
    await context.route("http*://**", lambda route: route.abort())  # no network at all
    page = await context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    await page.goto((folder / "index.html").as_uri())

    assert await page.title() == "Kopia av dina uppgifter"
    await expect(page.locator("html")).to_have_attribute("lang", "sv")
    headings = await page.locator("h2").all_inner_texts()
    assert headings[:6] == [
        "Samtalsinspelningar",
        "Dina uppgifter i kundregistret",
        "Hyresavtal",
        "Kontakter",
        "Utlämnade uppgifter",
        "Direktmarknadsföring",
    ]
    assert {"Hur länge vi sparar uppgifterna", "Dina rättigheter"} <= set(headings)
    await expect(page.locator("#register")).to_contain_text(NAME)  # shown as typed
    await expect(page.locator("#contact_log")).to_contain_text("<b>leaking</b> tap")
    await expect(page.locator("#contact_log")).to_contain_text("2026-11-20 10:00 +02:00")
    await expect(page.locator("#contact_log")).to_contain_text("felanmälan")
    await expect(page.locator("#marketing th").first).to_have_text("Typ")
    settings = console.client.app[SETTINGS]  # the privacy notice's own words, live figures
    kept = await page.locator("#retention li").all_inner_texts()
    assert kept == retention_sentences(settings, "sv")
    said = await page.locator("#rights h3").all_inner_texts()
    assert said == [r.heading for r in rights("sv", settings.subject_request_due_days)]

    audio = page.locator("#recordings audio")
    await expect(audio).to_have_count(1)
    assert (await audio.get_attribute("src") or "").startswith("recordings/")
    await audio.evaluate("(a) => a.play()")
    await wait_until(
        page,
        "(() => { const a = document.querySelector('audio');"
        " return !a.error && (a.currentTime > 0 || a.readyState >= 2); })()",
    )
    assert await audio.evaluate("(a) => a.error === null && a.duration > 3")
    assert await page.title() == "Kopia av dina uppgifter"  # no script ran
    assert failures == []
    await screenshot(page, "access-copy-index")
    await context.close()


async def test_the_evidence_page_shows_the_live_figures(console: Console) -> None:
    pool = console.client.app[POOL]
    await pool.execute(
        "INSERT INTO subject_requests (id, kind, subject_type, phone_number, channel,"
        " received_at, due_at, legal_due_at, status) VALUES (gen_random_uuid(), 'access',"
        " 'phone', '+358401234567', 'phone', now() - interval '20 days',"
        " now() - interval '6 days', now() + interval '10 days', 'verified')"
    )
    page = await console.login("dpo", language="fi")
    await page.locator("#nav a[data-page=evidence]").click()
    await expect(page.locator("main h1")).to_have_text("Tietosuojan seuranta")
    facts = page.locator("main dl").first
    await expect(facts).to_contain_text("Saapuneet1")
    await expect(facts).to_contain_text("Avoimet, tavoiteaika ylittynyt1 (vaatii toimia)")
    await expect(page.locator("#evidence-jobs tbody tr")).to_have_count(6)
    await expect(page.locator("#evidence-jobs")).to_contain_text("säilytysaikojen poisto")
    await expect(page.locator("main")).to_contain_text("LitteroinnitValmiita0Jonossa0")
    await screenshot(page, "compliance-evidence")
