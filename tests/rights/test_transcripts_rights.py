"""Transcripts under the data subject's rights and retention: they are in the access copy
(as text and JSON, masked when the DPO chose the redacted copy), erased with their call
(rows, index tokens, key header and payload), kept by a legal hold, and left to retention
when transcription is switched off.

The transcripts are sealed and indexed by ``save_transcript`` (the same object, header and
tokens a job writes) on calls ingested for real, so no speech model is needed here.
"""

from __future__ import annotations

import dataclasses
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from api.appkeys import POOL, SETTINGS, VAULT
from callrec.transcription import ready_hook
from compliance.content import gather
from compliance.organisation import Organisation
from recorder.redaction_render import RedactionRenderer
from recorder.worker import public_reason
from retention.erasure import Why
from rights.sweeps import erasure_engine, retention_sweep
from storage.objects import ObjectNotFound
from tests.api.sessions import Client, headers_for
from tests.rights.test_subject_requests import processed, registered
from tests.staff import call_audio, ingest
from transcripts import store
from transcripts.document import Segment, Transcript, Word
from transcripts.job import save_transcript
from transcripts.reading import open_transcript

CALLER = "+358401234567"
NEIGHBOUR = "Virtanen"  # the other person's name the DPO masks (customer channel, 3.9-4.5 s)


def said(start: float, channel: str, *words: str) -> Segment:
    """A segment of ``words``, 0.7 s each from ``start``."""
    timed = tuple(
        Word(round(start + 0.7 * i, 2), round(start + 0.7 * (i + 1), 2), f" {w}")
        for i, w in enumerate(words)
    )
    return Segment(start, timed[-1].end, channel, "".join(w.word for w in timed), timed)


CALL = Transcript(
    "fi",
    (
        said(0.5, "agent", "Kiitos", "soitostanne"),
        said(3.1, "customer", "Naapurini", NEIGHBOUR, "soittaa", "yöllä"),
    ),
)


async def transcribed(api: Client, audio_dir: Path, name: str, **fields: Any) -> uuid.UUID:
    """A stereo call (agent left) ingested for real, with :data:`CALL` as its transcript."""
    recording_id = uuid.UUID(
        await ingest(
            api,
            call_audio(audio_dir, 8.0),
            external_id=name,
            caller_number=CALLER,
            channel_layout="agent-left",
            duration_seconds=8.0,
            **fields,
        )
    )
    await save_transcript(api.app[POOL], api.app[VAULT], recording_id, CALL, "test-model")
    return recording_id


async def two_calls(api: Client, audio_dir: Path) -> tuple[uuid.UUID, uuid.UUID]:
    """Two transcribed calls of :data:`CALLER`, an hour apart."""
    return (
        await transcribed(api, audio_dir, "pbx-1", started_at="2026-11-23T10:15:00+02:00"),
        await transcribed(api, audio_dir, "pbx-2", started_at="2026-11-23T11:15:00+02:00"),
    )


async def traces(api: Client, recording_id: uuid.UUID) -> dict[str, Any]:
    """What is left of a call's transcript: its row, index rows, key header and payload."""
    pool = api.app[POOL]
    header = await store.header_of(pool, recording_id)
    sealed = None
    if header is not None and header.object_id is not None:
        sealed = await pool.fetchrow(
            "SELECT id, object_key FROM sealed_objects WHERE id = $1", header.object_id
        )
    return {
        "row": header is not None,
        "terms": await store.term_count(pool, recording_id),
        "sealed": sealed,
    }


