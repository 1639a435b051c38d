"""Parsing of the small values routes take from paths, queries and bodies, with 422s that
name the field and say what to send instead."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from api.problems import ValidationProblem, field_error

T = TypeVar("T")


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


def parse_time(raw: object, field: str) -> datetime:
    """A timezone-aware ISO 8601 time, or a 422 naming ``field``."""
    value = None
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            value = None
    if value is None or value.tzinfo is None:
        raise ValidationProblem(
            [field_error(field, "an ISO 8601 time with a zone, like 2026-11-23T10:15:00+02:00")]
        )
    return value


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
