"""Issue 21's "done when", as one walk with the real model: with transcription on, a call
posted through the signed webhook becomes ready and is then transcribed by the app's own
workers; customer service finds it by an inflected form of a word said in it, at the time
the word was said; the console shows the transcript and follows playback; and the erasure of
the call leaves no index token, no transcript object and no header behind."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from api.appkeys import POOL, STORE, VAULT
from common.settings import Settings
from tests.console.browser import Console, open_console, screenshot, wait_until
from tests.transcripts.speech import stereo_call
from transcripts import store
from transcripts.model import CheckedModel
from transcripts.reading import open_transcript

CALLER = "+358401234567"  # the webhook helper's default caller, Maija's number
AUDIO = "document.getElementById('audio')"


@pytest.fixture
async def transcribing(
    staff_settings: Settings, whisper_model: CheckedModel
) -> AsyncIterator[Console]:
    """The console on an app whose own workers transcribe with the packaged model."""
    settings = dataclasses.replace(
        staff_settings, transcribe=True, transcribe_model=whisper_model.path
    )
    async for running in open_console(settings):
        yield running
        assert running.console_errors == []


async def _transcribed(console: Console, recording_id: uuid.UUID) -> store.Header:
    """The transcript header once the app's transcription worker has made it ready."""
    async with asyncio.timeout(120):
        while True:
            header = await store.header_of(console.client.app[POOL], recording_id)
            if header is not None and header.status == "ready":
                return header
            assert header is None or header.status != "failed", header
            await asyncio.sleep(0.2)


async def test_a_posted_call_is_transcribed_found_by_an_inflection_followed_and_erased(
    transcribing: Console,
) -> None:
    console = transcribing
    app = console.client.app
    maija = await console.customer()
    call = stereo_call("agent-left")  # the agent says "Kiitoksia paljon"
    recording_id = uuid.UUID(
        await console.recording(
            call.wav,
            external_id="pbx-done-when-21",
            duration_seconds=call.seconds,
            channel_layout=call.channel_layout,
        )
    )
    header = await _transcribed(console, recording_id)
    transcript = await open_transcript(app[POOL], app[VAULT], header)
    [thanks] = [w for s, w in transcript.words() if "kiitoksia" in w.word.lower()]

    # customer service searches by another inflection of it: "kiitos" finds "Kiitoksia"
    page = await console.login("customer-service", language="en")
    await page.goto("/#/recordings")
    await page.get_by_label("Words said").fill("kiitos")
    await page.locator("#recording-filters button[type=submit]").click()
    rows = page.locator("#recordings tbody tr")
    await expect(rows).to_have_count(1)
    link = rows.first.locator(".matches a")
    await expect(link).to_have_count(1)
    seconds = int(thanks.start)
    await expect(link).to_have_text(f"0:{seconds:02d} {thanks.word.strip()}")
    href = str(await link.get_attribute("href"))
    assert href.startswith(f"#/recordings/{recording_id}?t=")
    assert abs(float(href.rsplit("=", 1)[1]) - thanks.start) < 0.01
    await screenshot(page, "done-when-21-search")

    # the call opens at that moment; the pane shows who said what and follows playback
    await link.click()
    await page.get_by_label("Purpose of listening").select_option("verify_content")
    segments = page.locator("#transcript-segments > li")
    await expect(segments.first).to_contain_text("Agent")
    await expect(page.locator("#transcript")).to_contain_text("Kiitoksia")
    await expect(page.locator("#transcript")).to_contain_text("osoitteen")
    await expect(page.locator("#transcript button.word.spoken")).to_contain_text("Kiitoksia")
    customer_word = page.locator("#transcript button.word", has_text="osoitteen")
    await customer_word.click()  # a click seeks; playing on lights the customer's words
    await page.locator("#play").click()
    await wait_until(page, f"{AUDIO}.currentTime > {call.said['customer'].start + 0.3}")
    await expect(page.locator("#transcript button.word.spoken").first).to_be_visible()
    await page.locator("#play").click()
    await screenshot(page, "done-when-21-transcript")

    # the caller asks for erasure: nothing of the transcript is left anywhere
    await console.api(
        "POST",
        f"/v1/recordings/{recording_id}/customer",
        "customer-service",
        json={"customer_id": maija},
    )
    created = await console.api(
        "POST",
        "/v1/subject-requests",
        "dpo",
        json={"kind": "erasure", "subject": {"customer_id": maija}, "channel": "phone"},
    )
    path = f"/v1/subject-requests/{created['id']}"
    await console.api("POST", f"{path}/verify", "dpo", json={"method": "called back"})
    await console.api("POST", f"{path}/fulfil", "dpo")
    async with asyncio.timeout(60):
        while (request := await console.api("GET", path, "dpo"))["status"] != "completed":
            assert request["status"] != "denied", request
            await asyncio.sleep(0.2)
    counts = request["report"]["counts"]
    assert counts["transcript.erased"] == 1, counts
    assert counts["transcript_term.erased"] > 0, counts
    pool = app[POOL]
    assert await store.header_of(pool, recording_id) is None
    assert await pool.fetchval("SELECT count(*) FROM transcript_terms") == 0
    assert await pool.fetchval("SELECT count(*) FROM transcripts") == 0
    assert header.object_id is not None
    assert (
        await pool.fetchval("SELECT count(*) FROM sealed_objects WHERE id = $1", header.object_id)
        == 0
    )
    assert [key async for key in app[STORE].list("transcripts/")] == []
