"""The transcript route and the search by words said (issue 21), over real ingested calls.

The transcripts are written by hand with ``save_transcript``: the same sealed object, header
and index tokens a transcription job writes, without loading the model (the job's own tests
run it). Searches go through the HTTP API, so the index, the filters, the cursor and the
opened transcripts are all the real ones.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

import pytest

from api.appkeys import POOL, SETTINGS, VAULT
from common.settings import Settings
from recorder.worker import IngestWorker
from storage.keyring import Keyring
from tests.api.sessions import Client, headers_for
from tests.api.test_playback import audit_rows
from tests.api.test_redactions import renderer
from tests.recorder.audio_files import make_audio
from tests.recorder.helpers import deliver
from tests.staff import flip_stored_byte, staff_client
from transcripts import store
from transcripts.document import Segment, Transcript, Word
from transcripts.job import save_transcript

SECONDS: Final = 6.0
SEARCH: Final = "/v1/recordings/search"


def said(start: float, channel: str, *words: str) -> Segment:
    """A segment of ``words``, one every 0.5 s from ``start``, each 0.4 s long."""
    timed = tuple(
        Word(start + 0.5 * i, start + 0.5 * i + 0.4, " " + w) for i, w in enumerate(words)
    )
    return Segment(start, timed[-1].end, channel, "".join(w.word for w in timed).strip(), timed)


THANKS_AND_LEASE: Final = Transcript(
    "fi",
    (
        said(0.0, "agent", "Kiitos", "soitostanne,", "asiakaspalvelu."),
        said(0.5, "customer", "Vuokrasopimus", "päättyy", "kesäkuussa."),
        said(3.0, "agent", "Selvä,", "kiitos."),
    ),
)
THANKS_ONLY: Final = Transcript(
    "fi", (said(0.5, "agent", "Kiitos", "ja", "näkemiin."), said(2.0, "customer", "Hei", "hei."))
)
NOTICE: Final = Transcript(
    "fi", (said(0.0, "customer", "Irtisanominen", "vuokrasopimuksen", "mukaan."),)
)


async def calls(api: Client, audio_dir: Path, *metas: dict[str, Any]) -> list[str]:
    """Deliver stereo calls (agent left) with these metadata and process them all."""
    audio = make_audio(audio_dir, "wav-pcm16", SECONDS, channels=2)
    ids = [
        await deliver(
            api,
            audio,
            external_id=f"pbx-{uuid.uuid4()}",
            channel_layout="agent-left",
            duration_seconds=SECONDS,
            **meta,
        )
        for meta in metas
    ]
    worker = IngestWorker(api.app[POOL], api.app[VAULT], api.app[SETTINGS])
    assert {o.status for o in await worker.run_until_idle()} == {"ready"}
    return ids


async def transcribed(api: Client, recording_id: str, transcript: Transcript) -> None:
    await save_transcript(api.app[POOL], api.app[VAULT], uuid.UUID(recording_id), transcript, "t")


async def search(api: Client, headers: dict[str, str], **body: Any) -> Any:
    response = await api.post(SEARCH, json=body, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


def ids_of(page: Any) -> list[str]:
    return [item["id"] for item in page["items"]]


def holds_no_word(rows: list[dict[str, Any]], *words: str) -> bool:
    text = json.dumps(rows, default=str).casefold()
    return not any(w.casefold() in text for w in words)


async def test_search_finds_every_inflected_word_with_its_times_and_filters(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    lease, thanks, notice = await calls(
        api,
        audio_dir,
        {"started_at": "2026-11-23T10:00:00+02:00", "answered_by": "maija.m"},
        {"started_at": "2026-11-23T11:00:00+02:00", "answered_by": "pekka.p"},
        {"started_at": "2026-11-23T12:00:00+02:00", "answered_by": "maija.m"},
    )
    for recording_id, transcript in (
        (lease, THANKS_AND_LEASE),
        (thanks, THANKS_ONLY),
        (notice, NOTICE),
    ):
        await transcribed(api, recording_id, transcript)
    untranscribed = (await calls(api, audio_dir, {"started_at": "2026-11-23T13:00:00+02:00"}))[0]
    cs = await headers_for(api, "customer-service")
    dpo = await headers_for(api, "dpo")

    # An inflected form finds the base form said, newest first, with where it was said.
    found = await search(api, cs, text="kiitoksia")
    assert ids_of(found) == [thanks, lease]
    assert found["items"][0]["matches"] == [
        {"start": 0.5, "end": 0.9, "channel": "agent", "word": "Kiitos"}
    ]
    assert found["items"][1]["matches"] == [
        {"start": 0.0, "end": 0.4, "channel": "agent", "word": "Kiitos"},
        {"start": 3.5, "end": 3.9, "channel": "agent", "word": "kiitos."},
    ]
    assert found["items"][1]["answered_by"] == "maija.m"  # the search's answer, as before
    # Every word is required; the base form finds its inflection too.
    both = await search(api, dpo, text="Kiitoksia, vuokrasopimuksen!")
    assert ids_of(both) == [lease]
    assert {(m["word"], m["channel"], m["start"]) for m in both["items"][0]["matches"]} == {
        ("Kiitos", "agent", 0.0),
        ("kiitos.", "agent", 3.5),
        ("Vuokrasopimus", "customer", 0.5),
    }
    assert ids_of(await search(api, cs, text="irtisanomisen")) == [notice]
    lease_said = await search(api, cs, text="vuokrasopimus")  # the base form finds inflections
    assert ids_of(lease_said) == [notice, lease]
    assert lease_said["items"][0]["matches"] == [
        {"start": 0.5, "end": 0.9, "channel": "customer", "word": "vuokrasopimuksen"}
    ]
    # A word not said finds nothing, alone or beside words that were said.
    assert ids_of(await search(api, cs, text="sähkösopimus")) == []
    assert ids_of(await search(api, cs, text="kiitos sähkösopimus")) == []
    # The text narrows the other filters, and they narrow it.
    assert ids_of(await search(api, cs, text="kiitos", answered_by="maija.m")) == [lease]
    assert ids_of(await search(api, cs, text="kiitos", answered_by="pekka.p")) == [thanks]
    window = {"from": "2026-11-23T10:30:00+02:00", "to": "2026-11-23T12:30:00+02:00"}
    assert ids_of(await search(api, cs, text="kiitos", **window)) == [thanks]
    assert ids_of(await search(api, cs, **window)) == [notice, thanks]  # no text: as before
    assert "matches" not in (await search(api, cs, **window))["items"][0]
    # Pages of one, by the cursor, end where the matches end.
    first = await search(api, cs, text="kiitos", limit=1)
    assert ids_of(first) == [thanks]
    assert first["next"]
    second = await search(api, cs, text="kiitos", limit=1, cursor=first["next"])
    assert ids_of(second) == [lease]
    assert second["items"][0]["matches"]
    third = await search(api, cs, text="kiitos", limit=1, cursor=second["next"])
    assert third == {"items": [], "next": None}
    assert untranscribed not in ids_of(await search(api, cs, text="hei"))

    # The audit names the filters, never the words searched for, and the calls whose words
    # the answer disclosed.
    rows = await audit_rows(api, "recording.search")
    assert rows[0]["details"] == {"filters": "text", "recordings": f"{thanks},{lease}"}
    assert rows[6]["details"]["filters"] == "answered_by,text"
    assert holds_no_word(rows, "kiito", "vuokra", "sähkö", "irtisano", "hei")
    # Nor does any table hold a word said or searched for, after the index was built and read.
    pool = api.app[POOL]
    tables = await pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    )
    assert {"transcripts", "transcript_terms", "audit_log"} <= {t["tablename"] for t in tables}
    for table in tables:
        dump = await pool.fetch(f'SELECT t::text AS row FROM "{table["tablename"]}" t')
        assert holds_no_word([dict(r) for r in dump], "kiito", "vuokra", "irtisano", "päättyy"), (
            table["tablename"]
        )


async def test_text_is_for_customer_service_and_the_dpo_and_must_hold_words(
    staff_api: Client,
) -> None:
    api = staff_api
    for role in ("trainer", "housing-advisor", "admin"):
        refused = await api.post(
            SEARCH, json={"text": "kiitos"}, headers=await headers_for(api, role)
        )
        assert refused.status == 403, role
        assert refused.content_type == "application/problem+json"
    cs = await headers_for(api, "customer-service")
    bad: dict[str, object] = {
        "": "characters",
        "   ": "characters",
        "!!! ... ?": "at least one word",
        " ".join(["sana"] * 11): "at most 10 words",
        "a" * 201: "characters",
    }
    for text, says in bad.items():
        response = await api.post(SEARCH, json={"text": text}, headers=cs)
        assert response.status == 422, text
        problem = await response.json()
        assert response.content_type == "application/problem+json"
        assert problem["errors"][0]["field"] == "text"
        assert str(says) in problem["errors"][0]["message"], problem
    for value in (42, ["kiitos"], {"a": "b"}, True):
        response = await api.post(SEARCH, json={"text": value}, headers=cs)
        assert response.status == 422, value
    # a word longer than any indexed one would be dropped, finding calls without it
    response = await api.post(SEARCH, json={"text": "kiitos " + "x" * 70}, headers=cs)
    assert response.status == 422
    assert "at most 64 letters" in (await response.json())["errors"][0]["message"]
    # each call on a page opens a transcript: pages stay short
    response = await api.post(SEARCH, json={"text": "kiitos", "limit": 51}, headers=cs)
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "limit"
    assert await audit_rows(api, "recording.search") == []  # refused before any search


@pytest.fixture
async def transcribing_api(staff_settings: Settings) -> AsyncIterator[Client]:
    """The staff app with ``CALLREC_TRANSCRIBE=on`` (no worker runs: tests make the states)."""
    async for client in staff_client(dataclasses.replace(staff_settings, transcribe=True)):
        yield client


async def transcript(api: Client, recording_id: str, purpose: str, headers: dict[str, str]) -> Any:
    return await api.get(
        f"/v1/recordings/{recording_id}/transcript?purpose={purpose}", headers=headers
    )


async def test_each_purpose_reads_the_transcript_and_trainers_read_spans_as_redacted(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    (call,) = await calls(api, audio_dir, {"started_at": "2026-11-23T10:00:00+02:00"})
    await transcribed(api, call, THANKS_AND_LEASE)
    cs = await headers_for(api, "customer-service")
    dpo = await headers_for(api, "dpo")
    trainer = await headers_for(api, "trainer")

    whole = await transcript(api, call, "verify_content", cs)
    assert whole.status == 200
    assert await whole.json() == {"status": "ready", **THANKS_AND_LEASE.as_json()}
    assert (await transcript(api, call, "legal", dpo)).status == 200
    assert (await transcript(api, call, "training", trainer)).status == 404  # not released
    assert (await transcript(api, call, "verify_content", trainer)).status == 403
    assert (await transcript(api, call, "training", cs)).status == 403
    for purpose in ("", "fun", "Legal"):
        wrong = await transcript(api, call, purpose, cs)
        assert wrong.status == 400, purpose  # as playback answers a missing purpose
        assert (await wrong.json())["type"].endswith("/purpose-required")
    assert (await api.get(f"/v1/recordings/{call}/transcript", headers=cs)).status == 400
    unknown = await transcript(api, str(uuid.uuid4()), "verify_content", cs)
    assert unknown.status == 404
    assert unknown.content_type == "application/problem+json"

    # The customer said "päättyy kesäkuussa" (1.0-1.9 s) while the agent said
    # "asiakaspalvelu" (1.0-1.4 s): a span on the customer's channel masks the customer only.
    span = {"start_seconds": 0.95, "end_seconds": 2.0, "channel": "customer", "reason": "x"}
    added = await api.post(f"/v1/recordings/{call}/redactions", json=span, headers=dpo)
    assert added.status == 201
    released = await api.post(
        f"/v1/recordings/{call}/training-release",
        json={"released": True, "reason": "good call", "redaction_reviewed": True},
        headers=dpo,
    )
    assert released.status == 200
    pending = await transcript(api, call, "training", trainer)
    assert pending.status == 409  # as training playback, while the rendition is pending
    assert (await pending.json())["type"].endswith("/redaction-pending")
    assert await renderer(api).run_until_idle() == ["ready"]

    masked = await transcript(api, call, "training", trainer)
    assert masked.status == 200
    body = json.dumps(await masked.json(), ensure_ascii=False)
    assert "päättyy" not in body
    assert "kesäkuussa" not in body
    segments = (await masked.json())["segments"]
    assert segments[0] == THANKS_AND_LEASE.segments[0].as_json()  # the agent's: untouched
    assert segments[1]["text"] == "Vuokrasopimus [redacted]"
    assert segments[1]["words"] == [
        {"start": 0.5, "end": 0.9, "word": " Vuokrasopimus"},
        {"start": 1.0, "end": 1.9, "word": " [redacted]"},
    ]
    assert segments[2] == THANKS_AND_LEASE.segments[2].as_json()
    # Other purposes still read the whole transcript.
    unmasked = await (await transcript(api, call, "verify_content", cs)).json()
    assert unmasked["segments"][1]["text"] == "Vuokrasopimus päättyy kesäkuussa."

    rows = await audit_rows(api, "recording.transcript")
    assert [(r["purpose"], r["outcome"]) for r in rows] == [
        ("verify_content", "ok"),
        ("legal", "ok"),
        ("training", "ok"),
        ("verify_content", "ok"),
    ]
    assert all(r["object_id"] == call for r in rows)
    assert rows[2]["details"] == {"status": "ready", "redacted": True}
    assert holds_no_word(rows, "kiitos", "vuokra", "päättyy", "soitost")


EMPTY: Final[dict[str, Any]] = {"language": None, "segments": []}


async def test_with_transcription_off_a_call_without_one_says_off(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    cs = await headers_for(api, "customer-service")
    (call,) = await calls(api, audio_dir, {"started_at": "2026-11-23T10:00:00+02:00"})
    off = await transcript(api, call, "verify_content", cs)
    assert await off.json() == {"status": "off", **EMPTY}
    async with api.app[POOL].acquire() as conn:  # queued before it was turned off
        await store.queue(conn, uuid.UUID(call))
    assert await (await transcript(api, call, "verify_content", cs)).json() == {
        "status": "off",
        **EMPTY,
    }
    detail = await (await api.get(f"/v1/recordings/{call}", headers=cs)).json()
    assert detail["transcript"] == "off"
    await transcribed(api, call, NOTICE)  # one made before: it stays readable
    assert (await (await transcript(api, call, "verify_content", cs)).json())["status"] == "ready"


async def test_states_none_pending_failed_ready_and_erased(
    transcribing_api: Client, audio_dir: Path
) -> None:
    api = transcribing_api
    cs = await headers_for(api, "customer-service")
    (call,) = await calls(api, audio_dir, {"started_at": "2026-11-23T10:00:00+02:00"})
    pool = api.app[POOL]

    async def state() -> Any:
        answer = await transcript(api, call, "verify_content", cs)
        assert answer.status == 200
        detail = await (await api.get(f"/v1/recordings/{call}", headers=cs)).json()
        document = await answer.json()
        assert detail["transcript"] == document["status"]
        return document

    assert await state() == {"status": "none", **EMPTY}  # processed while none was asked for
    async with pool.acquire() as conn:
        await store.queue(conn, uuid.UUID(call))
    assert await state() == {"status": "pending", **EMPTY}
    await store.fail(pool, uuid.UUID(call), "transcription stopped (RuntimeError)")
    assert await state() == {
        "status": "failed",
        "error": "transcription stopped (RuntimeError)",
        **EMPTY,
    }
    await transcribed(api, call, NOTICE)
    assert (await state())["segments"] == NOTICE.as_json()["segments"]
    # The transcript erased on its own (its header and index rows gone): "none" again, and
    # the search no longer finds the call.
    async with pool.acquire() as conn, conn.transaction():
        await store.TRANSCRIPTS.delete(conn, [uuid.UUID(call)])
    assert await state() == {"status": "none", **EMPTY}
    assert ids_of(await search(api, cs, text="irtisanominen")) == []
    rows = await audit_rows(api, "recording.transcript")
    states = [r["details"]["status"] for r in rows]
    assert states == ["none", "pending", "failed", "ready", "none"]


async def test_an_altered_transcript_is_a_502_and_a_recipients_only_node_a_503(
    staff_api: Client, audio_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = staff_api
    (call,) = await calls(api, audio_dir, {"started_at": "2026-11-23T10:00:00+02:00"})
    await transcribed(api, call, NOTICE)
    cs = await headers_for(api, "customer-service")
    header = await store.header_of(api.app[POOL], uuid.UUID(call))
    assert header is not None
    assert header.object_id is not None

    vault = api.app[VAULT]
    recipients = tmp_path / "recipients.txt"
    recipients.write_text(vault.keyring.recipients_only())
    monkeypatch.setattr(vault, "keyring", Keyring.load(recipients))
    for answer in (
        await transcript(api, call, "verify_content", cs),
        await api.post(SEARCH, json={"text": "irtisanominen"}, headers=cs),
    ):
        assert answer.status == 503
        assert (await answer.json())["type"].endswith("/transcripts-unavailable")
    monkeypatch.undo()

    await flip_stored_byte(api, header.object_id)
    altered = await transcript(api, call, "verify_content", cs)
    assert altered.status == 502
    assert (await altered.json())["type"].endswith("/integrity-error")
    rows = await audit_rows(api, "recording.transcript")
    assert [r["outcome"] for r in rows] == ["failed"]
    searched = await api.post(SEARCH, json={"text": "irtisanominen"}, headers=cs)
    assert searched.status == 502  # never a page that silently leaves the call out
    assert (await searched.json())["type"].endswith("/integrity-error")


def test_a_search_by_words_pages_by_twenty_unless_told() -> None:
    """Each item of a search by words opens a transcript, so its default page is shorter."""
    from api.recordings import TEXT_LIMIT, RecordingSearch

    assert RecordingSearch.model_validate({"text": "kiitos"}).page_size == TEXT_LIMIT == 20
    assert RecordingSearch.model_validate({"text": "kiitos", "limit": 50}).page_size == 50
    assert RecordingSearch.model_validate({}).page_size == 50
