"""Free text staff write about people is sealed at rest: contact log notes, redaction reasons,
access-export reasons and training release reasons (migration 0016), legal-hold reasons and
release reasons, subject-request denial and extension reasons (migration 0017).

Each is written through the API and looked for in the raw table rows; rows an older version
left in plain text are sealed by the start-up step, and the API still shows their text.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.appkeys import FIELD_CIPHER, POOL
from callrec.app import seal_old_free_text
from rights.export_choices import choices_of
from storage import sealing
from storage.db import Pool
from tests.api.sessions import Client, headers_for
from tests.api.test_redactions import renderer, stereo_call
from tests.register.samples import maija

NOTE = "agreed to pay the rent arrears by Friday"
SPAN_REASON = "the caller names her neighbour"
EXPORT_REASON = "the call holds the neighbour's health data"
RELEASE_REASON = "calm handling of an angry caller"
HOLD_REASON = "her landlord disputes the call in court"
HOLD_RELEASE_REASON = "the court case about her flat has ended"
DENIAL_REASON = "the caller could not prove she is the tenant"
EXTENSION_REASON = "her son's calls must be separated from hers"
TEXTS = (
    NOTE,
    SPAN_REASON,
    EXPORT_REASON,
    RELEASE_REASON,
    HOLD_REASON,
    HOLD_RELEASE_REASON,
    DENIAL_REASON,
    EXTENSION_REASON,
)
PLAIN_COLUMNS = (
    ("contact_log", "note"),
    ("redactions", "reason"),
    ("subject_request_exports", "reason"),
    ("recordings", "training_release_reason"),
    ("legal_holds", "reason"),
    ("legal_holds", "release_reason"),
    ("subject_requests", "denial_reason"),
    ("subject_requests", "extension_reason"),
)


async def raw_bytes(pool: Pool, table: str) -> bytes:
    """Every value of every row of ``table``, as bytes (bytea as stored, the rest as text)."""
    rows = await pool.fetch(f"SELECT * FROM {table}")
    return b"\x00".join(
        value if isinstance(value, bytes) else str(value).encode()
        for row in rows
        for value in row.values()
    )


async def customer(api: Client) -> str:
    created = await api.post(
        "/v1/customers", json=maija(), headers=await headers_for(api, "customer-service")
    )
    assert created.status == 201, await created.text()
    return str((await created.json())["id"])


async def access_request(api: Client) -> str:
    """A verified access request of a caller (the export choice needs an open one)."""
    created = await api.post(
        "/v1/subject-requests",
        json={"kind": "access", "subject": {"phone_number": "+358401234567"}, "channel": "phone"},
        headers=await headers_for(api, "customer-service"),
    )
    request_id = str((await created.json())["id"])
    verified = await api.post(
        f"/v1/subject-requests/{request_id}/verify",
        json={"method": "strong electronic identification"},
        headers=await headers_for(api, "dpo"),
    )
    assert verified.status == 200
    return request_id


async def shown_texts(api: Client, customer_id: str, recording_id: str) -> list[str]:
    """The note, the span reason and the release reason as the API answers them."""
    contacts = await api.get(
        f"/v1/customers/{customer_id}/contacts", headers=await headers_for(api, "customer-service")
    )
    spans = await api.get(
        f"/v1/recordings/{recording_id}/redactions", headers=await headers_for(api, "dpo")
    )
    recording = await api.get(
        f"/v1/recordings/{recording_id}", headers=await headers_for(api, "trainer")
    )
    return [
        (await contacts.json())["items"][0]["note"],
        (await spans.json())["items"][0]["reason"],
        (await recording.json())["training_release"]["reason"],
    ]


async def other_reasons(api: Client, request_id: str) -> list[str | None]:
    """The hold's reasons, the extension reason and the denial reason as the API answers."""
    dpo = await headers_for(api, "dpo")
    holds = await api.get("/v1/legal-holds?include_released=true", headers=dpo)
    hold = (await holds.json())["items"][0]
    extended = await (await api.get(f"/v1/subject-requests/{request_id}", headers=dpo)).json()
    queue = await api.get("/v1/subject-requests?status=denied", headers=dpo)
    denied_id = (await queue.json())["items"][0]["id"]
    denied = await (await api.get(f"/v1/subject-requests/{denied_id}", headers=dpo)).json()
    return [
        hold["reason"],
        hold["release_reason"],
        extended["extension_reason"],
        denied["denial_reason"],
    ]


OTHER_REASONS = [HOLD_REASON, HOLD_RELEASE_REASON, EXTENSION_REASON, DENIAL_REASON]


