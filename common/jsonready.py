"""Typed values as JSON: the domain returns dataclasses; the layer that answers turns them
into JSON with this one function, so every id and date is written the same way."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import Any


def json_ready(value: Any) -> Any:
    """``value`` with dataclasses as dicts (in field order), ids as strings and dates and
    times as ISO 8601, through lists, tuples and dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    return value
