"""An export altered in the object store is never served as whole: 502 or a cut connection,
audited as failed, and the link is not spent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from api.appkeys import POOL, STORE
from tests.api.sessions import Client
from tests.rights.test_export_links import ready_export
from tests.staff import flip_stored_byte


async def downloads(api: Client) -> list[dict[str, Any]]:
    rows = await api.app[POOL].fetch(
        "SELECT outcome, details FROM audit_log WHERE action = 'export.download' ORDER BY seq"
    )
    return [{"outcome": r["outcome"], **r["details"]} for r in rows]


async def test_an_altered_export_is_an_integrity_problem_and_the_link_stays(
    staff_api: Client, audio_dir: Path
) -> None:
    _request_id, url = await ready_export(staff_api, audio_dir)
    object_id = await staff_api.app[POOL].fetchval("SELECT sealed_object_id FROM exports")
    altered = await flip_stored_byte(staff_api, object_id, chunk=-1)
    ranged = await staff_api.get(url, headers={"Range": f"bytes={altered}-"})
    assert ranged.status == 502
    assert (await ranged.json())["type"].endswith("/integrity-error")
    assert [(d["outcome"], d["sent"]) for d in await downloads(staff_api)] == [("failed", 0)]
    if altered:  # the export spans chunks: a whole download fails after the first one
        whole = await staff_api.get(url)
        assert whole.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await whole.read()
        assert [d["outcome"] for d in await downloads(staff_api)][1:] == ["ok", "failed"]
        assert (await downloads(staff_api))[-1]["sent"] == altered
    spent = await staff_api.app[POOL].fetchval("SELECT downloaded_at IS NOT NULL FROM exports")
    assert not spent


async def test_an_export_missing_from_the_store_is_an_integrity_problem_and_the_link_stays(
    staff_api: Client, audio_dir: Path
) -> None:
    _request_id, url = await ready_export(staff_api, audio_dir)
    key = await staff_api.app[POOL].fetchval(
        "SELECT o.object_key FROM exports e JOIN sealed_objects o ON o.id = e.sealed_object_id"
    )
    await staff_api.app[STORE].delete(key)  # lost by the store, or reaped under the download
    response = await staff_api.get(url)
    assert response.status == 502, await response.text()
    assert (await response.json())["type"].endswith("/integrity-error")
    assert [(d["outcome"], d["error"]) for d in await downloads(staff_api)] == [
        ("failed", "ObjectNotFound")
    ]
    spent = await staff_api.app[POOL].fetchval("SELECT downloaded_at IS NOT NULL FROM exports")
    assert not spent
