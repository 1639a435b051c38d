"""The recording page: purpose first, then play, and a click on the waveform seeks through
HTTP Range requests. The call is stereo, so this is also the proof that Chromium plays and
seeks the uncoupled Opus renditions (mapping family 255) stereo calls get."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Response, expect

from api.appkeys import POOL, VAULT
from recorder.rerender import mapping_family
from storage.vault import load_sealed
from tests.console.browser import Console, screenshot, wait_until
from tests.staff import call_audio

SECONDS = 30.0


async def test_play_then_seek_to_the_middle_through_range_requests(
    console: Console, audio_dir: Path
) -> None:
    recording_id = await console.recording(
        call_audio(audio_dir, SECONDS),
        external_id="pbx-player",
        duration_seconds=SECONDS,
        channel_layout="agent-left",
    )
    page = await console.login("customer-service")
    audio_answers: list[Response] = []
    page.on("response", lambda r: audio_answers.append(r) if "/audio?" in r.url else None)
    # A slow line (30 kB/s, 2.5 times the rendition's bitrate), so the browser cannot have
    # fetched the middle by the time the click asks for it.
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": 30_000, "uploadThroughput": -1},
    )
    await page.locator(f"#recordings a[href='#/recordings/{recording_id}']").click()
    await expect(page.locator("#waveform canvas").first).to_be_attached()
    await expect(page.locator(".legend")).to_contain_text("agent")
    play = page.locator("#play")
    await expect(play).to_be_disabled()  # no purpose, no audio
    assert audio_answers == []
    await screenshot(page, "recording-before-purpose")

    await page.get_by_label("Purpose of listening").select_option("verify_content")
    await expect(play).to_be_enabled()
    await play.click()
    await wait_until(page, "document.getElementById('audio').currentTime > 0.2")

    box = await page.locator("#waveform").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await wait_until(
        page, f"Math.abs(document.getElementById('audio').currentTime - {SECONDS / 2}) < 1.5"
    )
    position = await page.evaluate("document.getElementById('audio').currentTime")
    assert abs(position - SECONDS / 2) < 1.5
    await wait_until(page, f"document.getElementById('audio').currentTime > {position + 0.3}")
    assert await page.evaluate("document.getElementById('audio').error") is None
    object_id = await console.client.app[POOL].fetchval(
        "SELECT audio_object_id FROM recordings WHERE id = $1", recording_id
    )
    sealed = await load_sealed(console.client.app[POOL], object_id)
    assert sealed is not None
    opus = await console.client.app[VAULT].read_all(sealed)
    assert mapping_family(opus) == 255  # two uncoupled streams, played and seeked above
    await expect(page.locator("#clock")).to_contain_text("0:1")
    await screenshot(page, "recording-playing")

    ranges = [r.headers.get("content-range", "") for r in audio_answers if r.status == 206]
    starts = [int(value.split(" ")[1].split("-")[0]) for value in ranges if value]
    assert any(start > 0 for start in starts), ranges  # the seek asked for a later range

    rows = await console.client.app[POOL].fetch(
        "SELECT purpose, details FROM audit_log WHERE action = 'recording.play' AND object_id = $1",
        recording_id,
    )
    assert rows
    assert {r["purpose"] for r in rows} == {"verify_content"}
