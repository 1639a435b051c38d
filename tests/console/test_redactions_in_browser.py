"""The DPO marks spans to redact on the recording page: by keyboard (start and end fields)
and by dragging across the waveform, sees them listed and drawn, previews the redacted
rendition, removes a span, and releases the call with the review confirmed; the trainer then
hears the redacted call (the span silent in the audio the browser received)."""

from __future__ import annotations

import base64
from pathlib import Path

from playwright.async_api import expect

from api.appkeys import POOL
from tests.api.test_redactions import levels
from tests.console.browser import Console, screenshot, wait_until
from tests.staff import call_audio

SECONDS = 30.0


async def test_the_dpo_marks_spans_by_keyboard_and_by_drag(
    console: Console, audio_dir: Path
) -> None:
    recording_id = await console.recording(
        call_audio(audio_dir, SECONDS),
        external_id="pbx-redact",
        duration_seconds=SECONDS,
        channel_layout="agent-left",
    )
    page = await console.login("dpo", language="en")
    await page.goto(f"/#/recordings/{recording_id}")
    panel = page.locator("#redactions")
    await expect(panel).to_be_visible()
    await expect(panel.locator("#redaction-list")).to_contain_text("No spans redacted")
    await expect(page.locator("#waveform canvas").first).to_be_attached()

    # by keyboard only: tab through the fields, type, choose the channel, submit with Enter
    await page.get_by_label("Start (s)").focus()
    await page.keyboard.type("2")
    await page.keyboard.press("Tab")
    await page.keyboard.type("4.5")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Whose voice to silence")).to_be_focused()
    await page.keyboard.press("ArrowDown")  # both -> agent
    await expect(page.get_by_label("Whose voice to silence")).to_have_value("agent")
    await page.keyboard.press("Tab")
    await page.keyboard.type("a neighbour is named")
    await page.keyboard.press("Tab")
    await expect(panel.get_by_role("button", name="Add span")).to_be_focused()
    await page.keyboard.press("Enter")
    items = panel.locator("#redaction-list li")
    await expect(items).to_have_count(1)
    await expect(items.first).to_contain_text("0:02–0:05")
    await expect(items.first).to_contain_text("agent")
    await expect(items.first).to_contain_text("a neighbour is named")

    # by drag: from 60 % to 80 % of the waveform fills the fields, then a reason and save
    await page.locator("#waveform").scroll_into_view_if_needed()
    box = await page.locator("#waveform").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    await page.mouse.move(box["x"] + box["width"] * 0.6, y)
    await page.mouse.down()
    for step in range(1, 11):
        await page.mouse.move(box["x"] + box["width"] * (0.6 + 0.02 * step), y)
    await page.mouse.up()
    start = float(await page.get_by_label("Start (s)").input_value())
    end = float(await page.get_by_label("End (s)").input_value())
    assert abs(start - 0.6 * SECONDS) < 1.0
    assert abs(end - 0.8 * SECONDS) < 1.0
    await page.get_by_label("Reason for redacting").fill("the caller's address")
    await panel.get_by_role("button", name="Add span").click()
    await expect(items).to_have_count(2)
    await expect(items.nth(1)).to_contain_text("the caller's address")
    await expect(items.nth(1)).to_contain_text("both")
    await expect(panel.locator("#redaction-state")).to_contain_text("redacted version")
    await screenshot(page, "recording-redactions")

    answer = await console.api("GET", f"/v1/recordings/{recording_id}/redactions", "dpo")
    spans = sorted(answer["items"], key=lambda s: s["start_seconds"])
    assert [(s["start_seconds"], s["end_seconds"], s["channel"]) for s in spans[:1]] == [
        (2.0, 4.5, "agent")
    ]
    assert spans[1]["channel"] == "both"
    assert abs(spans[1]["start_seconds"] - start) < 0.05

    # the preview plays the redacted rendition once the worker has made it
    await expect(panel.locator("#redaction-state")).to_have_text(
        "The redacted version is ready.", timeout=60_000
    )
    await page.get_by_label("Purpose of listening").select_option("subject_request")
    await panel.get_by_role("button", name="Preview the redacted version").click()
    await wait_until(page, "document.getElementById('redacted-audio').currentTime > 0.2")
    assert await page.evaluate("document.getElementById('redacted-audio').error") is None
    renditions = await console.client.app[POOL].fetch(
        "SELECT DISTINCT details->>'rendition' AS r FROM audit_log"
        " WHERE action = 'recording.play' AND object_id = $1",
        recording_id,
    )
    assert [r["r"] for r in renditions] == ["redacted"]

    await panel.get_by_role("button", name="Remove span 0:02–0:05").click()
    await expect(items).to_have_count(1)
    answer = await console.api("GET", f"/v1/recordings/{recording_id}/redactions", "dpo")
    assert [s["channel"] for s in answer["items"]] == ["both"]

    # releasing the call for training asks for the review of its spans
    release = page.locator("#training-release")
    await release.get_by_label("Reason", exact=True).fill("good example of a complaint")
    await release.get_by_role("button", name="Release for training").click()
    await expect(page.locator("#error")).to_contain_text("redaction_reviewed")
    await release.get_by_label("I have reviewed the redacted spans").check()
    await release.get_by_role("button", name="Release for training").click()
    await expect(page.locator("#notice")).to_have_text("Saved.")
    assert await console.client.app[POOL].fetchval(
        "SELECT training_redaction_reviewed FROM recordings WHERE id = $1", recording_id
    )

    # the trainer hears the redacted call: the bytes the browser received are silent in the
    # span on both channels, and the call is heard around it
    await console.redacted_rendition(recording_id)  # removing a span re-renders
    trainer = await console.login("trainer", language="en")
    await trainer.goto(f"/#/training/{recording_id}")
    await trainer.locator("#play").click()
    await wait_until(trainer, "document.getElementById('audio').currentTime > 0.2")
    received = await trainer.evaluate(
        """async () => {
            const bytes = new Uint8Array(await (await fetch(
                document.getElementById("audio").currentSrc)).arrayBuffer());
            let text = "";
            for (const byte of bytes) text += String.fromCharCode(byte);
            return btoa(text);
        }"""
    )
    audio = base64.b64decode(received)
    span = spans[1]
    inside = (span["start_seconds"] + 0.1, span["end_seconds"] - 0.1)
    for channel in (0, 1):
        peak, _ = await levels(audio, *inside, channel)
        assert peak < -60, (channel, peak)
    heard, _ = await levels(audio, 0.5, min(span["start_seconds"], 10.0), 0)
    assert heard > -40