async def test_the_access_copy_holds_each_transcript_as_text_and_json_masked_as_chosen(
    staff_api: Client, audio_dir: Path
) -> None:
    api, pool = staff_api, staff_api.app[POOL]
    masked, plain = await two_calls(api, audio_dir)
    waiting = uuid.UUID(await ingest(api, call_audio(audio_dir, 3.0), caller_number=CALLER))
    failed = uuid.UUID(
        await ingest(api, call_audio(audio_dir, 3.5), caller_number=CALLER, external_id="pbx-f")
    )
    async with pool.acquire() as conn:
        await store.queue(conn, waiting)
        await store.queue(conn, failed)
        await store.fail(conn, failed, "the recording's audio could not be decoded")
    dpo = await headers_for(api, "dpo")
    span = {"start_seconds": 3.9, "end_seconds": 4.5, "channel": "customer", "reason": "a name"}
    added = await api.post(f"/v1/recordings/{masked}/redactions", json=span, headers=dpo)
    assert added.status == 201
    rendered = await RedactionRenderer(
        pool, api.app[VAULT], api.app[SETTINGS], public_reason=public_reason
    ).run_until_idle()
    assert rendered == ["ready"]
    request_id = await registered(api, "access", {"phone_number": CALLER})
    url = f"/v1/subject-requests/{request_id}/recordings/{masked}/export"
    chosen = await api.put(url, json={"export": "redacted", "reason": "a neighbour"}, headers=dpo)
    assert chosen.status == 200

    document = await processed(api, request_id)
    assert document["status"] == "completed", document
    download = await api.get(document["download_url"])
    archive = zipfile.ZipFile(io.BytesIO(await download.read()))
    listed = {r["id"]: r for r in json.loads(archive.read("recordings.json"))}

    copy = listed[str(masked)]
    assert (copy["transcript_status"], copy["transcript_export"]) == ("ready", "redacted")
    assert copy["transcript_file"] == copy["file"].replace(".ogg", ".transcript.txt")
    text = archive.read(copy["transcript_file"]).decode()
    assert text.splitlines() == [
        "[00:00.5] agent: Kiitos soitostanne",
        "[00:03.1] customer: Naapurini [redacted] soittaa yöllä",
    ]
    shape = json.loads(archive.read(copy["transcript_json_file"]))
    assert (shape["status"], shape["language"]) == ("ready", "fi")
    assert [s["channel"] for s in shape["segments"]] == ["agent", "customer"]
    assert [w["word"].strip() for w in shape["segments"][1]["words"]] == [
        "Naapurini", "[redacted]", "soittaa", "yöllä",
    ]  # fmt: skip
    whole = listed[str(plain)]
    unmasked = (whole["transcript_file"], whole["transcript_json_file"])
    for name in set(archive.namelist()) - {*unmasked, "index.html"}:
        assert NEIGHBOUR.encode() not in archive.read(name), name
    assert whole["transcript_export"] == "original"
    assert f"customer: Naapurini {NEIGHBOUR} soittaa yöllä" in (
        archive.read(whole["transcript_file"]).decode()
    )
    words = json.loads(archive.read(whole["transcript_json_file"]))["segments"][1]["words"]
    assert words[1] == {"start": 3.8, "end": 4.5, "word": f" {NEIGHBOUR}"}

    assert listed[str(waiting)]["transcript_status"] == "pending"
    assert listed[str(failed)]["transcript_status"] == "failed"
    for pending in (waiting, failed):
        assert "transcript_file" not in listed[str(pending)]
    transcripts = sorted(n for n in archive.namelist() if ".transcript." in n)
    assert len(transcripts) == 4
    manifest = archive.read("manifest.sha256").decode()
    for name in transcripts:
        assert f"  {name}\n" in manifest
    page = archive.read("index.html").decode()
    assert "Puhelu tekstinä" in page
    assert "Puhelua ei ole vielä muunnettu tekstiksi." in page
    assert page.count(NEIGHBOUR) == 1  # the call copied whole; masked in the other
    assert "<strong>Asiakaspalvelija:</strong> Kiitos soitostanne" in page
    assert "Muiden henkilöiden tiedot on korvattu merkinnällä [redacted]." in page
    assert f'<a href="{copy["transcript_file"]}">' in page
    assert "transcript_status" in archive.read("index.txt").decode()
    csv = archive.read("recordings.csv").decode("utf-8-sig")
    assert "transcript_status,transcript_export,transcript_file" in csv.splitlines()[0]


