"""The data protection officer's work in the browser: an access request from arrival to the
downloaded ZIP and a new copy of it, an erasure report in words, legal holds, and the audit
log."""

from __future__ import annotations

import zipfile
from pathlib import Path

from playwright.async_api import Dialog, Page, expect

from api.appkeys import POOL
from tests.console.browser import Console, hash_of, screenshot
from tests.staff import call_audio

CALLER = "+358401234567"  # the webhook helper's default caller


async def test_dpo_completes_an_access_request_and_downloads_the_zip(
    console: Console, audio_dir: Path, tmp_path: Path
) -> None:
    await console.recording(call_audio(audio_dir, 6.0), external_id="pbx-dsar")
    page = await console.login("dpo", timezone="Europe/Helsinki")
    await page.locator("#nav a[data-page=requests]").click()
    await page.get_by_role("link", name="+ New subject request").click()
    await page.get_by_label("Kind of request").select_option("access")
    await page.get_by_label("Identified by").select_option("phone_number")
    await page.get_by_label("Data subject").fill(CALLER)
    await page.get_by_label("Channel").select_option("email")
    await screenshot(page, "subject-request-new")
    await page.get_by_role("button", name="Create").click()

    status = page.locator("#request-status")
    await expect(status).to_have_attribute("data-status", "identity_unverified")
    await expect(status).to_have_text("identity not verified")  # the reader's words
    assert hash_of(page).startswith("#/requests/")
    await page.locator("#verify").get_by_role("button", name="Verify identity").click()
    method = page.get_by_label("How the identity was checked")
    assert await method.evaluate("(input) => input.validity.valueMissing")  # the browser asks
    await expect(status).to_have_attribute("data-status", "identity_unverified")
    await page.get_by_label("How the identity was checked").fill("strong electronic identification")
    await page.locator("#verify").get_by_role("button", name="Verify identity").click()
    await expect(status).to_have_attribute("data-status", "verified")
    await page.locator("#fulfil").click()
    await expect(status).to_have_attribute(
        "data-status", "completed", timeout=60_000
    )  # the page follows the work
    await screenshot(page, "subject-request-completed")

    downloaded_link = str(await page.locator("#download-export").get_attribute("href"))
    async with page.expect_download() as waiting:
        await page.locator("#download-export").click()
    download = await waiting.value
    saved = tmp_path / "export.zip"
    await download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
        assert {"recordings.json", "index.txt", "manifest.sha256"} <= set(names)
        [audio_name] = [n for n in names if n.startswith("recordings/")]
        assert archive.read(audio_name)[:4] == b"OggS"
    await _dpo_sees_the_download_and_issues_a_new_copy(console, page, downloaded_link)

    await page.locator("#nav a[data-page=requests]").click()
    queue = page.locator("#request-queue tbody tr")
    await expect(queue).to_have_count(1)
    await expect(queue).to_contain_text("completed")
    await screenshot(page, "subject-request-queue")


async def _status_of_link(console: Console, path: str) -> int:
    response = await console.client.get(path)
    await response.read()
    return response.status


async def _dpo_sees_the_download_and_issues_a_new_copy(
    console: Console, page: Page, downloaded_link: str
) -> None:
    """After the download the page says when, in the browser's zone with the zone named; a
    new copy (confirmed, since it kills the earlier link) gives a working link."""
    await page.reload()
    facts = page.locator("main > dl")
    await expect(facts).to_contain_text("Downloaded at")
    downloaded = facts.locator("dt:text-is('Downloaded at') + dd")
    await expect(downloaded).to_contain_text("EET")  # Helsinki, named (UTC+2 in winter)
    await expect(facts).to_contain_text("Copy kept until")
    await expect(page.locator("#download-export")).to_have_count(0)  # spent

    asked: list[str] = []

    async def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.once("dialog", accept)
    await page.locator("#new-copy").click()
    await expect(page.locator("#notice")).to_contain_text("A new download link is ready")
    assert "410" in asked[0]  # the confirmation says the earlier link dies
    assert "stops working" in asked[0]
    first = str(await page.locator("#download-export").get_attribute("href"))
    await screenshot(page, "subject-request-new-copy")

    page.once("dialog", accept)  # a second copy before the first was used: it dies too
    await page.locator("#new-copy").click()
    link = page.locator("#download-export")
    await expect(link).not_to_have_attribute("href", first)
    assert await _status_of_link(console, first) == 410
    assert await _status_of_link(console, downloaded_link) == 410
    async with page.expect_download() as waiting:
        await link.click()
    assert (await (await waiting.value).path()).read_bytes()[:2] == b"PK"

    page.once("dialog", lambda dialog: dialog.dismiss())  # a change of mind issues nothing
    await page.reload()
    await page.locator("#new-copy").click()
    await page.wait_for_timeout(500)
    await expect(page.locator("#download-export")).to_have_count(0)
    copies = await console.client.app[POOL].fetchval(
        "SELECT count(*) FROM exports WHERE request_id = $1", hash_of(page).rsplit("/", 1)[1]
    )
    assert copies == 3


