"""Twilio adapter: ``POST /v1/webhooks/twilio/recording-status``.

Twilio posts form fields when a recording is complete and signs them with
``X-Twilio-Signature`` = base64 HMAC-SHA1(auth token, full URL + each parameter name and
value, sorted by name). The recording is then fetched by the worker from ``RecordingUrl``
with HTTP basic auth (AccountSid, auth token).

Twilio's callback carries neither the caller's number nor the agent: configure them as
query parameters of the callback URL (``?answered_by=…&caller_number=…&notice_played=true``);
the signature covers the URL, so they cannot be changed on the way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from email.utils import parsedate_to_datetime
from typing import Final

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from api.appkeys import POOL, SETTINGS
from api.permissions import public
from common.errors import TooLarge, UnsupportedMediaType, ValidationProblem, field_error
from recorder.limits import Pace
from recorder.metadata import CallMetadata, parse_metadata
from recorder.queries import (
    DuplicateRecording,
    ReplayedRequest,
    accept_recording,
    find_by_external_id,
)
from recorder.webhook import Unauthorized, require_writable_store, switched_off

SIGNATURE_HEADER: Final = "X-Twilio-Signature"
_ACCOUNT_SID: Final = re.compile(r"^AC[0-9a-f]{32}$")
_RECORDING_SID: Final = re.compile(r"^RE[0-9a-f]{32}$")
_SIGNATURE: Final = re.compile(r"[A-Za-z0-9+/]{27}=")  # base64 of a 20-byte HMAC-SHA1
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


def _signature_header(request: web.Request) -> str:
    """The header, or 401 before the form is read when it is missing or malformed."""
    given = request.headers.get(SIGNATURE_HEADER)
    if not given:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
    if not _SIGNATURE.fullmatch(given):
        raise Unauthorized(f"{SIGNATURE_HEADER} must be a base64 HMAC-SHA1 (28 characters)")
    return given


def _verify(request: web.Request, form: MultiDictProxy[str], auth_token: str, given: str) -> None:
    url = request.url  # yarl drops a default port; Twilio may have signed with it spelled out
    candidates = {str(url), f"{url.scheme}://{url.host}:{url.port}{url.raw_path_qs}"}
    for candidate in candidates:
        if hmac.compare_digest(twilio_signature(auth_token, candidate, form), given):
            return
    raise Unauthorized("Twilio signature does not match (check the callback URL and auth token)")


def _metadata(request: web.Request, form: MultiDictProxy[str]) -> tuple[CallMetadata, str]:
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
    query = request.query
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
        allowed_hosts=request.app[SETTINGS].fetch_allowed_hosts,
    )
    return meta, "twilio:" + account


@public("authenticated by X-Twilio-Signature")
async def recording_status_callback(request: web.Request) -> web.Response:
    """Accept Twilio's recording callback; only ``completed`` recordings are ingested."""
    token = request.app[SETTINGS].twilio_auth_token
    if token is None:
        raise switched_off("the Twilio adapter", "CALLREC_TWILIO_AUTH_TOKEN")
    given = _signature_header(request)
    if request.content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("Twilio callbacks are application/x-www-form-urlencoded")
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise TooLarge("callback body too large")
    async with Pace.from_settings(request.app[SETTINGS]).deadline(MAX_FORM_BYTES):
        form = await request.post()
    fields = MultiDictProxy(MultiDict((k, v) for k, v in form.items() if isinstance(v, str)))
    _verify(request, fields, token.reveal(), given)
    if fields.get("RecordingStatus") != "completed":
        return web.json_response({"status": "ignored"}, status=200)
    meta, fetch_auth = _metadata(request, fields)
    await require_writable_store(request)
    pool = request.app[POOL]
    signature = given.encode() + fields["RecordingSid"].encode()
    try:
        recording_id = await accept_recording(pool, meta, None, signature, fetch_auth=fetch_auth)
    except DuplicateRecording:
        existing, status = await find_by_external_id(pool, meta.external_id)
        return web.json_response({"id": str(existing), "status": status}, status=200)
    except ReplayedRequest:
        raise Unauthorized("this signed callback was already used") from None
    return web.json_response({"id": str(recording_id), "status": "received"}, status=202)


def add_routes(app: web.Application) -> None:
    """Register the Twilio route."""
    app.router.add_post("/v1/webhooks/twilio/recording-status", recording_status_callback)