async def test_every_kind_of_text_is_sealed_in_the_row(staff_api: Client, audio_dir: Path) -> None:
    api = staff_api
    pool = api.app[POOL]
    dpo = await headers_for(api, "dpo")
    customer_id = await customer(api)
    contact = {"channel": "phone", "direction": "inbound", "topic": "rent", "note": NOTE}
    added = await api.post(
        f"/v1/customers/{customer_id}/contacts",
        json=contact,
        headers=await headers_for(api, "customer-service"),
    )
    assert added.status == 201
    recording_id = await stereo_call(api, audio_dir)
    span = {"start_seconds": 2, "end_seconds": 4, "channel": "agent", "reason": SPAN_REASON}
    assert (
        await api.post(f"/v1/recordings/{recording_id}/redactions", json=span, headers=dpo)
    ).status == 201
    assert await renderer(api).run_until_idle() == ["ready"]
    request_id = await access_request(api)
    chosen = await api.put(
        f"/v1/subject-requests/{request_id}/recordings/{recording_id}/export",
        json={"export": "redacted", "reason": EXPORT_REASON},
        headers=dpo,
    )
    assert chosen.status == 200
    released = await api.post(
        f"/v1/recordings/{recording_id}/training-release",
        json={"reason": RELEASE_REASON, "redaction_reviewed": True},
        headers=dpo,
    )
    assert released.status == 200
    hold = await api.post(
        "/v1/legal-holds",
        json={"reason": HOLD_REASON, "recording_ids": [recording_id]},
        headers=dpo,
    )
    assert hold.status == 201
    hold_id = (await hold.json())["id"]
    ended = await api.delete(
        f"/v1/legal-holds/{hold_id}", json={"reason": HOLD_RELEASE_REASON}, headers=dpo
    )
    assert ended.status == 200
    until = (datetime.now(UTC) + timedelta(days=40)).isoformat()
    extended = await api.post(
        f"/v1/subject-requests/{request_id}/extend",
        json={"until": until, "reason": EXTENSION_REASON},
        headers=dpo,
    )
    assert extended.status == 200
    assert (await extended.json())["extension_reason"] == EXTENSION_REASON
    denied = await api.post(
        f"/v1/subject-requests/{await access_request(api)}/deny",
        json={"reason": DENIAL_REASON},
        headers=dpo,
    )
    assert denied.status == 200
    assert (await denied.json())["denial_reason"] == DENIAL_REASON

    for table, _ in dict.fromkeys(PLAIN_COLUMNS):
        stored = await raw_bytes(pool, table)
        for text in TEXTS:
            assert text.encode() not in stored, (table, text)
    audit = await raw_bytes(pool, "audit_log")
    for text in TEXTS:
        assert text.encode() not in audit, text
    assert await other_reasons(api, request_id) == OTHER_REASONS
    assert await shown_texts(api, customer_id, recording_id) == [NOTE, SPAN_REASON, RELEASE_REASON]
    choices = await choices_of(pool, api.app[FIELD_CIPHER], uuid.UUID(request_id))
    assert choices[uuid.UUID(recording_id)].reason == EXPORT_REASON

    # a node whose keyring cannot open sealed text answers 503 (another node can), never 500
    cipher = api.app[FIELD_CIPHER]
    del api.app._state[FIELD_CIPHER]  # as on a recipients-only node
    try:
        refused = await api.get(f"/v1/subject-requests/{request_id}", headers=dpo)
        assert refused.status == 503, await refused.text()
        assert (await refused.json())["type"].endswith("register-unavailable")
    finally:
        api.app._state[FIELD_CIPHER] = cipher


async def test_start_up_seals_rows_an_older_version_left_in_plain_text(
    staff_api: Client, audio_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = staff_api
    pool = api.app[POOL]
    customer_id = await customer(api)
    recording_id = await stereo_call(api, audio_dir)
    request_id = await access_request(api)
    for n in range(3):  # three notes through batches of two
        await pool.execute(
            "INSERT INTO contact_log (id, customer_id, channel, direction, topic, note, at)"
            " VALUES ($1, $2::uuid, 'phone', 'inbound', 'rent', $3, now() - $4 * interval '1h')",
            uuid.uuid4(),
            customer_id,
            NOTE if n == 0 else f"{NOTE} ({n})",
            n,
        )
    await pool.execute(
        "INSERT INTO redactions (id, recording_id, start_seconds, end_seconds, channel, reason)"
        " VALUES ($1, $2::uuid, 2, 4, 'agent', $3)",
        uuid.uuid4(),
        recording_id,
        SPAN_REASON,
    )
    await pool.execute(
        "INSERT INTO subject_request_exports (request_id, recording_id, export, reason)"
        " VALUES ($1::uuid, $2::uuid, 'redacted', $3)",
        request_id,
        recording_id,
        EXPORT_REASON,
    )
    await pool.execute(
        "UPDATE recordings SET training_released_at = now(), training_release_reason = $2"
        " WHERE id = $1::uuid",
        recording_id,
        RELEASE_REASON,
    )
    hold_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO legal_holds (id, reason, released_at, release_reason) VALUES ($1, $2, now(), $3)",
        hold_id,
        HOLD_REASON,
        HOLD_RELEASE_REASON,
    )
    await pool.execute(
        "UPDATE subject_requests SET extended_due_at = due_at + interval '1 month',"
        " extension_reason = $2 WHERE id = $1::uuid",
        request_id,
        EXTENSION_REASON,
    )
    await pool.execute(
        "UPDATE subject_requests SET status = 'denied', completed_at = now(), denial_reason = $2"
        " WHERE id = $1::uuid",
        await access_request(api),
        DENIAL_REASON,
    )
    monkeypatch.setattr(sealing, "BATCH", 2)

    await seal_old_free_text(pool, api.app[FIELD_CIPHER])
    await seal_old_free_text(pool, api.app[FIELD_CIPHER])  # idempotent: nothing left to seal

    for table, column in PLAIN_COLUMNS:
        assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL") == 0
        stored = await raw_bytes(pool, table)
        for text in TEXTS:
            assert text.encode() not in stored, (table, text)
    assert await pool.fetchval("SELECT count(*) FROM contact_log WHERE note_encrypted IS NULL") == 0
    assert await other_reasons(api, request_id) == OTHER_REASONS
    assert await shown_texts(api, customer_id, recording_id) == [NOTE, SPAN_REASON, RELEASE_REASON]
    choices = await choices_of(pool, api.app[FIELD_CIPHER], uuid.UUID(request_id))
    assert choices[uuid.UUID(recording_id)].reason == EXPORT_REASON
