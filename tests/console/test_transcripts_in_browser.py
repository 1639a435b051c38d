"""The transcript in the console: customer service finds a call by an inflected form of a word
said in it, opens it at that moment from the hit's time link, reads the pane beside the player
(the word being spoken lit as it plays, a click or Enter on a word seeks there); the DPO asks
for personal-data suggestions and adds one as a redaction span with one click.

The transcript is hand-made and sealed by ``transcripts.job.save_transcript`` (no model), so
the times asserted are exact."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Page, expect

from api.appkeys import POOL, VAULT
from tests.console.browser import Console, screenshot, wait_until
from tests.staff import call_audio
from transcripts.document import Segment, Transcript, Word
from transcripts.job import save_transcript

SECONDS = 20.0
AUDIO = "document.getElementById('audio')"


def segment(channel: str, start: float, text: str) -> Segment:
    """A segment whose words take 0.5 s each (0.4 s spoken, 0.1 s pause) from ``start``."""
    words = tuple(
        Word(round(start + 0.5 * i, 2), round(start + 0.5 * i + 0.4, 2), f" {word}")
        for i, word in enumerate(text.split())
    )
    return Segment(start, words[-1].end, channel, text, words)


TRANSCRIPT = Transcript(
    "fi",
    (
        segment("agent", 0.5, "Hyvää päivää, asuntopalvelu, Pekka puhelimessa."),
        segment(
            "customer",
            3.5,
            "Kiitos. Henkilötunnukseni on 131052-308T ja nimeni Maija Mäkinotkelma.",
        ),
        segment("agent", 10.0, "Kiitos soitostanne, soitan teille numeroon 040 123 4567."),
    ),
)


async def spoken(page: Page) -> list[str]:
    """The words the pane lights now."""
    return await page.locator("#transcript button.word.spoken").all_inner_texts()


async def test_search_open_at_a_word_follow_seek_and_suggest_spans(
    console: Console, audio_dir: Path
) -> None:
    maija = await console.customer()
    recording_id = await console.recording(
        call_audio(audio_dir, SECONDS),
        external_id="pbx-transcript",
        duration_seconds=SECONDS,
        channel_layout="agent-left",
        linked_to=maija,
    )
    page = await console.login("customer-service", language="en")
    await page.goto(f"/#/recordings/{recording_id}")  # no transcript yet: said plainly
    await expect(page.locator("#transcript-state")).to_have_text("Transcription is switched off.")
    app = console.client.app
    await save_transcript(app[POOL], app[VAULT], uuid.UUID(recording_id), TRANSCRIPT, "test")

    # customer service searches by a word said, inflected ("kiitoksia" for "kiitos")
    await page.goto("/#/recordings")
    await page.get_by_label("Words said").fill("kiitoksia")
    await page.locator("#recording-filters button[type=submit]").click()
    rows = page.locator("#recordings tbody tr")
    await expect(rows).to_have_count(1)
    said = rows.first.locator(".matches a")
    await expect(said).to_have_count(2)  # the customer's "Kiitos." and the agent's "Kiitos"
    at_ten = said.filter(has_text="0:10")
    await expect(at_ten).to_have_text("0:10 Kiitos")
    assert await at_ten.get_attribute("href") == f"#/recordings/{recording_id}?t=10"
    assert "kiitos" not in page.url.lower()
    await screenshot(page, "recordings-words-said")

    # its time link opens the call there: once a purpose is chosen, the player is at 0:10
    await at_ten.click()
    await expect(page.locator("#transcript")).to_contain_text("The transcript shows once")
    await page.get_by_label("Purpose of listening").select_option("verify_content")
    segments = page.locator("#transcript-segments > li")
    await expect(segments).to_have_count(3)
    await expect(segments.nth(0)).to_contain_text("Agent")
    await expect(segments.nth(1)).to_contain_text("Customer")
    await expect(segments.nth(1)).to_contain_text("131052-308T")
    await expect(page.locator("#clock")).to_contain_text("0:10 /")  # where play will start
    await expect(page.locator("#transcript button.word.spoken")).to_have_text("Kiitos")

    # playback starts there, and the lit word follows it
    await page.locator("#play").click()
    await wait_until(page, f"{AUDIO}.currentTime > 11.1")
    played = await page.evaluate(
        f"Array.from({{length: {AUDIO}.played.length}}, (_, i) => [{AUDIO}.played.start(i), {AUDIO}.played.end(i)])"
    )
    assert [r for r in played if r[1] - r[0] > 0.25 and r[0] < 9.9] == [], played  # not from 0:00
    await page.locator("#play").click()  # pause
    await wait_until(page, f"{AUDIO}.paused")  # the seeks below are checked at rest
    now = await page.evaluate(f"{AUDIO}.currentTime")
    lit = await spoken(page)
    words = [w.word.strip() for w in TRANSCRIPT.segments[2].words]
    assert lit == [words[int((now - 10.0) / 0.5)]], (now, lit)
    assert lit != ["Kiitos"]
    await expect(page.locator("#transcript [aria-current=time]")).to_have_count(1)

    # a click on a word seeks there; so does Enter on a focused word (arrows move the focus)
    await segments.nth(1).get_by_role("button", name="Maija", exact=True).click()
    maija_word = TRANSCRIPT.segments[1].words[6]
    assert maija_word.word == " Maija"
    await wait_until(page, f"Math.abs({AUDIO}.currentTime - {maija_word.start}) < 0.05")
    await expect(page.locator("#transcript button.word.spoken")).to_have_text("Maija")
    await page.keyboard.press("ArrowRight")
    await expect(segments.nth(1).get_by_role("button", name="Mäkinotkelma.")).to_be_focused()
    await page.keyboard.press("Enter")
    await wait_until(page, f"Math.abs({AUDIO}.currentTime - {maija_word.start + 0.5}) < 0.05")
    await page.keyboard.press("End")
    await expect(segments.nth(2).get_by_role("button", name="4567.")).to_be_focused()
    await page.keyboard.press("Home")
    await expect(segments.nth(0).get_by_role("button", name="Hyvää")).to_be_focused()
    await expect(page.locator("#transcript button.word[tabindex='0']")).to_have_count(1)
    await screenshot(page, "recording-transcript")

    # the DPO: suggestions, each added only by its own click
    dpo = await console.login("dpo", language="en")
    await dpo.goto(f"/#/recordings/{recording_id}")
    suggest = dpo.get_by_role("button", name="Find personal data")
    await expect(suggest).to_be_disabled()  # no purpose, no transcript read
    await dpo.get_by_label("Purpose of listening").select_option("subject_request")
    await expect(suggest).to_be_enabled()
    await suggest.click()
    found = dpo.locator("#pii-list li")
    await expect(found.first).to_be_visible()
    kinds = [str(await item.get_attribute("data-kind")) for item in await found.all()]
    assert sorted(kinds) == ["first_name", "henkilotunnus", "last_name", "phone"], kinds
    hetu = dpo.locator("#pii-list li[data-kind=henkilotunnus]")
    await expect(hetu).to_contain_text("131052-308T")
    await expect(hetu).to_contain_text("customer")
    await expect(dpo.locator("#pii-list li[data-kind=last_name]")).to_contain_text("Mäkinotkelma")
    await hetu.get_by_role("button", name="Listen from").click()  # hear it before adding it
    await expect(dpo.locator("#clock")).to_contain_text("0:05 /")
    listed = await console.api("GET", f"/v1/recordings/{recording_id}/redactions", "dpo")
    assert listed["items"] == []  # offered, not applied
    await screenshot(dpo, "recording-pii-suggestions")

    await hetu.locator("button.add").click()
    await expect(dpo.locator("#redaction-list li")).to_have_count(1)
    await expect(dpo.locator("#redaction-list")).to_contain_text("identity code")
    await expect(hetu.locator("button.add")).to_have_text("Added")
    listed = await console.api("GET", f"/v1/recordings/{recording_id}/redactions", "dpo")
    [span] = listed["items"]
    said_hetu = TRANSCRIPT.segments[1].words[3]
    assert said_hetu.word == " 131052-308T"
    assert span["channel"] == "customer"
    assert abs(span["start_seconds"] - (said_hetu.start - 0.2)) < 0.01
    assert abs(span["end_seconds"] - (said_hetu.end + 0.2)) < 0.01

    # the trainer reads the released call with the span as [redacted], as the API gives it
    await console.api(
        "POST",
        f"/v1/recordings/{recording_id}/training-release",
        "dpo",
        json={"released": True, "reason": "a clear call", "redaction_reviewed": True},
    )
    await console.redacted_rendition(recording_id)
    trainer = await console.login("trainer", language="en")
    await trainer.goto(f"/#/training/{recording_id}")
    customer_said = trainer.locator("#transcript-segments > li").nth(1)
    await expect(customer_said.locator("button.word.redacted")).to_have_text("[redacted]")
    # the span's margin of 0.2 s takes "on" and "ja" (0.1 s away) with the code
    await expect(customer_said).to_contain_text("Henkilötunnukseni [redacted] nimeni Maija")
    assert "131052" not in await trainer.locator("#transcript").inner_text()
