"""The trainer's workspace in the browser: a note at the play position shows as a marker and
in a list that seeks the player; a collection is created, the call added, opened from it and
taken out again, all by keyboard and mouse, in Finnish."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from api.appkeys import POOL
from tests.console.browser import Console, screenshot, wait_until
from tests.staff import call_audio


async def test_trainer_adds_a_note_and_a_collection(console: Console, audio_dir: Path) -> None:
    audio = call_audio(audio_dir, 12.0)
    released = await console.recording(
        audio, released=True, external_id="pbx-workspace", duration_seconds=12.0
    )
    page = await console.login("trainer", language="fi")
    await page.goto(f"/#/training/{released}")
    await expect(page.locator("#notes-section h2")).to_have_text("Muistiinpanot")
    await wait_until(page, "!document.getElementById('play').disabled")  # audio chosen
    wave = page.locator("#waveform")
    await wave.focus()
    await page.keyboard.press("ArrowRight")  # 5 s on, by keyboard
    await expect(page.locator("#note-position")).to_have_text("0:05")
    await page.locator("#add-note textarea").fill("Hyvä tapa kuitata asiakkaan huoli")
    await page.locator("#add-note button[type=submit]").click()
    notes = page.locator("#notes li")
    await expect(notes).to_have_count(1)
    await expect(notes.first).to_contain_text("0:05")
    await expect(notes.first).to_contain_text("Hyvä tapa kuitata asiakkaan huoli")
    await expect(page.locator(".note-marker")).to_have_count(1)
    left = await page.locator(".note-marker").evaluate("m => parseFloat(m.style.left)")
    assert abs(left - 100 * 5 / 12) < 2  # at 5 s of the 12 s call
    stored = await console.client.app[POOL].fetchval(
        "SELECT at_ms FROM recording_annotations WHERE recording_id = $1", released
    )
    assert 4900 <= stored <= 5100
    await wave.focus()
    await page.keyboard.press("ArrowRight")  # on to 10 s; the list seeks back to the note
    await expect(page.locator("#note-position")).to_have_text("0:10")
    await notes.first.locator("button.seek").click()
    await expect(page.locator("#note-position")).to_have_text("0:05")
    await screenshot(page, "training-notes")

    await page.locator("#nav a[data-page=collections]").click()
    await expect(page.locator("main h1")).to_have_text("Kokoelmat")
    await page.locator("#new-collection input[name=name]").fill("Vaikeat vuokrarästipuhelut")
    await page.locator("#new-collection input[name=name]").press("Enter")  # by keyboard
    await expect(page.locator("main h1")).to_have_text("Vaikeat vuokrarästipuhelut")
    await expect(page.locator("#collection-calls tbody tr")).to_have_count(0)

    await page.goto(f"/#/training/{released}")
    await page.locator("#add-to-collection button[type=submit]").click()
    await expect(page.locator("#notice")).to_have_text("Lisätty kokoelmaan.")
    await page.locator("#nav a[data-page=collections]").click()
    rows = page.locator("#collections tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("1")
    await rows.first.locator("a").click()
    calls = page.locator("#collection-calls tbody tr")
    await expect(calls).to_have_count(1)
    await screenshot(page, "training-collection")
    await calls.first.locator("a").click()  # opens the call from the collection
    await expect(page.locator("#notes li")).to_have_count(1)
    await page.go_back()
    await page.locator("#collection-calls button.remove").click()
    await expect(page.locator("#collection-calls tbody tr")).to_have_count(0)
    assert console.console_errors == []
