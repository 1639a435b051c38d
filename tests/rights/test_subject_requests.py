"""Subject requests end to end through the API: a caller's access request ends with a ZIP
holding their recordings; an erased customer leaves no trace that could identify them."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import uuid
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyrage
import pytest

from accounts.users import create_user
from api.appkeys import POOL, SETTINGS, VAULT
from rights.processor import RightsProcessor
from tests.api.sessions import PASSWORD, Client, headers_for
from tests.register.samples import maija
from tests.staff import call_audio, ingest

CALLER = "+358401234567"


async def processed(api: Client, request_id: str) -> dict[str, Any]:
    """Run the processor and read the request back as the DPO."""
    await RightsProcessor(api.app[POOL], api.app[VAULT], api.app[SETTINGS]).run_until_idle()
    response = await api.get(
        f"/v1/subject-requests/{request_id}", headers=await headers_for(api, "dpo")
    )
    assert response.status == 200
    return dict(await response.json())


async def registered(api: Client, kind: str, subject: dict[str, str]) -> str:
    """Register (customer service), verify and fulfil (DPO); returns the request id."""
    created = await api.post(
        "/v1/subject-requests",
        json={"kind": kind, "subject": subject, "channel": "phone"},
        headers=await headers_for(api, "customer-service"),
    )
    assert created.status == 201, await created.text()
    document = await created.json()
    assert document["status"] == "identity_unverified"
    request_id = str(document["id"])
    dpo = await headers_for(api, "dpo")
    early = await api.post(f"/v1/subject-requests/{request_id}/fulfil", headers=dpo)
    assert early.status == 409
    verified = await api.post(
        f"/v1/subject-requests/{request_id}/verify",
        json={"method": "strong electronic identification"},
        headers=dpo,
    )
    assert verified.status == 200
    assert (await verified.json())["verified_by"] == "dpo"  # the account, shown by name
    assert (await api.post(f"/v1/subject-requests/{request_id}/fulfil", headers=dpo)).status == 202
    return request_id


async def test_a_callers_access_request_ends_with_a_zip_of_their_recordings(
    staff_api_each_store: Client, audio_dir: Path
) -> None:
    api = staff_api_each_store
    recording_id = await ingest(api, call_audio(audio_dir, 6.0), caller_number=CALLER)
    await ingest(
        api, call_audio(audio_dir, 5.0), caller_number="+358409999999", external_id="other"
    )
    request_id = await registered(api, "access", {"phone_number": "040 1234567"})

    document = await processed(api, request_id)
    assert document["status"] == "completed"
    assert document["report"]["recordings"] == 1
    url = document["download_url"]
    download = await api.get(url)
    assert download.status == 200
    assert download.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await download.read()))
    names = archive.namelist()
    [audio_name] = [n for n in names if n.startswith("recordings/")]
    audio = archive.read(audio_name)
    expected = await api.app[POOL].fetchval(
        "SELECT audio_sha256 FROM recordings WHERE id = $1", recording_id
    )
    assert hashlib.sha256(audio).digest() == bytes(expected)
    assert audio[:4] == b"OggS"
    assert {"recordings.json", "recordings.csv", "index.txt", "manifest.sha256"} <= set(names)
    assert "puhelutallenteesi (1 kpl)" in archive.read("index.txt").decode()
    page = archive.read("index.html").decode()  # a caller known by number only: Finnish
    assert '<html lang="fi">' in page
    assert f'<audio controls preload="metadata" src="{audio_name}">' in page
    manifest = archive.read("manifest.sha256").decode()
    assert f"{hashlib.sha256(audio).hexdigest()}  {audio_name}" in manifest
    assert "+358409999999" not in archive.read("recordings.json").decode()
    assert (await api.get(url)).status == 410  # one complete download spends the link
    assert (await api.get("/v1/exports/not-a-token")).status == 404


async def test_a_customers_export_holds_their_contact_log_disclosures_and_marketing(
    staff_api: Client,
) -> None:
    api = staff_api
    staff = await headers_for(api, "customer-service")
    created = await api.post("/v1/customers", json=maija(), headers=staff)
    assert created.status == 201
    customer = f"/v1/customers/{(await created.json())['id']}"
    for path, body in (
        ("contacts", {"channel": "phone", "direction": "inbound", "topic": "fault_report",
                      "note": "leaking tap", "at": "2026-11-20T10:00:00+02:00"}),
        ("disclosures", {"recipient": "Perintä Oy", "recipient_kind": "debt_collection",
                         "legal_basis": "rent arrears", "data_disclosed": "name, address"}),
        ("marketing", {"kind": "direct_marketing", "allowed": False, "given_via": "phone",
                       "at": "2026-06-01T09:00:00+03:00"}),
    ):  # fmt: skip
        added = await api.post(f"{customer}/{path}", json=body, headers=staff)
        assert added.status == 201, await added.text()
    request_id = await registered(api, "access", {"customer_id": customer.rsplit("/", 1)[1]})

    document = await processed(api, request_id)

    archive = zipfile.ZipFile(io.BytesIO(await (await api.get(document["download_url"])).read()))
    [contact] = json.loads(archive.read("register/contact_log.json"))
    assert (contact["topic"], contact["note"]) == ("fault_report", "leaking tap")
    assert set(contact) == {"channel", "direction", "topic", "note", "at", "recording_id"}
    [disclosure] = json.loads(archive.read("register/disclosures.json"))
    assert (disclosure["recipient"], disclosure["legal_basis"]) == ("Perintä Oy", "rent arrears")
    assert set(disclosure) == {"recipient", "recipient_kind", "legal_basis", "data_disclosed", "at"}
    [preference] = json.loads(archive.read("register/marketing.json"))
    assert preference == {
        "kind": "direct_marketing",
        "allowed": False,
        "given_via": "phone",
        "at": "2026-06-01T06:00:00+00:00",
    }


async def test_the_export_lists_who_read_the_subjects_data_and_what_staff_did(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    recording_id = await ingest(api, call_audio(audio_dir, 6.0), caller_number=CALLER)
    staff = await headers_for(api, "customer-service")
    played = await api.get(
        f"/v1/recordings/{recording_id}/audio?purpose=verify_content", headers=staff
    )
    assert played.status == 200
    await played.read()

    async def archive_of(subject: dict[str, str]) -> zipfile.ZipFile:
        document = await processed(api, await registered(api, "access", subject))
        download = await api.get(document["download_url"])
        return zipfile.ZipFile(io.BytesIO(await download.read()))

    caller = await archive_of({"phone_number": CALLER})
    about = json.loads(caller.read("access_log/about_you.json"))
    [play] = [entry for entry in about if entry["action"] == "recording.play"]
    assert set(play) == {"seq", "at", "action", "purpose", "outcome", "actor_role"}
    assert (play["purpose"], play["outcome"], play["actor_role"]) == (
        "verify_content",
        "ok",
        "customer_service",
    )
    assert "access_log/your_actions.json" not in caller.namelist()

    agent = await archive_of({"staff_username": "customer-service"})
    actions = json.loads(agent.read("access_log/your_actions.json"))
    assert actions, actions
    assert all(
        set(entry) == {"seq", "at", "action", "object_type", "purpose", "outcome"}
        for entry in actions
    )
    assert [e["seq"] for e in actions] == sorted(e["seq"] for e in actions)
    assert {"recording.play", "subject_request.create"} <= {e["action"] for e in actions}


async def test_bad_requests_get_a_clear_error_and_store_nothing(staff_api: Client) -> None:
    staff = await headers_for(staff_api, "customer-service")
    cases = [
        ({"kind": "access", "channel": "phone"}, {"subject"}),
        (
            {"kind": "x", "channel": "fax", "subject": {"phone_number": "1", "customer_id": "x"}},
            {"kind", "channel", "subject"},
        ),
        ({"kind": "access", "channel": "phone", "subject": {"phone_number": "abc"}},
         {"subject.phone_number"}),
        ({"kind": "erasure", "channel": "email", "subject": {"staff_username": "nobody"}},
         {"subject.staff_username"}),
        ({"kind": "erasure", "channel": "email",
          "subject": {"customer_id": "7e0c3f3e-8f0f-4a44-9a8e-1b1c1d1e1f10"}},
         {"subject.customer_id"}),
    ]  # fmt: skip
    for body, fields in cases:
        response = await staff_api.post("/v1/subject-requests", json=body, headers=staff)
        assert response.status == 422, body
        assert {e["field"] for e in (await response.json())["errors"]} == fields, body
    assert await staff_api.app[POOL].fetchval("SELECT count(*) FROM subject_requests") == 0
    trainer = await headers_for(staff_api, "trainer")
    body = {"kind": "access", "channel": "phone", "subject": {"phone_number": CALLER}}
    assert (await staff_api.post("/v1/subject-requests", json=body, headers=trainer)).status == 403
    assert (await staff_api.post("/v1/subject-requests", json=body)).status == 401
    assert (await staff_api.get("/v1/subject-requests", headers=staff)).status == 403


async def test_an_erased_customer_leaves_no_identifying_trace(
    staff_api: Client, audio_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api, pool = staff_api, staff_api.app[POOL]
    identifiers = [
        "Mäkinotkelma",
        "131052-308T",
        CALLER,
        "maija@example.fi",
        "A-1001",
        "Toinen linja",
    ]
    customer = await api.post(
        "/v1/customers",
        json={
            "customer_number": "A-1001", "first_name": "Maija", "last_name": "Mäkinotkelma",
            "henkilotunnus": "131052-308T", "roles": ["tenant"],
            "phones": [{"number": CALLER, "type": "mobile"}], "emails": ["maija@example.fi"],
            "addresses": [{"street": "Toinen linja 14", "postal_code": "00530", "city": "Helsinki"}],
        },
        headers=await headers_for(api, "customer-service"),
    )  # fmt: skip
    customer_id = (await customer.json())["id"]
    recording_id = await ingest(api, call_audio(audio_dir, 4.0), caller_number=CALLER)
    sealed = await pool.fetchrow(
        "SELECT s.header, s.object_key FROM recordings r"
        " JOIN sealed_objects s ON s.id = r.audio_object_id WHERE r.id = $1 AND r.customer_id = $2",
        recording_id,
        customer_id,
    )
    assert sealed is not None, "the call was linked to the customer by phone number"
    payload = b"".join(
        [c async for c in api.app[VAULT].store.get_range(sealed["object_key"], 0, 1 << 30)]
    )
    identity = pyrage.x25519.Identity.from_str(
        api.app[VAULT].keyring.current.identity.encode()  # type: ignore[union-attr]
    )
    assert pyrage.decrypt(bytes(sealed["header"]) + payload, [identity])  # readable before

    request_id = await registered(api, "erasure", {"customer_id": customer_id})
    document = await processed(api, request_id)

    assert document["status"] == "completed"
    assert document["report"]["counts"]["customer.erased"] == 1
    assert document["report"]["counts"]["recording.erased"] == 1
    tables = [
        row["table_name"]
        for row in await pool.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    ]
    for table in tables:
        dump = await pool.fetchval(
            f'SELECT coalesce(string_agg(t::text, $$|$$), $$$$) FROM "{table}" t'
        )
        for identifier in identifiers:
            assert identifier not in dump, (table, identifier)
    assert await pool.fetchval("SELECT count(*) FROM sealed_objects") == 0
    assert [o async for o in api.app[VAULT].store.list("recordings/")] == []
    for identifier in identifiers:
        assert identifier not in caplog.text
    # A copy of the payload taken before (a backup, say) is useless: its key is gone.
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(payload, [identity])
    tombstone = await pool.fetchrow(
        "SELECT kind, reason FROM tombstones WHERE id = $1", recording_id
    )
    assert tombstone is not None
    assert dict(tombstone) == {"kind": "recording", "reason": "subject_request"}


async def test_the_dpo_denies_extends_and_reads_the_queue_with_clear_errors(
    staff_api: Client,
) -> None:
    api = staff_api
    dpo = await headers_for(api, "dpo")
    created = await api.post(
        "/v1/subject-requests",
        json={"kind": "objection", "subject": {"phone_number": CALLER}, "channel": "letter"},
        headers=dpo,
    )
    document = await created.json()
    url = f"/v1/subject-requests/{document['id']}"
    legal_due = datetime.fromisoformat(document["legal_due_at"])

    too_late = (legal_due + timedelta(days=70)).isoformat()
    refused = await api.post(
        f"{url}/extend", json={"until": too_late, "reason": "complex"}, headers=dpo
    )
    assert refused.status == 409
    bad = await api.post(f"{url}/extend", json={"until": "soon"}, headers=dpo)
    # one 422 names every bad field (issue 16), not only the first one checked
    assert {e["field"] for e in (await bad.json())["errors"]} == {"reason", "until"}
    bad_time = await api.post(f"{url}/extend", json={"until": "soon", "reason": "x"}, headers=dpo)
    assert {e["field"] for e in (await bad_time.json())["errors"]} == {"until"}
    later = (legal_due + timedelta(days=30)).isoformat()
    extended = await api.post(
        f"{url}/extend", json={"until": later, "reason": "many recordings"}, headers=dpo
    )
    assert extended.status == 200
    assert (await extended.json())["extension_reason"] == "many recordings"

    queue = await (
        await api.get("/v1/subject-requests?status=identity_unverified", headers=dpo)
    ).json()
    assert [item["id"] for item in queue["items"]] == [document["id"]]
    assert (await api.get("/v1/subject-requests?status=lost", headers=dpo)).status == 422

    assert (await api.post(f"{url}/deny", json={}, headers=dpo)).status == 422
    denied = await api.post(f"{url}/deny", json={"reason": "manifestly unfounded"}, headers=dpo)
    assert (await denied.json())["status"] == "denied"
    again = await api.post(f"{url}/deny", json={"reason": "twice"}, headers=dpo)
    assert again.status == 409
    missing = await api.post(
        f"/v1/subject-requests/{uuid.uuid4()}/verify", json={"method": "id card"}, headers=dpo
    )
    assert missing.status == 404
    staff = await headers_for(api, "customer-service")
    assert (await api.post(f"{url}/deny", json={"reason": "x"}, headers=staff)).status == 403


async def test_the_queue_follows_the_deadline_in_force_and_pages_by_it(staff_api: Client) -> None:
    api = staff_api
    dpo = await headers_for(api, "dpo")
    ids = []
    for number in ("+358401111111", "+358402222222", "+358403333333"):
        created = await api.post(
            "/v1/subject-requests",
            json={"kind": "access", "subject": {"phone_number": number}, "channel": "phone"},
            headers=dpo,
        )
        ids.append((await created.json())["id"])
    first = await (await api.get(f"/v1/subject-requests/{ids[0]}", headers=dpo)).json()
    later = (datetime.fromisoformat(first["legal_due_at"]) + timedelta(days=20)).isoformat()
    extended = await api.post(
        f"/v1/subject-requests/{ids[0]}/extend",
        json={"until": later, "reason": "many recordings"},
        headers=dpo,
    )
    assert extended.status == 200

    seen, cursor = [], None
    while True:  # two to a page, so the cursor must follow the same order
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await (await api.get(f"/v1/subject-requests?{query}", headers=dpo)).json()
        seen += page["items"]
        if not (cursor := page["next"]):
            break
    assert [item["id"] for item in seen] == [ids[1], ids[2], ids[0]]  # extended one last
    assert datetime.fromisoformat(seen[-1]["due_by"]) == datetime.fromisoformat(later)
    assert not any(item["overdue"] for item in seen)


async def test_the_access_copy_tells_times_in_local_time_with_the_offset(
    staff_api: Client, audio_dir: Path
) -> None:
    """A 21:55 Finnish-time call reads 21:55+02:00 in the copy, its file name and its CSV."""
    api = staff_api
    await ingest(
        api, call_audio(audio_dir, 4.0), caller_number=CALLER, started_at="2026-11-23T19:55:00Z"
    )
    request_id = await registered(api, "access", {"phone_number": CALLER})
    download = await api.get((await processed(api, request_id))["download_url"])
    archive = zipfile.ZipFile(io.BytesIO(await download.read()))
    [audio_name] = [n for n in archive.namelist() if n.startswith("recordings/")]
    assert audio_name.startswith("recordings/2026-11-23T215500-")
    csv_text = archive.read("recordings.csv").decode("utf-8-sig")
    json_text = archive.read("recordings.json").decode()
    for text in (csv_text, json_text):
        assert "2026-11-23T21:55:00+02:00" in text
        assert "19:55" not in text
    index = archive.read("index.txt").decode()
    assert "Europe/Helsinki" in index
    assert "+00:00" not in index
    for entry in json.loads(archive.read("access_log/about_you.json")):
        assert datetime.fromisoformat(entry["at"]).utcoffset() in (
            timedelta(hours=2),
            timedelta(hours=3),
        )


async def test_a_staff_members_export_has_the_calls_answered_by_name_or_extension(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    await create_user(api.app[POOL], "agent-201", PASSWORD, ["customer_service"], extension="201")
    for answered_by in ("201", "agent-201", "202"):  # the last is someone else's extension
        await ingest(
            api, call_audio(audio_dir, 4.0), answered_by=answered_by, external_id=answered_by
        )
    request_id = await registered(api, "access", {"staff_username": "agent-201"})
    assert (await processed(api, request_id))["report"]["recordings"] == 2
