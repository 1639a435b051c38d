"""Twilio's recording callback, parsed: its signature and its form fields as call metadata.

Twilio posts form fields when a recording is complete and signs them with
``X-Twilio-Signature`` = base64 HMAC-SHA1(auth token, full URL + each parameter name and
value, sorted by name). The recording is then fetched by the worker from ``RecordingUrl``
with HTTP basic auth (AccountSid, auth token). The HTTP route is ``api.twilio``.

Twilio's callback carries neither the caller's number nor the agent: configure them as
query parameters of the callback URL (``?answered_by=…&caller_number=…&notice_played=true``);
the signature covers the URL, so they cannot be changed on the way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Final

from multidict import MultiDictProxy

from common.errors import ValidationProblem, field_error
from recorder.metadata import CallMetadata, parse_metadata

SIGNATURE_HEADER: Final = "X-Twilio-Signature"
SIGNATURE: Final = re.compile(r"[A-Za-z0-9+/]{27}=")  # base64 of a 20-byte HMAC-SHA1
_ACCOUNT_SID: Final = re.compile(r"^AC[0-9a-f]{32}$")
_RECORDING_SID: Final = re.compile(r"^RE[0-9a-f]{32}$")
MAX_FORM_BYTES: Final = 16 * 1024


def twilio_signature(
    auth_token: str, url: str, params: MultiDictProxy[str] | dict[str, str]
) -> str:
    """The signature Twilio computes for ``url`` and its POST parameters."""
    text = url
    for name in sorted(set(params.keys())):
        values = params.getall(name) if isinstance(params, MultiDictProxy) else [params[name]]
        for value in sorted(set(values)):
            text += name + value
    digest = hmac.new(auth_token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_metadata(
    form: MultiDictProxy[str], query: Mapping[str, str], allowed_hosts: tuple[str, ...]
) -> tuple[CallMetadata, str]:
    """The call's metadata from the signed form and callback URL, and the fetch credential."""
    errors = []
    account = form.get("AccountSid", "")
    if not _ACCOUNT_SID.match(account):
        errors.append(field_error("AccountSid", "missing or not a Twilio account SID"))
    if not _RECORDING_SID.match(form.get("RecordingSid", "")):
        errors.append(field_error("RecordingSid", "missing or not a Twilio recording SID"))
    started = None
    try:
        started = parsedate_to_datetime(form.get("RecordingStartTime", "")).isoformat()
    except (TypeError, ValueError, OverflowError):  # a 24 h offset, a year of 30 digits, …
        errors.append(field_error("RecordingStartTime", "missing or not an RFC 2822 date"))
    if errors:
        raise ValidationProblem(errors)
    meta = parse_metadata(
        {
            "external_id": "twilio:" + form["RecordingSid"],
            "started_at": started,
            "duration_seconds": form.get("RecordingDuration"),
            "answered_by": query.get("answered_by", "unknown"),
            "caller_number": query.get("caller_number"),
            "direction": query.get("direction", "inbound"),
            "channel_layout": "agent-right" if form.get("RecordingChannels") == "2" else "mono",
            "notice_played": query.get("notice_played") == "true",
            "audio_url": form.get("RecordingUrl"),
        },
        require_audio_url=True,
        allowed_hosts=allowed_hosts,
    )
    return meta, "twilio:" + account