async def test_the_erasure_report_is_in_words(console: Console, audio_dir: Path) -> None:
    await console.recording(call_audio(audio_dir, 3.0), external_id="pbx-erase")
    created = await console.api(
        "POST",
        "/v1/subject-requests",
        "dpo",
        json={"kind": "erasure", "subject": {"phone_number": CALLER}, "channel": "phone"},
    )
    path = f"/v1/subject-requests/{created['id']}"
    await console.api("POST", f"{path}/verify", "dpo", json={"method": "called back"})
    await console.api("POST", f"{path}/fulfil", "dpo")
    page = await console.login("dpo", language="fi")
    await page.goto(f"/#/requests/{created['id']}")
    await expect(page.locator("#request-status")).to_have_attribute(
        "data-status", "completed", timeout=60_000
    )
    report = page.locator("#report")
    await expect(report).to_contain_text("tallenne: poistettu")
    await expect(report).to_contain_text("Poistetut tiedostot")
    decisions = page.locator("#report-decisions")
    await expect(decisions.locator("th")).to_have_text(
        ["Tiedon laji", "Tunniste", "Tulos", "Perustelu"]
    )
    await expect(decisions.locator("tbody tr").first).to_contain_text("rekisteröidyn pyyntö")
    await expect(report).not_to_contain_text("recording")
    await expect(report).not_to_contain_text("subject_request")
    await screenshot(page, "subject-request-erasure-report")


async def test_dpo_places_and_releases_a_hold_and_searches_the_audit_log(
    console: Console,
) -> None:
    customer_id = await console.customer()
    page = await console.login("dpo")
    await page.locator("#nav a[data-page=holds]").click()
    form = page.locator("#place-hold")
    await form.get_by_label("Reason").fill("dispute over a rent agreement")
    await form.get_by_role("button", name="Place a hold").click()  # on nothing: the API says so
    await expect(page.locator("#error")).to_contain_text("send recording_ids or customer_id")
    await expect(page.locator("#holds tbody tr")).to_have_count(0)
    await form.get_by_label("Customer id").fill(customer_id)
    await form.get_by_label("Reason").fill("dispute over a rent agreement")
    await form.get_by_role("button", name="Place a hold").click()
    rows = page.locator("#holds tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("dispute over a rent agreement")
    await screenshot(page, "legal-holds")
    await rows.get_by_role("button", name="Release").click()
    await expect(page.locator("#holds tbody tr")).to_have_count(0)

    await page.locator("#nav a[data-page=audit]").click()
    await page.get_by_label("Action").fill("legal_hold.place")
    await page.locator("#audit-filters button[type=submit]").click()
    entries = page.locator("#audit-log tbody tr")
    await expect(entries).to_have_count(1)
    await expect(entries).to_contain_text("dpo")
    await screenshot(page, "audit-log")


async def test_the_audit_page_lists_calls_recorded_without_the_notice(
    console: Console, audio_dir: Path
) -> None:
    audio = call_audio(audio_dir, 4.0)
    told = await console.recording(audio, external_id="pbx-told")
    untold = await console.recording(
        audio, external_id="pbx-untold", notice_played=False, started_at="2026-11-23T12:00:00+02:00"
    )
    page = await console.login("dpo")
    await page.locator("#nav a[data-page=audit]").click()
    rows = page.locator("#notice-missing tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.locator(f"a[href='#/recordings/{untold}']")).to_be_visible()
    await expect(page.locator(f"#notice-missing a[href='#/recordings/{told}']")).to_have_count(0)


async def test_the_queue_puts_the_soonest_due_first_and_marks_the_overdue(
    console: Console,
) -> None:
    ids = []
    for number in ("+358401111111", "+358402222222", "+358403333333"):
        created = await console.api(
            "POST",
            "/v1/subject-requests",
            "customer-service",
            json={"kind": "access", "subject": {"phone_number": number}, "channel": "phone"},
        )
        ids.append(str(created["id"]))
    pool = console.client.app[POOL]
    await pool.execute(  # the second arrived long ago and is late; the third is due soon
        "UPDATE subject_requests SET received_at = now() - interval '20 days',"
        " due_at = now() - interval '6 days' WHERE id = $1",
        ids[1],
    )
    await pool.execute(
        "UPDATE subject_requests SET due_at = now() + interval '1 day' WHERE id = $1", ids[2]
    )
    page = await console.login("dpo")
    await page.locator("#nav a[data-page=requests]").click()
    rows = page.locator("#request-queue tbody tr")
    await expect(rows).to_have_count(3)
    order = [
        str(await row.locator("a").get_attribute("href")).rsplit("/", 1)[1]
        for row in await rows.all()
    ]
    assert order == [ids[1], ids[2], ids[0]]
    await expect(rows.nth(0).locator(".overdue")).to_contain_text("overdue")
    await expect(page.locator("#request-queue .overdue")).to_have_count(1)
    await screenshot(page, "subject-request-queue-overdue")
