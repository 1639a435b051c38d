"""Building signed webhook requests the way a telephony system would."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from recorder.signature import sign

SECRET = "test-webhook-secret-0123456789"
BOUNDARY = "callrecTestBoundary7MA4YWxk"


def metadata(**overrides: Any) -> dict[str, Any]:
    """Valid call metadata, with any field replaced."""
    base: dict[str, Any] = {
        "external_id": "pbx-7781",
        "started_at": "2026-11-23T10:15:00+02:00",
        "duration_seconds": 3.0,
        "answered_by": "maija.m",
        "caller_number": "+358401234567",
        "direction": "inbound",
        "service_line": "+35897712777",
        "channel_layout": "mono",
        "notice_played": True,
        "customer_id": None,
    }
    base.update(overrides)
    return base


def multipart(meta: dict[str, Any] | bytes, audio: bytes | None, boundary: str = BOUNDARY) -> bytes:
    """A multipart/form-data body with a metadata part and an audio part."""
    raw_meta = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n'
        "Content-Type: application/json\r\n\r\n".encode()
        + raw_meta
        + b"\r\n"
    ]
    if audio is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="call.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n".encode()
            + audio
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def signed_headers(
    body: bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    content_type: str | None = None,
) -> dict[str, str]:
    """Headers with a valid v1 signature over ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "X-Callrec-Timestamp": str(ts),
        "X-Callrec-Signature": sign(secret.encode(), ts, body),
        "Content-Type": content_type or f"multipart/form-data; boundary={BOUNDARY}",
    }


async def deliver(
    client: TestClient[web.Request, web.Application], audio: bytes, **fields: Any
) -> str:
    """POST a signed delivery of ``audio`` with metadata ``fields``; returns the new id."""
    body = multipart(metadata(**fields), audio)
    response = await client.post("/v1/recordings", data=body, headers=signed_headers(body))
    assert response.status == 202, await response.text()
    return str((await response.json())["id"])
