"""Webhook metadata the database or the clock cannot take: 422 naming the field, nothing kept."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest

from common.settings import Settings
from recorder.fetch import FetchError, fetch_audio
from recorder.metadata import parse_metadata
from storage.vault import Vault
from tests.recorder.helpers import metadata, multipart
from tests.recorder.test_webhook import AUDIO, Client, api, ingest_settings, post, stored

__all__ = ["api", "ingest_settings"]  # fixtures used below

UNKNOWN = str(uuid.UUID(int=0xDEAD))


def soon(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"customer_id": UNKNOWN}, "customer_id", "no such item"),
        ({"duration_seconds": 0.0004}, "duration_seconds", "at least 0.001"),
        ({"duration_seconds": "1e-9"}, "duration_seconds", "at least 0.001"),
        ({"started_at": "1999-12-31T23:59:59+00:00"}, "started_at", "implausible"),
        ({"started_at": soon(25)}, "started_at", "implausible"),
        ({"started_at": "0001-01-01T00:00:00+14:00"}, "started_at", "a time from"),
        ({"started_at": "9999-12-31T23:59:59-14:00"}, "started_at", "a time from"),
        ({"answered_by": "maija\x00"}, "answered_by", "NUL"),
        ({"external_id": "pbx-\ud800"}, "external_id", "surrogate"),
    ],
)
async def test_metadata_out_of_range_is_422_and_stores_nothing(
    api: Client, fields: dict[str, Any], field: str, words: str
) -> None:
    status, problem = await post(api, multipart(metadata(**fields), AUDIO))
    assert status == 422, problem
    assert [e["field"] for e in problem["errors"]] == [field]
    assert words in problem["errors"][0]["message"]
    assert UNKNOWN not in json.dumps(problem)  # the driver's text quotes values: never shown
    assert await stored(api) == (0, 0, 0)


async def test_a_call_a_few_hours_ahead_is_still_taken(api: Client) -> None:
    status, _ = await post(api, multipart(metadata(started_at=soon(12)), AUDIO))
    assert status == 202


@pytest.mark.parametrize("url", ["http://pbx.example.fi:80:81/a.wav", "http://[::1/a.wav"])
async def test_an_audio_url_urllib_cannot_split_is_422(api: Client, url: str) -> None:
    body = json.dumps(metadata(audio_url=url)).encode()
    status, problem = await post(api, body, content_type="application/json")
    assert status == 422, problem
    assert [e["field"] for e in problem["errors"]] == ["audio_url"]
    assert await stored(api) == (0, 0, 0)


def test_duration_is_kept_to_the_millisecond() -> None:
    meta = parse_metadata(metadata(duration_seconds="0.0006"), require_audio_url=False)
    assert meta.duration_seconds == Decimal("0.001")


async def test_fetching_an_unsplittable_url_is_a_fetch_error(settings: Settings) -> None:
    with pytest.raises(FetchError, match="valid host and port"):
        await fetch_audio("http://pbx.example.fi:80:81/a.wav", cast(Vault, None), settings)
