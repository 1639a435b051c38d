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
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, WithJsonSchema

from common.errors import ValidationProblem, field_error
from common.inputs import load_json, parse_id, parse_int, parse_time
from common.models import refuse, reusing

NOT_A_CURSOR: Final = "use the 'next' value of the last page"
DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200
# The position after every item of a newest-first list: where its first page starts.
END_OF_TIME: Final = (datetime.max.replace(tzinfo=UTC), uuid.UUID(int=2**128 - 1))
MAX_CURSOR_CHARS: Final = 1000
# Keys are times, ids, names and sequence numbers: bigint holds any number a cursor needs.
_KEY_INT: Final = 2**63 - 1
_KEY_CHARS: Final = 300


def page_limit(query: Mapping[str, str]) -> int:
    """``?limit=`` as a whole number from 1 to :data:`MAX_LIMIT` (default 50)."""
    return parse_int(query.get("limit", DEFAULT_LIMIT), "limit", 1, MAX_LIMIT)


def encode_cursor(*key: str | int) -> str:
    """The cursor that continues after an item whose sort key is ``key``."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str | None, arity: int) -> list[str | int] | None:
    """The sort key inside a cursor from :func:`encode_cursor`; None for the first page.

    Whatever a client puts in its place (bad base64, deep or odd JSON, huge numbers, NUL)
    is one 422 naming ``cursor``.
    """
    if not raw:
        return None
    key: object = None
    if len(raw) <= MAX_CURSOR_CHARS and raw.isascii():
        try:
            key = load_json(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), "cursor")
        except (ValueError, binascii.Error, ValidationProblem):
            key = None
    if not isinstance(key, list) or len(key) != arity or not all(map(_key_part, key)):
        raise ValidationProblem([field_error("cursor", "use the 'next' value of the last page")])
    return key


def _key_part(part: object) -> bool:
    if isinstance(part, bool):
        return False
    if isinstance(part, int):
        return -_KEY_INT <= part <= _KEY_INT
    return isinstance(part, str) and len(part) <= _KEY_CHARS


def encode_time_cursor(at: datetime, item_id: uuid.UUID) -> str:
    """The cursor after an item sorted by ``(time, id)``."""
    return encode_cursor(at.isoformat(), str(item_id))


def _body_cursor(raw: object) -> tuple[datetime, uuid.UUID] | None:
    if raw is not None and not isinstance(raw, str):
        raise refuse(NOT_A_CURSOR)
    return decode_time_cursor(raw)


TimeCursor = Annotated[
    tuple[datetime, uuid.UUID] | None,
    BeforeValidator(reusing(_body_cursor)),
    WithJsonSchema({"type": "string", "description": "`next` of the last page"}),
]
"""A body's ``cursor``: the ``next`` of the last page, as :func:`decode_time_cursor` reads it."""


def decode_time_cursor(raw: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The ``(time, id)`` key inside a cursor from :func:`encode_time_cursor`."""
    key = decode_cursor(raw, 2)
    if key is None:
        return None
    try:
        return parse_time(key[0], "cursor"), parse_id(key[1], "cursor")
    except ValidationProblem:
        raise ValidationProblem([field_error("cursor", NOT_A_CURSOR)]) from None


def time_cursor_or_start(raw: str | None) -> tuple[datetime, uuid.UUID]:
    """Where a newest-first page starts: the cursor's key, or :data:`END_OF_TIME`."""
    return decode_time_cursor(raw) or END_OF_TIME


def next_time_cursor(
    items: list[dict[str, Any]], limit: int, time_field: str = "at", id_field: str = "id"
) -> str | None:
    """The cursor after a full newest-first page of JSON items (``id_field`` and
    ``time_field``), or None when the page was the last."""
    if len(items) < limit or not items:
        return None
    last = items[-1]
    return encode_time_cursor(datetime.fromisoformat(last[time_field]), uuid.UUID(last[id_field]))