async def test_erasure_takes_the_transcript_and_its_tokens_and_a_hold_keeps_them(
    staff_api: Client, audio_dir: Path
) -> None:
    api, pool = staff_api, staff_api.app[POOL]
    held, erased = await two_calls(api, audio_dir)
    before = await traces(api, erased)
    assert before["sealed"] is not None
    assert before["terms"] > 0
    terms = before["terms"]
    placed = await api.post(
        "/v1/legal-holds",
        json={"recording_ids": [str(held)], "reason": "dispute over rent"},
        headers=await headers_for(api, "dpo"),
    )
    assert placed.status == 201

    request_id = await registered(api, "erasure", {"phone_number": CALLER})
    document = await processed(api, request_id)

    assert document["status"] == "completed", document
    counts = document["report"]["counts"]
    assert (counts["recording.erased"], counts["recording.kept"]) == (1, 1)
    assert (counts["transcript.erased"], counts["transcript_term.erased"]) == (1, terms)
    assert await traces(api, erased) == {"row": False, "terms": 0, "sealed": None}
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM sealed_objects WHERE id = $1", before["sealed"]["id"]
        )
        == 0
    )
    with pytest.raises(ObjectNotFound):
        await api.app[VAULT].store.size(before["sealed"]["object_key"])
    assert await pool.fetchval("SELECT count(*) FROM pending_object_deletions") == 0
    assert (
        await pool.fetchval("SELECT count(*) FROM transcript_terms WHERE recording_id <> $1", held)
        == 0
    )

    kept = await traces(api, held)
    assert (kept["row"], kept["terms"]) == (True, terms)
    assert kept["sealed"] is not None
    header = await store.header_of(pool, held)
    assert header is not None
    assert await open_transcript(pool, api.app[VAULT], header) == CALL


async def test_with_transcription_off_old_transcripts_stay_readable_and_go_with_retention(
    staff_api: Client, audio_dir: Path
) -> None:
    api, pool = staff_api, staff_api.app[POOL]
    settings = dataclasses.replace(api.app[SETTINGS], transcribe=False)
    assert ready_hook(settings) is None  # switched off: no new job is queued
    old = await transcribed(api, audio_dir, "pbx-old", started_at="2020-01-02T10:15:00+02:00")
    terms = (await traces(api, old))["terms"]
    header = await store.header_of(pool, old)
    assert header is not None
    assert await open_transcript(pool, api.app[VAULT], header) == CALL

    notice = await gather(pool, settings, Organisation())
    assert notice.transcripts_kept  # the notice still tells of the texts made earlier
    assert await store.counts_by_status(pool) == {"ready": 1, "pending": 0, "failed": 0}

    engine = erasure_engine(pool, api.app[VAULT].store, dry_run=True)
    preview = await retention_sweep(pool, engine, settings).run()
    assert preview.categories["recordings"].counts() == {
        "recording.erased": 1, "transcript.erased": 1, "transcript_term.erased": terms,
    }  # fmt: skip
    assert (await traces(api, old))["sealed"] is not None  # a dry run changes nothing

    engine = erasure_engine(pool, api.app[VAULT].store)
    swept = await retention_sweep(pool, engine, settings).run()
    assert swept.categories["recordings"].counts()["transcript.erased"] == 1
    assert await traces(api, old) == {"row": False, "terms": 0, "sealed": None}
    assert not [o async for o in api.app[VAULT].store.list("transcripts/")]
    assert not (await gather(pool, settings, Organisation())).transcripts_kept
    report = await erasure_engine(pool, api.app[VAULT].store).erase_recordings([old], Why("manual"))
    assert report.counts() == {}  # nothing left to erase
