"""Cursor pagination shared by every list route: ``?limit=`` and an opaque ``next`` cursor.

A cursor is the sort key of the last item of a page, base64url-encoded JSON: clients treat
it as opaque, and keyset paging stays fast and stable however deep a list goes (no OFFSET).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from api.problems import ValidationProblem, field_error

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200
# The position after every item of a newest-first list: where its first page starts.
END_OF_TIME: Final = (datetime.max.replace(tzinfo=UTC), uuid.UUID(int=2**128 - 1))


def page_limit(query: Mapping[str, str]) -> int:
    """``?limit=`` as a whole number from 1 to :data:`MAX_LIMIT` (default 50)."""
    raw = query.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationProblem([field_error("limit", f"a whole number from 1 to {MAX_LIMIT}")])
    return int(raw)


def body_limit(body: dict[str, Any], default: int = DEFAULT_LIMIT) -> int:
    """``limit`` from a JSON body: a whole number from 1 to :data:`MAX_LIMIT`."""
    raw = body.get("limit", default)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_LIMIT:
        raise ValidationProblem([field_error("limit", f"a whole number from 1 to {MAX_LIMIT}")])
    return raw


def encode_cursor(*key: str | int) -> str:
    """The cursor that continues after an item whose sort key is ``key``."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str | None, arity: int) -> list[str | int] | None:
    """The sort key inside a cursor from :func:`encode_cursor`; None for the first page."""
    if not raw:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != arity
        or not all(isinstance(k, str | int) for k in key)
    ):
        raise ValidationProblem([field_error("cursor", "use the 'next' value of the last page")])
    return key


def encode_time_cursor(at: datetime, item_id: uuid.UUID) -> str:
    """The cursor after an item sorted by ``(time, id)``."""
    return encode_cursor(at.isoformat(), str(item_id))


def decode_time_cursor(raw: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The ``(time, id)`` key inside a cursor from :func:`encode_time_cursor`."""
    key = decode_cursor(raw, 2)
    if key is None:
        return None
    try:
        return datetime.fromisoformat(str(key[0])), uuid.UUID(str(key[1]))
    except ValueError:
        raise ValidationProblem(
            [field_error("cursor", "use the 'next' value of the last page")]
        ) from None


def time_cursor_or_start(raw: str | None) -> tuple[datetime, uuid.UUID]:
    """Where a newest-first page starts: the cursor's key, or :data:`END_OF_TIME`."""
    return decode_time_cursor(raw) or END_OF_TIME


def next_time_cursor(items: list[dict[str, Any]], limit: int, time_field: str = "at") -> str | None:
    """The cursor after a full newest-first page of JSON items (``id`` and ``time_field``),
    or None when the page was the last."""
    if len(items) < limit or not items:
        return None
    last = items[-1]
    return encode_time_cursor(datetime.fromisoformat(last[time_field]), uuid.UUID(last["id"]))
