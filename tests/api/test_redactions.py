"""Redaction spans (DPO) and the redacted rendition, measured with ffmpeg from the decoded audio."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

from api.appkeys import POOL, SETTINGS, VAULT
from common.ffmpeg import ffmpeg_exe
from recorder.redaction_render import RedactionRenderer
from recorder.worker import public_reason
from retention.erasure import Why
from rights.processor import RightsProcessor
from rights.sweeps import erasure_engine
from storage.vault import load_sealed
from tests.api.sessions import Client, headers_for
from tests.recorder.audio_files import make_audio
from tests.staff import ingest

SECONDS = 12.0


async def stereo_call(api: Client, audio_dir: Path, external_id: str = "pbx-redact") -> str:
    """A stereo call, agent left (300 Hz) and customer right (500 Hz)."""
    audio = make_audio(audio_dir, "wav-pcm16", SECONDS, channels=2)
    return await ingest(
        api, audio, external_id=external_id, channel_layout="agent-left", duration_seconds=SECONDS
    )


def renderer(api: Client) -> RedactionRenderer:
    return RedactionRenderer(
        api.app[POOL], api.app[VAULT], api.app[SETTINGS], public_reason=public_reason
    )


async def plaintext(api: Client, object_id: object) -> bytes:
    sealed = await load_sealed(api.app[POOL], object_id)  # type: ignore[arg-type]
    assert sealed is not None
    return await api.app[VAULT].read_all(sealed)


async def levels(audio: bytes, start: float, end: float, channel: int) -> tuple[float, float]:
    """(max volume, RMS level) in dB of one channel of ``audio`` between start and end."""
    process = await asyncio.create_subprocess_exec(
        ffmpeg_exe(),
        "-nostdin",
        "-i",
        "pipe:0",
        "-af",
        f"atrim={start}:{end},pan=mono|c0=c{channel},astats=measure_overall=RMS_level"
        ":measure_perchannel=none,volumedetect",
        "-f",
        "null",
        "-",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, log = await process.communicate(audio)
    text = log.decode(errors="replace")
    peak = re.search(r"max_volume: (-?[\d.]+|-inf) dB", text)
    rms = re.search(r"RMS level dB: (-?[\d.]+|-inf)", text)
    assert peak is not None, text[-2000:]
    assert rms is not None, text[-2000:]
    return float(peak.group(1)), float(rms.group(1))


async def test_spans_are_checked_merged_listed_removed_and_audited(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    recording_id = await stereo_call(api, audio_dir)
    dpo = await headers_for(api, "dpo")
    url = f"/v1/recordings/{recording_id}/redactions"

    async def add(**body: Any) -> Any:
        return await api.post(url, json=body, headers=dpo)

    first = await add(start_seconds=2, end_seconds=4, channel="agent", reason="caller's name")
    assert first.status == 201, await first.text()
    first_doc = await first.json()
    assert first_doc["merged"] is False
    assert first_doc["rendition"] == "pending"

    merged = await add(start_seconds=3.5, end_seconds=5, channel="agent", reason="address")
    assert merged.status == 201
    merged_doc = await merged.json()
    assert merged_doc["merged"] is True
    assert merged_doc["merged_ids"] == [first_doc["id"]]
    assert (merged_doc["start_seconds"], merged_doc["end_seconds"]) == (2.0, 5.0)
    assert merged_doc["reason"] == "caller's name\naddress"
    # the other channel is another span
    other = await add(start_seconds=3, end_seconds=4, channel="customer", reason="hetu")
    assert other.status == 201
    assert (await other.json())["merged"] is False

    for body, field in (
        ({"start_seconds": 11, "end_seconds": 13, "reason": "x"}, "end_seconds"),
        ({"start_seconds": 20, "end_seconds": 21, "reason": "x"}, "start_seconds"),
        ({"start_seconds": 5, "end_seconds": 5, "reason": "x"}, "end_seconds"),
        ({"start_seconds": -1, "end_seconds": 5, "reason": "x"}, "start_seconds"),
        ({"start_seconds": 1, "end_seconds": 2, "channel": "left", "reason": "x"}, "channel"),
        ({"start_seconds": 1, "end_seconds": 2}, "reason"),
        ({"start_seconds": "1", "end_seconds": 2, "reason": "x"}, "start_seconds"),
        ({"start_seconds": 1, "end_seconds": 2, "reason": "x" * 2001}, "reason"),
    ):
        answer = await add(**body)
        assert answer.status == 422, (body, await answer.text())
        assert answer.content_type == "application/problem+json"
        assert field in {e["field"] for e in (await answer.json())["errors"]}, body

    listed = await api.get(url, headers=dpo)
    assert listed.status == 200
    document = await listed.json()
    assert document["rendition"] == "pending"
    assert [(i["start_seconds"], i["channel"]) for i in document["items"]] == [
        (2.0, "agent"),
        (3.0, "customer"),
    ]

    gone = await api.delete(f"{url}/{merged_doc['id']}", headers=dpo)
    assert gone.status == 204
    again = await api.delete(f"{url}/{merged_doc['id']}", headers=dpo)
    assert again.status == 404
    assert len((await (await api.get(url, headers=dpo)).json())["items"]) == 1

    actions = [
        row["action"]
        for row in await api.app[POOL].fetch(
            "SELECT action FROM audit_log WHERE action LIKE 'recording.redaction_%' ORDER BY seq"
        )
    ]
    assert actions.count("recording.redaction_add") == 3
    assert "recording.redaction_remove" in actions
    assert "recording.redaction_list" in actions
    details = await api.app[POOL].fetch(
        "SELECT details::text AS d FROM audit_log WHERE action LIKE 'recording.redaction_%'"
    )
    assert not any("address" in row["d"] or "hetu" in row["d"] for row in details)


async def test_refusals(staff_api: Client, audio_dir: Path) -> None:
    api = staff_api
    mono = await ingest(api, make_audio(audio_dir, "wav-pcm16", 4.0), external_id="pbx-mono")
    dpo = await headers_for(api, "dpo")
    url = f"/v1/recordings/{mono}/redactions"
    body = {"start_seconds": 1, "end_seconds": 2, "channel": "customer", "reason": "name"}
    per_channel = await api.post(url, json=body, headers=dpo)
    assert per_channel.status == 422
    assert (await per_channel.json())["errors"][0]["field"] == "channel"
    assert (await api.post(url, json=body | {"channel": "both"}, headers=dpo)).status == 201

    unknown = "/v1/recordings/00000000-0000-4000-8000-000000000000/redactions"
    assert (await api.post(unknown, json=body, headers=dpo)).status == 404
    assert (await api.get(unknown, headers=dpo)).status == 404
    assert (
        await api.delete(f"{unknown}/00000000-0000-4000-8000-000000000001", headers=dpo)
    ).status == 404
    assert (await api.delete(f"{url}/not-an-id", headers=dpo)).status == 422
    malformed = await api.post(url, data=b"{", headers=dpo | {"Content-Type": "application/json"})
    assert malformed.status == 422
    assert malformed.content_type == "application/problem+json"
    oversized = await api.post(
        url,
        data=b'{"reason": "' + b"x" * 70000 + b'"}',
        headers=dpo | {"Content-Type": "application/json"},
    )
    assert oversized.status == 413
    assert (await api.post(url, json=body)).status == 401
    assert (await api.get(url)).status == 401
    for role in ("trainer", "customer-service", "housing-advisor", "admin"):
        headers = await headers_for(api, role)
        assert (await api.post(url, json=body, headers=headers)).status == 403, role
        assert (await api.get(url, headers=headers)).status == 403, role
    count = await api.app[POOL].fetchval("SELECT count(*) FROM redactions")
    assert count == 1  # nothing partial from the refusals


async def test_redacted_rendition_silences_each_span_and_keeps_the_rest(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    recording_id = await stereo_call(api, audio_dir, "pbx-render")
    dpo = await headers_for(api, "dpo")
    url = f"/v1/recordings/{recording_id}/redactions"
    spans = [(2.0, 4.0, "agent"), (6.0, 7.5, "customer"), (9.0, 10.0, "both")]
    ids = []
    for start, end, channel in spans:
        answer = await api.post(
            url,
            json={"start_seconds": start, "end_seconds": end, "channel": channel, "reason": "n"},
            headers=dpo,
        )
        ids.append((await answer.json())["id"])
    assert await renderer(api).run_until_idle() == ["ready"]
    assert (await (await api.get(url, headers=dpo)).json())["rendition"] == "ready"

    pool = api.app[POOL]
    row = await pool.fetchrow(
        "SELECT audio_object_id, waveform FROM redacted_renditions WHERE recording_id = $1::uuid",
        recording_id,
    )
    assert row is not None
    original_id = await pool.fetchval(
        "SELECT audio_object_id FROM recordings WHERE id = $1::uuid", recording_id
    )
    assert row["audio_object_id"] != original_id
    redacted = await plaintext(api, row["audio_object_id"])
    original = await plaintext(api, original_id)
    assert redacted[:4] == b"OggS"
    # agent = left (0), customer = right (1); a few ms at the edges belong to the codec
    for start, end, channel in spans:
        for index in {"agent": [0], "customer": [1], "both": [0, 1]}[channel]:
            peak, _ = await levels(redacted, start + 0.03, end - 0.03, index)
            assert peak < -60, (start, channel, peak)
    for start, end, index in ((0.2, 1.8, 0), (4.3, 5.7, 0), (2.2, 3.8, 1), (10.3, 11.5, 1)):
        _, rms_redacted = await levels(redacted, start, end, index)
        _, rms_original = await levels(original, start, end, index)
        assert rms_redacted > -30, (start, index)
        assert abs(rms_redacted - rms_original) < 0.5, (start, index)
    waveform = row["waveform"]
    agent_peaks = waveform["channels"][0]["peaks"]
    assert max(agent_peaks[21:39]) == 0
    assert min(agent_peaks[45:55]) > 0

    # a changed span renders again; the old rendition is shredded
    assert (await api.delete(f"{url}/{ids[0]}", headers=dpo)).status == 204
    assert (await (await api.get(url, headers=dpo)).json())["rendition"] == "pending"
    assert await renderer(api).run_until_idle() == ["ready"]
    assert await load_sealed(pool, row["audio_object_id"]) is None
    newer = await pool.fetchval(
        "SELECT audio_object_id FROM redacted_renditions WHERE recording_id = $1::uuid",
        recording_id,
    )
    _, rms_back = await levels(await plaintext(api, newer), 2.2, 3.8, 0)
    assert rms_back > -30  # the removed span sounds again

    # the last span gone: no rendition at all
    for span_id in ids[1:]:
        assert (await api.delete(f"{url}/{span_id}", headers=dpo)).status == 204
    assert (await (await api.get(url, headers=dpo)).json())["rendition"] == "none"
    assert await load_sealed(pool, newer) is None


async def test_training_plays_and_draws_the_redacted_rendition_only(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    pool = api.app[POOL]
    recording_id = await stereo_call(api, audio_dir, "pbx-training")
    dpo = await headers_for(api, "dpo")
    trainer = await headers_for(api, "trainer")
    span = {"start_seconds": 1, "end_seconds": 3, "channel": "customer", "reason": "hetu"}
    added = await api.post(f"/v1/recordings/{recording_id}/redactions", json=span, headers=dpo)
    assert added.status == 201

    release_url = f"/v1/recordings/{recording_id}/training-release"
    release = {"released": True, "reason": "good example"}
    unreviewed = await api.post(release_url, json=release, headers=dpo)
    assert unreviewed.status == 422
    assert (await unreviewed.json())["errors"][0]["field"] == "redaction_reviewed"
    assert not await pool.fetchval(
        "SELECT training_released_at IS NOT NULL FROM recordings WHERE id = $1::uuid",
        recording_id,
    )
    reviewed = await api.post(release_url, json=release | {"redaction_reviewed": True}, headers=dpo)
    assert reviewed.status == 200
    assert (await reviewed.json())["redaction_reviewed"] is True
    detail = await (await api.get(f"/v1/recordings/{recording_id}", headers=dpo)).json()
    assert detail["training_release"]["redaction_reviewed"] is True

    audio_url = f"/v1/recordings/{recording_id}/audio?purpose=training"
    waveform_url = f"/v1/recordings/{recording_id}/waveform"
    for url in (audio_url, waveform_url):
        pending = await api.get(url, headers=trainer)
        assert pending.status == 409, url
        assert pending.content_type == "application/problem+json"

    assert await renderer(api).run_until_idle() == ["ready"]
    row = await pool.fetchrow(
        "SELECT audio_object_id, waveform FROM redacted_renditions WHERE recording_id = $1::uuid",
        recording_id,
    )
    assert row is not None
    redacted = await plaintext(api, row["audio_object_id"])
    whole = await api.get(audio_url, headers=trainer)
    assert whole.status == 200
    assert await whole.read() == redacted
    part = await api.get(audio_url, headers=trainer | {"Range": "bytes=1000-70000"})
    assert part.status == 206
    assert await part.read() == redacted[1000:70001]
    assert await (await api.get(waveform_url, headers=trainer)).json() == row["waveform"]
    customer_peaks = row["waveform"]["channels"][1]["peaks"]
    assert max(customer_peaks[11:29]) == 0

    # the DPO answering a subject request still hears the original
    original = await api.get(
        f"/v1/recordings/{recording_id}/audio?purpose=subject_request", headers=dpo
    )
    assert await original.read() != redacted
    plays = await pool.fetch(
        "SELECT details->>'rendition' AS r FROM audit_log WHERE action = 'recording.play'"
        " AND purpose = 'training' ORDER BY seq"
    )
    assert [p["r"] for p in plays] == ["redacted", "redacted"]

    await pool.execute("UPDATE redacted_renditions SET status = 'failed'")
    assert (await api.get(audio_url, headers=trainer)).status == 409


async def test_erasure_shreds_renditions_and_spans_and_a_hold_keeps_them(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    pool = api.app[POOL]
    recording_id = await stereo_call(api, audio_dir, "pbx-erase")
    dpo = await headers_for(api, "dpo")
    for start in (1, 5):
        span = {"start_seconds": start, "end_seconds": start + 1, "reason": "neighbour's name"}
        answer = await api.post(f"/v1/recordings/{recording_id}/redactions", json=span, headers=dpo)
        assert answer.status == 201
    assert await renderer(api).run_until_idle() == ["ready"]
    redacted_id = await pool.fetchval(
        "SELECT audio_object_id FROM redacted_renditions WHERE recording_id = $1::uuid",
        recording_id,
    )
    redacted = await load_sealed(pool, redacted_id)
    assert redacted is not None
    engine = erasure_engine(pool, api.app[VAULT].store)

    placed = await api.post(
        "/v1/legal-holds",
        json={"recording_ids": [recording_id], "reason": "dispute over rent"},
        headers=dpo,
    )
    assert placed.status == 201
    kept = await engine.erase_recordings([uuid.UUID(recording_id)], Why("manual"))
    assert kept.counts() == {"recording.kept": 1}
    assert await load_sealed(pool, redacted_id) is not None
    assert await pool.fetchval("SELECT count(*) FROM redactions") == 2

    hold_id = (await placed.json())["id"]
    released = await api.delete(
        f"/v1/legal-holds/{hold_id}", json={"reason": "settled"}, headers=dpo
    )
    assert released.status == 200
    dry = erasure_engine(pool, api.app[VAULT].store, dry_run=True)
    preview = await dry.erase_recordings([uuid.UUID(recording_id)], Why("manual"))
    assert preview.counts() == {"recording.erased": 1, "redaction.erased": 2}
    report = await engine.erase_recordings([uuid.UUID(recording_id)], Why("manual"))
    assert report.counts() == {"recording.erased": 1, "redaction.erased": 2}
    assert report.objects_deleted == 2  # the original rendition and the redacted one
    assert await load_sealed(pool, redacted_id) is None
    assert await pool.fetchval("SELECT count(*) FROM redactions") == 0
    assert await pool.fetchval("SELECT count(*) FROM redacted_renditions") == 0
    assert not [o async for o in api.app[VAULT].store.list("recordings/")]


async def test_an_access_export_carries_the_redacted_copy_when_the_dpo_chooses_it(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    pool = api.app[POOL]
    caller = "+358401234567"
    recording_id = await stereo_call(api, audio_dir, "pbx-export")
    dpo = await headers_for(api, "dpo")
    span = {"start_seconds": 2, "end_seconds": 4, "channel": "agent", "reason": "x"}
    assert (
        await api.post(f"/v1/recordings/{recording_id}/redactions", json=span, headers=dpo)
    ).status == 201
    created = await api.post(
        "/v1/subject-requests",
        json={"kind": "access", "subject": {"phone_number": caller}, "channel": "phone"},
        headers=await headers_for(api, "customer-service"),
    )
    request_id = (await created.json())["id"]
    verified = await api.post(
        f"/v1/subject-requests/{request_id}/verify",
        json={"method": "strong electronic identification"},
        headers=dpo,
    )
    assert verified.status == 200
    url = f"/v1/subject-requests/{request_id}/recordings/{recording_id}/export"
    why = "the caller names a neighbour"
    body = {"export": "redacted", "reason": why}
    pending = await api.put(url, json=body, headers=dpo)
    assert pending.status == 409  # not rendered yet
    assert pending.content_type == "application/problem+json"
    assert await renderer(api).run_until_idle() == ["ready"]
    for bad, field in (
        ({"export": "copy", "reason": "x"}, "export"),
        ({"export": "redacted"}, "reason"),
    ):
        refused = await api.put(url, json=bad, headers=dpo)
        assert refused.status == 422
        assert (await refused.json())["errors"][0]["field"] == field
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await api.put(url.replace(recording_id, unknown), json=body, headers=dpo)).status == 404
    assert (await api.put(url.replace(request_id, unknown), json=body, headers=dpo)).status == 404
    assert (await api.put(url, json=body)).status == 401
    for role in ("trainer", "customer-service", "housing-advisor", "admin"):
        assert (await api.put(url, json=body, headers=await headers_for(api, role))).status == 403
    chosen = await api.put(url, json=body, headers=dpo)
    assert chosen.status == 200
    decided = await pool.fetchrow(
        "SELECT a.actor_id, a.details FROM audit_log a"
        " WHERE action = 'subject_request.export_choice' AND outcome = 'ok'"
    )
    assert decided is not None
    assert decided["actor_id"] == await pool.fetchval("SELECT id FROM users WHERE username = 'dpo'")

    fulfil = await api.post(f"/v1/subject-requests/{request_id}/fulfil", headers=dpo)
    assert fulfil.status == 202
    await RightsProcessor(pool, api.app[VAULT], api.app[SETTINGS]).run_until_idle()
    document = await (await api.get(f"/v1/subject-requests/{request_id}", headers=dpo)).json()
    assert document["status"] == "completed", document
    archive = zipfile.ZipFile(io.BytesIO(await (await api.get(document["download_url"])).read()))
    [audio_name] = [n for n in archive.namelist() if n.startswith("recordings/")]
    assert audio_name.endswith("-redacted.ogg")
    redacted_id = await pool.fetchval(
        "SELECT audio_object_id FROM redacted_renditions WHERE recording_id = $1::uuid",
        recording_id,
    )
    assert archive.read(audio_name) == await plaintext(api, redacted_id)
    [listed] = json.loads(archive.read("recordings.json"))
    assert (listed["export"], listed["export_reason"]) == ("redacted", why)
    index = archive.read("index.txt").decode()
    assert f"{audio_name}: {why}" in index
    assert "15(4)" in index
    assert audio_name in archive.read("manifest.sha256").decode()


async def test_the_tone_setting_fills_spans_with_a_soft_tone(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    recording_id = await stereo_call(api, audio_dir, "pbx-tone")
    span = {"start_seconds": 2, "end_seconds": 5, "channel": "customer", "reason": "x"}
    dpo = await headers_for(api, "dpo")
    assert (
        await api.post(f"/v1/recordings/{recording_id}/redactions", json=span, headers=dpo)
    ).status == 201
    settings = dataclasses.replace(api.app[SETTINGS], redaction_tone=True)
    tone = RedactionRenderer(api.app[POOL], api.app[VAULT], settings, public_reason=public_reason)
    assert await tone.run_until_idle() == ["ready"]
    object_id = await api.app[POOL].fetchval(
        "SELECT audio_object_id FROM redacted_renditions WHERE recording_id = $1::uuid",
        recording_id,
    )
    redacted = await plaintext(api, object_id)
    _, rms = await levels(redacted, 2.1, 4.9, 1)
    assert -36 < rms < -30  # the -30 dBFS sine, not the 500 Hz customer tone at ~-21
    _, customer_rms = await levels(redacted, 6, 9, 1)
    assert customer_rms > rms + 6
