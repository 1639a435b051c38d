"""The trainer's view: released calls only, nobody's identity, and no way around it."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from api.appkeys import POOL
from tests.console.browser import Console, screenshot, wait_until
from tests.staff import call_audio


async def test_trainer_plays_released_calls_and_cannot_open_others_by_url(
    console: Console, audio_dir: Path
) -> None:
    audio = call_audio(audio_dir, 12.0)
    released = await console.recording(
        audio, released=True, external_id="pbx-released", duration_seconds=12.0
    )
    unreleased = await console.recording(
        audio,
        external_id="pbx-private",
        duration_seconds=12.0,
        started_at="2026-11-23T11:00:00+02:00",
    )
    page = await console.login("trainer")
    rows = page.locator("#recordings tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.locator(f"a[href='#/training/{released}']")).to_be_visible()
    await screenshot(page, "training-list")

    await rows.locator("a").click()
    await expect(page.locator("#waveform canvas").first).to_be_attached()
    body = await page.locator("main").inner_text()
    assert "+358" not in body  # no caller number, service line …
    assert "maija" not in body.lower()  # … nor the agent
    await page.locator("#play").click()  # the training view is its own purpose
    await wait_until(page, "document.getElementById('audio').currentTime > 0.2")
    await screenshot(page, "training-recording")

    await page.goto(f"/#/training/{unreleased}")  # typed into the address bar
    await expect(page.locator("#error")).to_contain_text("no such recording released for training")
    await expect(page.locator("#waveform")).to_have_count(0)
    await page.goto(f"/#/recordings/{unreleased}")
    await expect(page.locator("#refused")).to_be_visible()
    status = await page.evaluate(
        f"fetch('/v1/recordings/{unreleased}/audio?purpose=training').then((r) => r.status)"
    )
    assert status == 404

    refused = await console.client.app[POOL].fetchval(
        "SELECT count(*) FROM audit_log WHERE object_id = $1 AND outcome = 'refused'", unreleased
    )
    assert refused >= 2
