"""The DPO previews the redacted rendition (``?rendition=redacted``) before releasing a call;
no one else may ask for it by name, and asking for it where there is none says why."""

from __future__ import annotations

from pathlib import Path

from api.appkeys import POOL
from tests.api.sessions import Client, headers_for
from tests.api.test_redactions import plaintext, renderer, stereo_call


async def test_the_dpo_previews_the_redacted_rendition_audited_as_such(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    pool = api.app[POOL]
    recording_id = await stereo_call(api, audio_dir, "pbx-preview")
    dpo = await headers_for(api, "dpo")
    preview_url = f"/v1/recordings/{recording_id}/audio?purpose=subject_request&rendition=redacted"

    none = await api.get(preview_url, headers=dpo)  # no spans, nothing to preview
    assert none.status == 409
    assert none.content_type == "application/problem+json"
    assert "no redaction spans" in (await none.json())["detail"]

    span = {"start_seconds": 1, "end_seconds": 3, "channel": "customer", "reason": "hetu"}
    added = await api.post(f"/v1/recordings/{recording_id}/redactions", json=span, headers=dpo)
    assert added.status == 201
    assert (await api.get(preview_url, headers=dpo)).status == 409  # being rendered
    assert await renderer(api).run_until_idle() == ["ready"]
    object_id = await pool.fetchval(
        "SELECT audio_object_id FROM redacted_renditions WHERE recording_id = $1::uuid",
        recording_id,
    )
    redacted = await plaintext(api, object_id)
    whole = await api.get(preview_url, headers=dpo)
    assert whole.status == 200
    assert await whole.read() == redacted
    part = await api.get(preview_url, headers=dpo | {"Range": "bytes=100-999"})
    assert part.status == 206
    assert await part.read() == redacted[100:1000]
    plain = await api.get(preview_url.replace("redacted", "original"), headers=dpo)
    assert await plain.read() != redacted
    plays = await pool.fetch(
        "SELECT purpose, details->>'rendition' AS rendition FROM audit_log"
        " WHERE action = 'recording.play' AND object_id = $1 ORDER BY seq",
        recording_id,
    )
    assert [(p["purpose"], p["rendition"]) for p in plays] == [
        ("subject_request", "redacted"),
        ("subject_request", "redacted"),
        ("subject_request", None),
    ]


async def test_only_the_dpo_asks_for_the_redacted_rendition_by_name(
    staff_api: Client, audio_dir: Path
) -> None:
    api = staff_api
    recording_id = await stereo_call(api, audio_dir, "pbx-preview-roles")
    base = f"/v1/recordings/{recording_id}/audio?purpose=verify_content"
    service = await headers_for(api, "customer-service")
    refused = await api.get(f"{base}&rendition=redacted", headers=service)
    assert refused.status == 403
    assert refused.content_type == "application/problem+json"
    assert await api.app[POOL].fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'access.refused' AND object_id = $1",
        recording_id,
    )
    malformed = await api.get(f"{base}&rendition=everything", headers=service)
    assert malformed.status == 400
    assert "rendition" in (await malformed.json())["detail"]
    assert (await api.get(f"{base}&rendition=redacted")).status == 401  # no session
    assert (await api.get(f"{base}&rendition=original", headers=service)).status == 200
