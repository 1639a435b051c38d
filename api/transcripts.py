"""``GET /v1/recordings/{id}/transcript?purpose=``: a call's transcript, read as its audio is
played (ARCHITECTURE.md section 8).

The purpose and the role are checked as for playback (:func:`api.playback.claimed_purpose`):
customer service verifies content, trainers read released calls for training, the data
protection officer answers subject requests and legal matters. A call with redaction spans
reads for ``training`` with every word said inside a span, on its channel, replaced by
``[redacted]``; while its redacted rendition is being rendered (or failed) training gets a 409,
as its playback does, so spans and audio never disagree. Every answer is audited
(``recording.transcript``, with the purpose and the state; never a word).

The answer: ``{"status": "none|off|pending|ready|failed", "language", "segments": [...]}``,
with ``error`` (a public reason) when failed; ``segments`` is empty unless ready. See
:mod:`api.transcript_state` for what each status means.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp import web

from accounts.roles import Permission
from api.appkeys import POOL, SETTINGS, TERM_KEYS, VAULT
from api.auditing import record_access
from api.integrity import UNSERVABLE, IntegrityError
from api.permissions import requires
from api.playback import claimed_purpose
from api.recordings import visible_recording
from api.redactions import training_rendition
from api.transcript_search import TermKeys, sealed_unavailable
from api.transcript_state import transcript_state
from audit.log import DetailValue
from common.errors import NotFound
from recorder.redaction import cuts_of
from storage.db import Pool
from transcripts import store
from transcripts.document import Span, Transcript
from transcripts.reading import TranscriptGone, open_transcript


async def training_spans(pool: Pool, recording_id: uuid.UUID) -> list[Span]:
    """The spans a trainer's transcript masks (none when the call has none); the 409 of
    training playback while the redacted rendition is not ready."""
    if await training_rendition(pool, recording_id) is None:
        return []
    return [
        Span(float(cut.start_seconds), float(cut.end_seconds), cut.channel)
        for cut in await cuts_of(pool, recording_id)
    ]


@requires(Permission.PLAY_RECORDINGS)
async def transcript_route(request: web.Request) -> web.Response:
    """``GET /v1/recordings/{id}/transcript?purpose=``: the call's transcript, per channel with
    word times, for a purpose of the caller's task; trainers read redaction spans as
    ``[redacted]``.

    ``status`` is ``ready`` (with ``language`` and ``segments``), ``pending`` (queued or the
    call is still being processed), ``failed`` (with a public ``error``), ``off``
    (transcription is off and the call has none) or ``none`` (processed without one).
    """
    purpose = await claimed_purpose(request, "read the transcript of")
    recording = await visible_recording(request, purpose=purpose)
    pool = request.app[POOL]
    header = await store.header_of(pool, recording.id)
    state = transcript_state(header, recording, transcribe=request.app[SETTINGS].transcribe)
    document: dict[str, Any] = {"status": state, "language": None, "segments": []}
    details: dict[str, DetailValue] = {"status": state}
    if header is not None and state == "failed":
        document["error"] = header.error
    if header is not None and state == "ready":
        spans = await training_spans(pool, recording.id) if purpose == "training" else []
        transcript = await _opened(request, header, purpose)
        # masking and shaping a long call's words is CPU work: off the event loop
        document |= await asyncio.to_thread(lambda: transcript.redacted(spans).as_json())
        if spans:
            details["redacted"] = True
    await record_access(
        request,
        "recording.transcript",
        object_type="recording",
        object_id=recording.id,
        purpose=purpose,
        details=details,
    )
    return web.json_response(document)


async def _opened(request: web.Request, header: store.Header, purpose: str) -> Transcript:
    """The sealed transcript opened; a 503 where the keyring cannot open it, a 404 when it was
    erased meanwhile, a 502 (audited as failed) when its object fails its check."""
    vault = request.app[VAULT]
    if not vault.keyring.can_open:
        raise sealed_unavailable("open transcripts")
    try:
        return await open_transcript(request.app[POOL], vault, header)
    except TranscriptGone:
        raise NotFound("the recording's transcript was erased") from None
    except UNSERVABLE as exc:
        await record_access(
            request,
            "recording.transcript",
            outcome="failed",
            object_type="recording",
            object_id=header.recording_id,
            purpose=purpose,
            details={"status": "ready", "error": type(exc).__name__},
        )
        raise IntegrityError from None


def add_routes(app: web.Application) -> None:
    """Register the transcript route, and the index key the search unwraps once."""
    app[TERM_KEYS] = TermKeys()
    app.router.add_get("/v1/recordings/{id}/transcript", transcript_route, allow_head=False)
