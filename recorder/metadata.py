"""Parse and validate the webhook's call metadata into a typed record, naming every bad field.

Pure functions, no I/O, so every rule is tested directly. Phone numbers are normalised to
E.164 by :mod:`register.phones`; a withheld number is ``None``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import urlsplit

from common.errors import ValidationProblem, field_error
from common.inputs import check_text, load_json_object, parse_event_time
from register.phones import normalise_phone

MAX_DURATION_SECONDS: Final = 12 * 3600
MAX_METADATA_BYTES: Final = 64 * 1024
DIRECTIONS: Final = ("inbound", "outbound")
STATUSES: Final = ("received", "processing", "ready", "failed")  # of a recording
CHANNEL_LAYOUTS: Final = ("mono", "agent-left", "agent-right")
WITHHELD: Final = frozenset({"", "withheld", "anonymous", "private", "unknown", "restricted"})


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


def load_json(raw: bytes, field: str = "metadata") -> dict[str, Any]:
    """Decode a JSON object (the shared reader: depth, NUL and surrogate limits), or raise
    a 422 naming ``field``."""
    if len(raw) > MAX_METADATA_BYTES:
        raise ValidationProblem([field_error(field, f"larger than {MAX_METADATA_BYTES} bytes")])
    return load_json_object(raw, field)


def parse_metadata(
    data: dict[str, Any],
    *,
    require_audio_url: bool,
    allowed_hosts: tuple[str, ...] = (),
    now: datetime | None = None,
) -> CallMetadata:
    """Validate every field; one :class:`ValidationProblem` lists all that are wrong.

    ``now`` (default: the clock) bounds ``started_at``: a call from before 2000 or more
    than a day ahead is a typo or a broken clock on the telephony side.
    """
    errors: list[dict[str, str]] = []

    def fail(field: str, message: str) -> None:
        errors.append(field_error(field, message))

    for name, value in data.items():  # Twilio's fields arrive as form text, not JSON
        if isinstance(value, str):
            try:
                check_text(value, str(name))
            except ValidationProblem as problem:
                errors.extend(problem.errors)
    if errors:
        raise ValidationProblem(errors)

    external_id = data.get("external_id")
    if not isinstance(external_id, str) or not 1 <= len(external_id) <= 200:
        fail("external_id", "required: the call's id in the telephony system, 1-200 characters")
    elif not external_id.isprintable():
        fail("external_id", "must not contain control characters")

    started_at = _started_at(data.get("started_at"), now or datetime.now(UTC), fail)
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


def _started_at(value: object, now: datetime, fail: Any) -> datetime | None:
    if not isinstance(value, str):
        fail(
            "started_at", "required: ISO 8601 time with a timezone, e.g. 2026-11-23T10:15:00+02:00"
        )
        return None
    try:
        return parse_event_time(value, "started_at", now)
    except ValidationProblem as problem:
        for error in problem.errors:
            fail(error["field"], error["message"])
        return None


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
    rounded = duration.quantize(Decimal("0.001"))  # what the database keeps
    if rounded == 0:
        fail("duration_seconds", "must be at least 0.001 (it is kept to the millisecond)")
        return None
    return rounded


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
    try:
        host, port = http_host(value)
    except ValueError as exc:
        fail("audio_url", str(exc))
        return None
    if not host_allowed(host, port, allowed_hosts):
        fail("audio_url", "host is not in CALLREC_FETCH_ALLOWED_HOSTS")
        return None
    return value


def http_host(url: str) -> tuple[str, int | None]:
    """The host and port of an http(s) URL; ValueError (saying what is wrong, without the
    URL) for any other, including those ``urlsplit`` cannot take apart (two ports, …)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port  # .port raises for "h:1:2" or "h:99999"
    except ValueError:
        raise ValueError("must be an http(s) URL with a valid host and port") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError("must be an http(s) URL")
    return host, port


def host_allowed(host: str, port: int | None, allowed: tuple[str, ...]) -> bool:
    """True when ``host[:port]`` is listed (a listed bare host allows any port)."""
    host = host.lower()
    return host in allowed or (port is not None and f"{host}:{port}" in allowed)
