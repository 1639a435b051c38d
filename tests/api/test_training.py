"""The trainer's workspace: notes at a moment of a call and collections of released calls,
as each role, with bad input; a withdrawn release empties the collections; notes are sealed,
audited, in the agent's access export and erased with the call (kept under a legal hold)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any, Final

from api.appkeys import FIELD_CIPHER, POOL, SETTINGS, STORE, VAULT
from retention.erasure import Why
from rights.export import AccessExport, Subject
from rights.sweeps import erasure_engine
from tests.api.sessions import Client, headers_for
from tests.staff import call_audio, ingest

UNKNOWN: Final = "00000000-0000-4000-8000-00000000beef"
NOTE: Final = "Kuittaa asiakkaan huolen ennen ratkaisua: hyvä esimerkki"


async def call(api: Client, audio_dir: Path, name: str, answered_by: str = "maija.m") -> str:
    """A ready 3-second call."""
    audio = call_audio(audio_dir, 3.0)
    return await ingest(
        api, audio, external_id=f"pbx-{name}", duration_seconds=3.0, answered_by=answered_by
    )


async def release(api: Client, recording_id: str, released: bool = True) -> None:
    response = await api.post(
        f"/v1/recordings/{recording_id}/training-release",
        json={"released": released, "reason": "a calm answer to an angry caller"},
        headers=await headers_for(api, "dpo"),
    )
    assert response.status == 200, await response.text()


async def send(
    api: Client, method: str, path: str, user: str | None, body: Any = None, raw: bytes = b""
) -> tuple[int, Any]:
    headers = {} if user is None else await headers_for(api, user)
    if raw:
        headers["Content-Type"] = "application/json"
        response = await api.request(method, path, data=raw, headers=headers)
    else:
        response = await api.request(method, path, json=body, headers=headers)
    if response.status >= 400:
        assert response.content_type == "application/problem+json", (method, path)
    text = await response.text()
    return response.status, json.loads(text) if text else None


def fields(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])}


async def test_notes_need_a_released_call_for_trainers_and_are_sealed_and_audited(
    staff_api: Client, audio_dir: Path
) -> None:
    rid = await call(staff_api, audio_dir, "notes")
    path = f"/v1/recordings/{rid}/annotations"
    note = {"at_seconds": 1.25, "text": NOTE}
    pool = staff_api.app[POOL]
    # Not released: a trainer finds nothing (audited); the DPO may annotate any call.
    assert (await send(staff_api, "POST", path, "trainer", note))[0] == 404
    assert (await send(staff_api, "GET", path, "trainer"))[0] == 404
    refused = await pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'access.refused' AND object_id = $1", rid
    )
    assert refused == 2
    status, by_dpo = await send(staff_api, "POST", path, "dpo", {"at_seconds": 0, "text": "dpo"})
    assert status == 201, by_dpo
    await release(staff_api, rid)
    status, added = await send(staff_api, "POST", path, "trainer", note)
    assert status == 201, added
    assert (added["at_seconds"], added["text"], added["author"]) == (1.25, NOTE, "trainer")
    # Bad input: each a 422 naming the field, nothing stored.
    for body, bad in [
        ({"at_seconds": 3.5, "text": "after the end"}, {"at_seconds"}),
        ({"at_seconds": -1, "text": "before the start"}, {"at_seconds"}),
        ({"at_seconds": "1", "text": "a string"}, {"at_seconds"}),
        ({"at_seconds": True, "text": "a boolean"}, {"at_seconds"}),
        ({"at_seconds": 1}, {"text"}),
        ({"at_seconds": 1, "text": "   "}, {"text"}),
        ({"at_seconds": 1, "text": "x" * 2001}, {"text"}),
        ({"at_seconds": 1, "text": "nul\x00"}, {"text"}),
    ]:
        status, problem = await send(staff_api, "POST", path, "trainer", body)
        assert (status, fields(problem)) == (422, bad), body
    assert (await send(staff_api, "POST", path, "trainer", raw=b"{not json"))[0] in (400, 422)
    oversized = json.dumps({"at_seconds": 1, "text": "x" * 70_000}).encode()
    assert (await send(staff_api, "POST", path, "trainer", raw=oversized))[0] == 413
    assert (await send(staff_api, "POST", path, None, note))[0] == 401
    assert (await send(staff_api, "POST", path, "customer-service", note))[0] == 403
    assert (await send(staff_api, "GET", path, "housing-advisor"))[0] == 403
    unknown = f"/v1/recordings/{UNKNOWN}/annotations"
    assert (await send(staff_api, "POST", unknown, "dpo", note))[0] == 404
    assert (await send(staff_api, "GET", unknown, "trainer"))[0] == 404
    assert (await send(staff_api, "GET", "/v1/recordings/nope/annotations", "dpo"))[0] == 422
    assert await pool.fetchval("SELECT count(*) FROM recording_annotations") == 2
    # The text is sealed at rest, bound to its row.
    stored = await pool.fetch("SELECT text_encrypted FROM recording_annotations")
    assert all(NOTE.encode() not in row["text_encrypted"] for row in stored)
    # Listed in time order, a page at a time; a forged cursor is a 422.
    status, first = await send(staff_api, "GET", f"{path}?limit=1", "trainer")
    assert status == 200
    assert [n["text"] for n in first["items"]] == ["dpo"]
    status, second = await send(staff_api, "GET", f"{path}?limit=1&cursor={first['next']}", "dpo")
    assert [n["text"] for n in second["items"]] == [NOTE]
    status, problem = await send(staff_api, "GET", f"{path}?cursor=eyJhIjoxfQ", "trainer")
    assert (status, fields(problem)) == (422, {"cursor"})
    status, problem = await send(staff_api, "GET", f"{path}?limit=0", "trainer")
    assert (status, fields(problem)) == (422, {"limit"})
    actions = [
        row["action"]
        for row in await pool.fetch(
            "SELECT action FROM audit_log WHERE object_id = $1 AND action LIKE"
            " 'recording.annotat%' ORDER BY seq",
            rid,
        )
    ]
    assert actions == ["recording.annotate"] * 2 + ["recording.annotations_read"] * 2


async def test_collections_hold_released_calls_and_lose_them_on_withdrawal(
    staff_api: Client, audio_dir: Path
) -> None:
    released, kept_back = (
        await call(staff_api, audio_dir, "c1"),
        await call(staff_api, audio_dir, "c2"),
    )
    await release(staff_api, released)
    base = "/v1/training/collections"
    status, course = await send(staff_api, "POST", base, "trainer", {"name": "Vuokrarästit"})
    assert status == 201, course
    assert (course["name"], course["calls"], course["created_by"]) == ("Vuokrarästit", 0, "trainer")
    assert (await send(staff_api, "POST", base, "dpo", {"name": "VUOKRARÄSTIT"}))[0] == 409
    for body in ({}, {"name": ""}, {"name": "x" * 201}, {"name": 7}):
        status, problem = await send(staff_api, "POST", base, "trainer", body)
        assert (status, fields(problem)) == (422, {"name"}), body
    oversized = json.dumps({"name": "x" * 70_000}).encode()
    assert (await send(staff_api, "POST", base, "trainer", raw=oversized))[0] == 413
    assert (await send(staff_api, "POST", base, None, {"name": "anon"}))[0] == 401
    assert (await send(staff_api, "POST", base, "customer-service", {"name": "cs"}))[0] == 403
    assert (await send(staff_api, "GET", base, "admin"))[0] == 403
    items = f"{base}/{course['id']}/items"
    # Only released calls go in; unknown ids are 404, malformed ones 422.
    assert (await send(staff_api, "POST", items, "trainer", {"recording_id": kept_back}))[0] == 404
    assert (await send(staff_api, "POST", items, "trainer", {"recording_id": UNKNOWN}))[0] == 404
    status, problem = await send(staff_api, "POST", items, "trainer", {"recording_id": "x"})
    assert (status, fields(problem)) == (422, {"recording_id"})
    unknown_items = f"{base}/{UNKNOWN}/items"
    assert (await send(staff_api, "POST", unknown_items, "trainer", {"recording_id": released}))[
        0
    ] == 404
    assert (await send(staff_api, "POST", items, "trainer", {"recording_id": released}))[0] == 201
    assert (await send(staff_api, "POST", items, "dpo", {"recording_id": released}))[0] == 200
    assert (await send(staff_api, "POST", items, None, {"recording_id": released}))[0] == 401
    # Shared: another account sees the collection and its calls.
    status, listed = await send(staff_api, "GET", base, "dpo")
    assert [(c["name"], c["calls"], c["created_by"]) for c in listed["items"]] == [
        ("Vuokrarästit", 1, "trainer")
    ]
    status, one = await send(staff_api, "GET", f"{base}/{course['id']}", "trainer")
    assert status == 200
    assert one["created_by"] == "trainer"
    assert [i["recording_id"] for i in one["items"]] == [released]
    assert one["items"][0]["duration_seconds"] == 3.0
    assert (await send(staff_api, "GET", f"{base}/{UNKNOWN}", "trainer"))[0] == 404
    assert (await send(staff_api, "GET", f"{base}/nope", "trainer"))[0] == 422
    assert (await send(staff_api, "GET", f"{base}?cursor=nope", "trainer"))[0] == 422
    # Remove, and again (404); a withdrawn release empties every collection.
    item = f"{items}/{released}"
    assert (await send(staff_api, "DELETE", item, "customer-service"))[0] == 403
    assert (await send(staff_api, "DELETE", item, None))[0] == 401
    assert (await send(staff_api, "DELETE", item, "trainer"))[0] == 204
    assert (await send(staff_api, "DELETE", item, "trainer"))[0] == 404
    assert (await send(staff_api, "DELETE", f"{items}/nope", "trainer"))[0] == 422
    assert (await send(staff_api, "POST", items, "trainer", {"recording_id": released}))[0] == 201
    status, other = await send(staff_api, "POST", base, "trainer", {"name": "Hyvät avaukset"})
    other_items = f"{base}/{other['id']}/items"
    assert (await send(staff_api, "POST", other_items, "dpo", {"recording_id": released}))[0] == 201
    await release(staff_api, released, released=False)
    pool = staff_api.app[POOL]
    assert await pool.fetchval("SELECT count(*) FROM training_collection_items") == 0
    assert (await send(staff_api, "POST", items, "trainer", {"recording_id": released}))[0] == 404


async def _export(api: Client, username: str) -> dict[str, bytes]:
    async with api.app[POOL].acquire() as conn:
        export = AccessExport(
            conn,
            api.app[VAULT],
            api.app[FIELD_CIPHER],
            api.app[SETTINGS],
            Subject("staff", username),
        )
        data = b"".join([chunk async for chunk in export.stream()])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_notes_are_in_the_agents_export_and_go_with_the_call(
    staff_api: Client, audio_dir: Path
) -> None:
    rid = await call(staff_api, audio_dir, "agent", answered_by="customer-service")
    other = await call(staff_api, audio_dir, "someone-else")
    await release(staff_api, rid)
    await release(staff_api, other)
    for recording, text in ((rid, NOTE), (other, "not about this agent")):
        body = {"at_seconds": 2, "text": text}
        path = f"/v1/recordings/{recording}/annotations"
        assert (await send(staff_api, "POST", path, "trainer", body))[0] == 201
    _, course = await send(staff_api, "POST", "/v1/training/collections", "trainer", {"name": "K"})
    items = f"/v1/training/collections/{course['id']}/items"
    assert (await send(staff_api, "POST", items, "trainer", {"recording_id": rid}))[0] == 201
    # The agent's export holds the note about their call, without the trainer's name.
    files = await _export(staff_api, "customer-service")
    notes = json.loads(files["training/notes.json"])
    assert [(n["recording_id"], n["at_seconds"], n["text"]) for n in notes] == [(rid, 2.0, NOTE)]
    assert "author" not in notes[0]
    assert "trainer" not in files["training/notes.json"].decode()
    assert NOTE in files["index.html"].decode()
    # A legal hold keeps the call with its note and collection item.
    pool = staff_api.app[POOL]
    dpo = await headers_for(staff_api, "dpo")
    hold = {"recording_ids": [rid], "reason": "dispute over the call"}
    placed = await staff_api.post("/v1/legal-holds", json=hold, headers=dpo)
    assert placed.status == 201
    engine = erasure_engine(pool, staff_api.app[STORE])
    report = await engine.erase_recordings([uuid.UUID(rid)], Why("manual"))
    assert report.counts() == {"recording.kept": 1}
    assert await pool.fetchval("SELECT count(*) FROM recording_annotations") == 2
    hold_id = (await placed.json())["id"]
    lifted = await staff_api.delete(
        f"/v1/legal-holds/{hold_id}", json={"reason": "settled"}, headers=dpo
    )
    assert lifted.status == 200
    report = await engine.erase_recordings([uuid.UUID(rid)], Why("manual"))
    assert report.counts() == {
        "recording.erased": 1,
        "annotation.erased": 1,
        "collection_item.erased": 1,
    }
    left = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM recording_annotations WHERE recording_id = $1) AS notes,"
        " (SELECT count(*) FROM training_collection_items WHERE recording_id = $1) AS items,"
        " (SELECT count(*) FROM recording_annotations) AS all_notes",
        uuid.UUID(rid),
    )
    assert left is not None
    assert (left["notes"], left["items"], left["all_notes"]) == (0, 0, 1)
