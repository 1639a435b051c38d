"""Parse and validate the webhook's call metadata into a typed record, naming every bad field.

Pure functions, no I/O, so every rule is tested directly. Phone numbers are normalised to
E.164 with ``phonenumbers`` (default region FI); a withheld number is ``None``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import urlsplit

import phonenumbers

from api.problems import ValidationProblem, field_error

MAX_DURATION_SECONDS: Final = 12 * 3600
MAX_METADATA_BYTES: Final = 64 * 1024
DIRECTIONS: Final = ("inbound", "outbound")
CHANNEL_LAYOUTS: Final = ("mono", "agent-left", "agent-right")
WITHHELD: Final = frozenset({"", "withheld", "anonymous", "private", "unknown", "restricted"})
DEFAULT_REGION: Final = "FI"


@dataclass(frozen=True)
class CallMetadata:
    """One call as the telephony system describes it."""

    external_id: str
    started_at: datetime
    duration_seconds: Decimal
    answered_by: str
    caller_number: str | None
    direction: str
    service_line: str | None
    channel_layout: str
    notice_played: bool
    customer_id: uuid.UUID | None
    audio_url: str | None


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 form of ``raw``; raise ValueError when it is not a possible number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def load_json(raw: bytes, field: str = "metadata") -> dict[str, Any]:
    """Decode a JSON object, or raise a 422 naming ``field``."""
    if len(raw) > MAX_METADATA_BYTES:
        raise ValidationProblem([field_error(field, f"larger than {MAX_METADATA_BYTES} bytes")])
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationProblem([field_error(field, f"not valid JSON: {exc}")]) from None
    if not isinstance(value, dict):
        raise ValidationProblem([field_error(field, "must be a JSON object")])
    return value


def parse_metadata(
    data: dict[str, Any], *, require_audio_url: bool, allowed_hosts: tuple[str, ...] = ()
) -> CallMetadata:
    """Validate every field; one :class:`ValidationProblem` lists all that are wrong."""
    errors: list[dict[str, str]] = []

    def fail(field: str, message: str) -> None:
        errors.append(field_error(field, message))

    external_id = data.get("external_id")
    if not isinstance(external_id, str) or not 1 <= len(external_id) <= 200:
        fail("external_id", "required: the call's id in the telephony system, 1-200 characters")
    elif not external_id.isprintable():
        fail("external_id", "must not contain control characters")

    started_at = _datetime(data.get("started_at"), fail)
    duration = _duration(data.get("duration_seconds"), fail)

    answered_by = data.get("answered_by")
    if not isinstance(answered_by, str) or not answered_by.strip() or len(answered_by) > 100:
        fail("answered_by", "required: the username or extension of the agent who answered")

    caller_number = _phone(data.get("caller_number"), "caller_number", fail)
    service_line = _phone(data.get("service_line"), "service_line", fail)

    direction = data.get("direction", "inbound")
    if direction not in DIRECTIONS:
        fail("direction", f"must be one of {', '.join(DIRECTIONS)}")
    layout = data.get("channel_layout", "mono")
    if layout not in CHANNEL_LAYOUTS:
        fail("channel_layout", f"must be one of {', '.join(CHANNEL_LAYOUTS)}")

    notice_played = data.get("notice_played")
    if not isinstance(notice_played, bool):
        fail("notice_played", "required: true if the caller heard the recording notice")

    customer_id = None
    if data.get("customer_id") is not None:
        try:
            customer_id = uuid.UUID(str(data["customer_id"]))
        except ValueError:
            fail("customer_id", "must be a customer id (UUID) or null")

    audio_url = _audio_url(data.get("audio_url"), require_audio_url, allowed_hosts, fail)

    if errors:
        raise ValidationProblem(errors)
    assert isinstance(external_id, str)
    assert isinstance(answered_by, str)
    assert started_at is not None
    assert duration is not None
    return CallMetadata(
        external_id=external_id,
        started_at=started_at,
        duration_seconds=duration,
        answered_by=answered_by.strip(),
        caller_number=caller_number,
        direction=str(direction),
        service_line=service_line,
        channel_layout=str(layout),
        notice_played=bool(notice_played),
        customer_id=customer_id,
        audio_url=audio_url,
    )


def _datetime(value: object, fail: Any) -> datetime | None:
    if not isinstance(value, str):
        fail(
            "started_at", "required: ISO 8601 time with a timezone, e.g. 2026-11-23T10:15:00+02:00"
        )
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail("started_at", "not an ISO 8601 time")
        return None
    if parsed.tzinfo is None:
        fail("started_at", "must include a timezone offset (e.g. +02:00 or Z)")
        return None
    return parsed


def _duration(value: object, fail: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        fail("duration_seconds", "required: the call length in seconds, a number")
        return None
    try:
        duration = Decimal(str(value))
    except InvalidOperation:
        fail("duration_seconds", "must be a number")
        return None
    if not duration.is_finite() or not 0 < duration <= MAX_DURATION_SECONDS:
        fail("duration_seconds", f"must be more than 0 and at most {MAX_DURATION_SECONDS} (12 h)")
        return None
    return duration.quantize(Decimal("0.001"))


def _phone(value: object, field: str, fail: Any) -> str | None:
    """E.164, or None when missing or withheld."""
    if value is None or (isinstance(value, str) and value.strip().lower() in WITHHELD):
        return None
    if not isinstance(value, str):
        fail(field, "must be a phone number string, or null when withheld")
        return None
    try:
        return normalise_phone(value)
    except ValueError as exc:
        fail(field, f"{exc}; use E.164 such as +358401234567, or null when withheld")
        return None


def _audio_url(
    value: object, required: bool, allowed_hosts: tuple[str, ...], fail: Any
) -> str | None:
    if value is None:
        if required:
            fail("audio_url", "required when no audio part is sent")
        return None
    if not required:
        fail("audio_url", "send either an audio part or audio_url, not both")
        return None
    if not isinstance(value, str) or len(value) > 2000:
        fail("audio_url", "must be an http(s) URL")
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail("audio_url", "must be an http(s) URL")
        return None
    if not host_allowed(parts.hostname, parts.port, allowed_hosts):
        fail("audio_url", "host is not in CALLREC_FETCH_ALLOWED_HOSTS")
        return None
    return value


def host_allowed(host: str, port: int | None, allowed: tuple[str, ...]) -> bool:
    """True when ``host[:port]`` is listed (a listed bare host allows any port)."""
    host = host.lower()
    return host in allowed or (port is not None and f"{host}:{port}" in allowed)
