"""``POST /v1/webhooks/twilio/recording-status``: the HTTP side of the Twilio adapter.

The signature and the form's meaning are :mod:`recorder.twilio`'s; this module checks the
request's shape and limits, verifies the signature over the URL as Twilio saw it, and
accepts the recording the same way the v1 webhook does.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from api.appkeys import POOL, SETTINGS
from api.permissions import public
from api.webhook import Unauthorized, require_writable_store, switched_off
from common.errors import TooLarge, UnsupportedMediaType
from recorder.limits import Pace
from recorder.queries import (
    DuplicateRecording,
    ReplayedRequest,
    accept_recording,
    find_by_external_id,
)
from recorder.twilio import (
    MAX_FORM_BYTES,
    SIGNATURE,
    SIGNATURE_HEADER,
    twilio_metadata,
    twilio_signature,
)


def _signature_header(request: web.Request) -> str:
    """The header, or 401 before the form is read when it is missing or malformed."""
    given = request.headers.get(SIGNATURE_HEADER)
    if not given:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
    if not SIGNATURE.fullmatch(given):
        raise Unauthorized(f"{SIGNATURE_HEADER} must be a base64 HMAC-SHA1 (28 characters)")
    return given


def _verify(request: web.Request, form: MultiDictProxy[str], auth_token: str, given: str) -> None:
    url = request.url  # yarl drops a default port; Twilio may have signed with it spelled out
    candidates = {str(url), f"{url.scheme}://{url.host}:{url.port}{url.raw_path_qs}"}
    for candidate in candidates:
        if hmac.compare_digest(twilio_signature(auth_token, candidate, form), given):
            return
    raise Unauthorized("Twilio signature does not match (check the callback URL and auth token)")


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
    meta, fetch_auth = twilio_metadata(
        fields, request.query, request.app[SETTINGS].fetch_allowed_hosts
    )
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
