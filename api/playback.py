"""Seekable playback and download of encrypted recordings.

``GET /v1/recordings/{id}/audio?purpose=…`` streams the Opus rendition with HTTP Range
support: only the 64 KiB encrypted chunks that cover the asked bytes are fetched and
decrypted, so a seek into an hour-long call costs the same as the first second. The
purpose is required and must belong to the caller's task (customer service verifies
content; trainers train on released calls; the data protection officer answers subject
requests and legal matters). Every answer that carries audio writes an audit entry first:
``recording.play`` here, ``recording.download`` for the data protection officer's
attachment download, so a listen and a copy are told apart. The first chunk is decrypted
and authenticated before that entry: audio that fails its check is answered with a 502
``integrity-error`` and audited as ``failed``; a later chunk that fails cuts the connection
and adds a ``failed`` entry saying how many bytes went out. A call with redaction spans
plays for ``training`` from its redacted rendition only (409 while that is being rendered).
``&rendition=redacted`` lets the data protection officer preview that rendition under any of
their purposes before releasing the call (the console's redaction panel); it is audited as such.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from functools import partial
from typing import Final

from aiohttp import web

from accounts.roles import ALL_PURPOSES, Permission, purposes_of
from api.appkeys import CURRENT_USER, POOL, VAULT
from api.auditing import record_access, refuse
from api.integrity import authenticated_first, send_all
from api.permissions import Forbidden, requires
from api.ranges import ranged
from api.recordings import visible_recording
from api.redactions import training_rendition
from audit.log import DetailValue
from common.errors import Problem
from common.inputs import parse_id
from storage.vault import SealedObject, load_sealed

CONTENT_TYPE: Final = "audio/ogg; codecs=opus"


async def claimed_purpose(request: web.Request, use: str = "play") -> str:
    """The ``?purpose=`` of a use of a recording (``play``, ``read the transcript of``), if
    it belongs to the caller's task; else a 422, or a 403 that is audited."""
    purpose = request.query.get("purpose")
    if purpose not in ALL_PURPOSES:
        raise Problem(
            f"say why you {use} the recording: ?purpose= one of {', '.join(ALL_PURPOSES)}",
            slug="purpose-required",
            title="Purpose required",
        )
    if purpose not in purposes_of(request[CURRENT_USER].roles):
        # the parsed id, never the raw path: whatever was typed there would stay in the log
        object_id = parse_id(request.match_info["id"])
        await refuse(
            request,
            Forbidden(f"your role may not {use} recordings for the purpose {purpose!r}"),
            object_type="recording",
            object_id=object_id,
            purpose=purpose,
        )
    return purpose


RENDITIONS: Final = ("original", "redacted")


def _preview(request: web.Request) -> bool:
    """``?rendition=redacted``: the redacted rendition asked for by name (the DPO's preview)."""
    rendition = request.query.get("rendition", "original")
    if rendition not in RENDITIONS:
        raise Problem(
            f"?rendition= is one of {', '.join(RENDITIONS)}",
            slug="unknown-rendition",
            title="Unknown rendition",
        )
    return rendition == "redacted"


ByteSource = Callable[[SealedObject, int, int], AsyncGenerator[bytes, None]]


async def serve_audio(
    request: web.Request, *, action: str, attachment: bool, read: ByteSource | None = None
) -> web.StreamResponse:
    """Check purpose, role and object; audit; then stream the asked bytes.

    ``read`` yields plaintext bytes ``[start, end)`` of the object; the vault's random-access
    decryption unless a benchmark swaps in an unencrypted copy to measure what crypto costs.
    """
    purpose = await claimed_purpose(request)
    preview = _preview(request)
    if preview and Permission.REDACT_RECORDINGS not in request[CURRENT_USER].permissions:
        await refuse(
            request,
            Forbidden("only the data protection officer previews the redacted rendition"),
            object_type="recording",
            object_id=request.match_info["id"],
            purpose=purpose,
        )
    recording = await visible_recording(request, purpose=purpose)
    sealed = None
    redacted = (purpose == "training" or preview) and recording.status == "ready"
    if redacted:  # a call with redaction spans trains with its redacted rendition only
        sealed = await training_rendition(request.app[POOL], recording.id)
        redacted = sealed is not None
    if preview and not redacted:
        raise Problem(
            "the call has no redaction spans: there is no redacted rendition to preview",
            status=409,
            slug="no-redacted-rendition",
            title="No redacted rendition",
        )
    if sealed is None and recording.audio_object_id is not None:
        sealed = await load_sealed(request.app[POOL], recording.audio_object_id)
    if sealed is None:
        raise Problem(
            f"the recording is {recording.status}, not ready to play yet",
            status=409,
            slug="not-ready",
            title="Not ready",
        )
    asked = ranged(request, sealed.plaintext_size, sealed.plaintext_sha256)
    served = asked.served
    details: dict[str, DetailValue] = {
        "start": served.start,
        "end": served.end,
        "length": served.length,
    }
    if redacted:
        details["rendition"] = "redacted"
    audit_play = partial(_audit_play, request, action, recording.id, purpose, details)
    pieces = (read or request.app[VAULT].open_range)(sealed, served.start, served.end)
    async with aclosing(pieces):
        first = await authenticated_first(pieces, audit_play)
        await audit_play()
        disposition = "attachment" if attachment else "inline"
        response = asked.response(
            content_type=CONTENT_TYPE, disposition=f'{disposition}; filename="{recording.id}.ogg"'
        )
        await send_all(request, response, first, pieces, audit_play)
    return response


async def _audit_play(
    request: web.Request,
    action: str,
    recording_id: object,
    purpose: str,
    details: dict[str, DetailValue],
    failure: Exception | None = None,
    sent: int = 0,
) -> None:
    """The audit entry of a play or download; a failed one names the error and how many
    bytes went out."""
    if failure is not None:
        details = {**details, "sent": sent, "error": type(failure).__name__}
    await record_access(
        request,
        action,
        outcome="ok" if failure is None else "failed",
        object_type="recording",
        object_id=recording_id,
        purpose=purpose,
        details=details,
    )


@requires(Permission.PLAY_RECORDINGS)
async def audio_route(request: web.Request) -> web.StreamResponse:
    """``GET /v1/recordings/{id}/audio?purpose=``: play, with Range for seeking."""
    return await serve_audio(request, action="recording.play", attachment=False)


@requires(Permission.DOWNLOAD_RECORDINGS)
async def download_route(request: web.Request) -> web.StreamResponse:
    """``GET /v1/recordings/{id}/download?purpose=``: the file as an attachment (DPO)."""
    return await serve_audio(request, action="recording.download", attachment=True)


def add_routes(app: web.Application) -> None:
    """Register the playback routes."""
    app.router.add_get("/v1/recordings/{id}/audio", audio_route, allow_head=False)
    app.router.add_get("/v1/recordings/{id}/download", download_route, allow_head=False)
