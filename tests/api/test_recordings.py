"""Listing, searching and reading recordings as each role; the trainer's masked view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.appkeys import POOL
from tests.api.sessions import Client, headers_for
from tests.staff import call_audio, ingest


async def three_calls(api: Client, audio_dir: Path) -> list[str]:
    """Three calls on three days, oldest first; the middle one is from another number."""
    audio = call_audio(audio_dir, 3.0)
    ids = []
    for day, number in ((21, "+358401234567"), (22, "+358409999999"), (23, "+358401234567")):
        ids.append(
            await ingest(
                api,
                audio,
                external_id=f"pbx-{day}",
                started_at=f"2026-11-{day}T10:00:00+02:00",
                caller_number=number,
                answered_by="maija.m" if day != 22 else "pekka.p",
                duration_seconds=3.0,
            )
        )
    return ids


async def get(api: Client, path: str, user: str) -> tuple[int, Any]:
    response = await api.get(path, headers=await headers_for(api, user))
    return response.status, await response.json()


async def test_list_pages_newest_first_with_a_cursor(staff_api: Client, audio_dir: Path) -> None:
    ids = await three_calls(staff_api, audio_dir)
    seen: list[str] = []
    path = "/v1/recordings?limit=2"
    while True:
        status, page = await get(staff_api, path, "customer-service")
        assert status == 200
        seen += [item["id"] for item in page["items"]]
        if page["next"] is None:
            break
        path = f"/v1/recordings?limit=2&cursor={page['next']}"
    assert seen == ids[::-1]
    assert set(page["items"][0]) == {
        "id",
        "started_at",
        "duration_seconds",
        "status",
        "released_for_training",
        "customer_id",
    }


async def test_list_filters(staff_api: Client, audio_dir: Path) -> None:
    ids = await three_calls(staff_api, audio_dir)
    _, by_agent = await get(staff_api, "/v1/recordings?answered_by=pekka.p", "dpo")
    assert [i["id"] for i in by_agent["items"]] == [ids[1]]
    _, by_time = await get(
        staff_api,
        "/v1/recordings?from=2026-11-22T00:00:00%2B02:00&to=2026-11-23T00:00:00%2B02:00",
        "dpo",
    )
    assert [i["id"] for i in by_time["items"]] == [ids[1]]
    customer = await staff_api.app[POOL].fetchval(
        "INSERT INTO customers (id, customer_number) VALUES (gen_random_uuid(), 'A-1') RETURNING id"
    )
    link = await staff_api.post(
        f"/v1/recordings/{ids[0]}/customer",
        json={"customer_id": str(customer)},
        headers=await headers_for(staff_api, "customer-service"),
    )
    assert link.status == 200
    _, by_customer = await get(staff_api, f"/v1/recordings?customer_id={customer}", "dpo")
    assert [i["id"] for i in by_customer["items"]] == [ids[0]]
    _, unlinked = await get(staff_api, "/v1/recordings?unlinked=true", "customer-service")
    assert [i["id"] for i in unlinked["items"]] == [ids[2], ids[1]]
    searched = await staff_api.post(
        "/v1/recordings/search",
        json={"unlinked": True, "caller_number": "+358401234567"},
        headers=await headers_for(staff_api, "customer-service"),
    )
    assert [i["id"] for i in (await searched.json())["items"]] == [ids[2]]


async def test_the_search_answers_with_agent_and_caller_and_the_list_with_ids_and_dates(
    staff_api: Client, audio_dir: Path
) -> None:
    """Staff look for a call by who answered and who called; those travel in the search's
    answer (a POST, audited), never in the GET list, and never to a trainer."""
    ids = await three_calls(staff_api, audio_dir)
    for user in ("customer-service", "dpo"):
        headers = await headers_for(staff_api, user)
        found = await (
            await staff_api.post("/v1/recordings/search", json={}, headers=headers)
        ).json()
        assert [(i["id"], i["answered_by"], i["caller_number"]) for i in found["items"]] == [
            (ids[2], "maija.m", "+358401234567"),
            (ids[1], "pekka.p", "+358409999999"),
            (ids[0], "maija.m", "+358401234567"),
        ]
        _, listed = await get(staff_api, "/v1/recordings", user)
        assert not {"answered_by", "caller_number"} & set(listed["items"][0])
    trainer = await headers_for(staff_api, "trainer")
    refused = await staff_api.post("/v1/recordings/search", json={}, headers=trainer)
    assert refused.status == 403


async def test_bad_list_parameters_are_422_naming_the_field(staff_api: Client) -> None:
    for query, field in (
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("cursor=%%%", "cursor"),
        ("cursor=WzFd", "cursor"),  # valid base64 JSON, wrong shape
        ("from=yesterday", "from"),
        ("to=2026-11-23T10:00:00", "to"),  # no zone
        ("customer_id=42", "customer_id"),
        ("unlinked=yes", "unlinked"),
    ):
        status, body = await get(staff_api, f"/v1/recordings?{query}", "customer-service")
        assert status == 422, query
        assert [e["field"] for e in body["errors"]] == [field], query


async def test_search_by_caller_number_keeps_it_out_of_urls_and_the_audit_log(
    staff_api: Client, audio_dir: Path
) -> None:
    ids = await three_calls(staff_api, audio_dir)
    headers = await headers_for(staff_api, "customer-service")
    response = await staff_api.post(
        "/v1/recordings/search", json={"caller_number": "040 123 4567"}, headers=headers
    )
    assert response.status == 200
    assert [i["id"] for i in (await response.json())["items"]] == [ids[2], ids[0]]
    entry = await staff_api.app[POOL].fetchrow(
        "SELECT * FROM audit_log WHERE action = 'recording.search'"
    )
    assert entry is not None
    assert entry["details"] == {"filters": "caller_number"}
    assert "4567" not in str(dict(entry))
    bad = await staff_api.post(
        "/v1/recordings/search",
        json={"caller_number": "12", "limit": "many", "from": "soon"},
        headers=headers,
    )
    assert bad.status == 422
    assert {e["field"] for e in (await bad.json())["errors"]} == {"caller_number", "limit", "from"}
    not_json = await staff_api.post("/v1/recordings/search", data=b"x", headers=headers)
    assert not_json.status == 415


async def test_detail_shows_identity_to_staff_and_audits_the_view(
    staff_api: Client, audio_dir: Path
) -> None:
    ids = await three_calls(staff_api, audio_dir)
    status, detail = await get(staff_api, f"/v1/recordings/{ids[0]}", "customer-service")
    assert status == 200
    assert detail["caller_number"] == "+358401234567"
    assert detail["answered_by"] == "maija.m"
    assert detail["playable"] is True
    viewed = await staff_api.app[POOL].fetchval(
        "SELECT object_id FROM audit_log WHERE action = 'recording.view'"
    )
    assert viewed == ids[0]


async def test_trainer_sees_only_released_calls_without_identity(
    staff_api: Client, audio_dir: Path
) -> None:
    ids = await three_calls(staff_api, audio_dir)
    status, page = await get(staff_api, "/v1/recordings", "trainer")
    assert (status, page["items"]) == (200, [])
    release = await staff_api.post(
        f"/v1/recordings/{ids[1]}/training-release",
        json={"reason": "calm handling of an angry caller"},
        headers=await headers_for(staff_api, "dpo"),
    )
    assert release.status == 200
    audited = await staff_api.app[POOL].fetchrow(
        "SELECT * FROM audit_log WHERE action = 'recording.training_release'"
    )
    assert audited is not None
    assert audited["details"] == {"reason_given": True}  # ids and flags, never free text
    assert "angry caller" not in str(dict(audited))
    _, page = await get(staff_api, "/v1/recordings", "trainer")
    assert [i["id"] for i in page["items"]] == [ids[1]]
    assert "customer_id" not in page["items"][0]
    status, detail = await get(staff_api, f"/v1/recordings/{ids[1]}", "trainer")
    assert status == 200
    for hidden in ("caller_number", "answered_by", "answered_by_user_id", "customer_id"):
        assert hidden not in detail
    assert detail["training_release"]["reason"] == "calm handling of an angry caller"
    status, _ = await get(staff_api, f"/v1/recordings/{ids[0]}", "trainer")
    assert status == 404
    for narrowing in ("answered_by=pekka.p", "unlinked=true"):
        status, _ = await get(staff_api, f"/v1/recordings?{narrowing}", "trainer")
        assert status == 403


async def test_waveform_has_peaks_per_channel(staff_api: Client, audio_dir: Path) -> None:
    recording_id = await ingest(
        staff_api, call_audio(audio_dir, 4.0), channel_layout="agent-left", duration_seconds=4.0
    )
    status, waveform = await get(
        staff_api, f"/v1/recordings/{recording_id}/waveform", "customer-service"
    )
    assert status == 200
    assert [c["role"] for c in waveform["channels"]] == ["agent", "customer"]
    assert abs(len(waveform["channels"][0]["peaks"]) - 40) <= 1
    status, _ = await get(staff_api, f"/v1/recordings/{recording_id}/waveform", "trainer")
    assert status == 404


async def test_training_release_validation(staff_api: Client, audio_dir: Path) -> None:
    dpo = await headers_for(staff_api, "dpo")
    pending = await ingest(staff_api, call_audio(audio_dir, 3.0), process=False)
    for body, fields in (
        ({}, ["reason"]),
        ({"reason": "  "}, ["reason"]),
        ({"released": "yes", "reason": "x" * 2001}, ["released", "reason"]),
    ):
        response = await staff_api.post(
            f"/v1/recordings/{pending}/training-release", json=body, headers=dpo
        )
        assert response.status == 422
        assert [e["field"] for e in (await response.json())["errors"]] == fields
    not_ready = await staff_api.post(
        f"/v1/recordings/{pending}/training-release", json={"reason": "x"}, headers=dpo
    )
    assert not_ready.status == 404
    assert (
        await staff_api.app[POOL].fetchval(
            "SELECT count(*) FROM recordings WHERE training_released_at IS NOT NULL"
        )
        == 0
    )


async def test_one_422_names_a_bad_cursor_with_the_other_bad_fields(staff_api: Client) -> None:
    status, body = await get(staff_api, "/v1/recordings?limit=0&cursor=%25&from=x", "dpo")
    assert status == 422
    assert {e["field"] for e in body["errors"]} == {"limit", "cursor", "from"}
    response = await staff_api.post(
        "/v1/recordings/search",
        json={"cursor": 5, "limit": 0},
        headers=await headers_for(staff_api, "dpo"),
    )
    assert {e["field"] for e in (await response.json())["errors"]} == {"cursor", "limit"}
