"""Parsing of what clients send, with 422s that name the field and say what to send instead.

Every route reads JSON, whole numbers, times and ids through these few parsers, so a hostile
value (NUL, a lone surrogate, JSON nested thousands deep, 5,000 digits, year 1 at +14:00) is
refused the same way everywhere instead of failing deep inside Python or PostgreSQL.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, NoReturn, TypeVar

from common.errors import ValidationProblem, field_error

T = TypeVar("T")

MAX_JSON_DEPTH: Final = 32
# A day inside Python's datetime range at both ends: every offset converts without overflow
# and PostgreSQL's timestamptz holds the result.
EARLIEST: Final = datetime(1, 1, 2, tzinfo=UTC)
LATEST: Final = datetime(9999, 12, 30, tzinfo=UTC)
# When a call or a request plausibly happened: a time outside is a typo or a broken clock.
PLAUSIBLE_FROM: Final = datetime(2000, 1, 1, tzinfo=UTC)
PLAUSIBLE_AHEAD: Final = timedelta(days=1)
_MAX_TIME_CHARS: Final = 64
_JSON_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET: Final = re.compile(r"[^\[\]{}]+")
_NOT_TEXT: Final = re.compile("[\x00\ud800-\udfff]")


def valid(parsed: tuple[T | None, list[dict[str, str]]]) -> T:
    """The value of a ``(value, errors)`` parse, or one 422 naming every bad field."""
    value, errors = parsed
    if errors or value is None:
        raise ValidationProblem(errors)
    return value


def parse_id(raw: object, field: str = "id") -> uuid.UUID:
    """A UUID, or a 422 naming ``field``."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise ValidationProblem([field_error(field, "must be an id (UUID)")]) from None


def parse_time(
    raw: object, field: str, *, earliest: datetime = EARLIEST, latest: datetime = LATEST
) -> datetime:
    """A timezone-aware ISO 8601 time from ``earliest`` to ``latest``, or a 422 naming ``field``.

    The bounds are checked in UTC, so year 1 at +14:00 (a year-0 instant) is refused here
    rather than overflowing in the driver.
    """
    value = None
    if isinstance(raw, str) and raw.isascii() and len(raw) <= _MAX_TIME_CHARS:
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            value = None
    if value is None or value.tzinfo is None:
        raise ValidationProblem(
            [field_error(field, "an ISO 8601 time with a zone, like 2026-11-23T10:15:00+02:00")]
        )
    try:
        in_range = earliest <= value.astimezone(UTC) <= latest
    except OverflowError:  # year 1 at +14:00, or 9999 at -14:00
        in_range = False
    if not in_range:
        raise ValidationProblem(
            [field_error(field, f"a time from {earliest.isoformat()} to {latest.isoformat()}")]
        )
    return value


def parse_date(raw: object, field: str) -> date:
    """An ISO 8601 calendar date (``2026-11-23``), or a 422 naming ``field``."""
    if isinstance(raw, str) and raw.isascii() and len(raw) <= _MAX_TIME_CHARS:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise ValidationProblem([field_error(field, "a date like 2026-11-23")])


def parse_event_time(raw: object, field: str, now: datetime) -> datetime:
    """A time something happened: from 2000 to a day ahead of ``now`` (a later or earlier
    one is a typo or a broken clock), or a 422 that says it is implausible."""
    value = parse_time(raw, field)
    if not PLAUSIBLE_FROM <= value <= now + PLAUSIBLE_AHEAD:
        raise ValidationProblem(
            [
                field_error(
                    field,
                    "implausible: before 2000 or more than a day in the future; "
                    "check the year and the sender's clock",
                )
            ]
        )
    return value


def parse_int(raw: object, field: str, lowest: int, highest: int) -> int:
    """A whole number from ``lowest`` to ``highest`` (a JSON number or ASCII digits), or a
    422 naming ``field``; never converts more digits than the bound has."""
    value = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= len(str(highest)):
        value = int(raw)
    if value is None or not lowest <= value <= highest:
        raise ValidationProblem([field_error(field, f"a whole number from {lowest} to {highest}")])
    return value


NOT_TEXT_MESSAGE: Final = "must not contain NUL characters or lone surrogates"


def is_text(value: str) -> bool:
    """False for NUL or a lone surrogate: PostgreSQL text cannot hold NUL, and a lone
    surrogate cannot be encoded at all."""
    return _NOT_TEXT.search(value) is None


def check_text(value: str, field: str) -> str:
    """``value`` if :func:`is_text`, else a 422 naming ``field``."""
    if not is_text(value):
        raise ValidationProblem([field_error(field, NOT_TEXT_MESSAGE)])
    return value


def load_json(raw: bytes, field: str = "body", *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode UTF-8 JSON nested at most ``max_depth`` deep whose keys and strings are all
    text PostgreSQL can hold, or raise one 422 naming ``field`` (or the bad member).

    The depth is counted on the raw text before decoding, so nesting thousands deep costs
    one linear scan instead of exhausting the recursion limit.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _refuse(field, "not UTF-8 text")
    if _depth(text) > max_depth:
        _refuse(field, f"JSON nested more than {max_depth} deep")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError, a number of over 4,300 digits, NaN
        _refuse(field, f"not valid JSON: {exc}")  # positions and limits, never values
    _check_strings(value, field)
    return value


def load_json_object(raw: bytes, field: str = "body") -> dict[str, Any]:
    """:func:`load_json` of a body that must be a JSON object."""
    value = load_json(raw, field)
    if not isinstance(value, dict):
        _refuse(field, "must be a JSON object")
    return value


def _refuse(field: str, message: str) -> NoReturn:
    raise ValidationProblem([field_error(field, message)])


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _depth(text: str) -> int:
    """How deep the brackets of ``text`` nest, ignoring those inside strings."""
    deepest = depth = 0
    for char in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _check_strings(value: Any, field: str) -> None:
    """Refuse NUL and lone surrogates in any key or string, naming the member holding it."""
    pending: list[tuple[Any, str]] = [(value, "")]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            check_text(item, path or field)
        elif isinstance(item, dict):
            for key, member in item.items():
                check_text(key, path or field)
                pending.append((member, f"{path}.{key}" if path else key))
        elif isinstance(item, list):
            pending.extend((member, f"{path}[{i}]") for i, member in enumerate(item))


class FieldErrors:
    """Collects the errors of every field of one request, so that one 422 names them all."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def take(self, parse: Callable[[], T]) -> T | None:
        """The parsed value, or None after noting why it failed."""
        try:
            return parse()
        except ValidationProblem as problem:
            self.errors.extend(problem.errors)
            return None

    def add(self, field: str, message: str) -> None:
        """Note an error found without a parser."""
        self.errors.append(field_error(field, message))

    def raise_any(self) -> None:
        """Raise one 422 with everything noted, if anything was."""
        if self.errors:
            raise ValidationProblem(self.errors)
