"""Redaction spans for the data protection officer (ARCHITECTURE.md section 8).

* ``POST /v1/recordings/{id}/redactions`` {start_seconds, end_seconds, channel, reason}:
  silence a span of one channel (``agent``, ``customer``: stereo calls whose layout says
  which is which) or of ``both``; 201 with the span's id. A span overlapping or touching a
  span of the same channel is merged with it: the answer says ``merged`` and lists the ids
  that were absorbed, and the span returned covers them all.
* ``GET /v1/recordings/{id}/redactions``: ``{"items": […], "rendition":
  "none|pending|ready|failed"}``.
* ``DELETE /v1/recordings/{id}/redactions/{redaction_id}``: 204.

``PUT /v1/subject-requests/{id}/recordings/{recording_id}/export`` {export, reason}: the
copy an access export carries (:mod:`rights.export_choices`).

Whenever a call has spans, training (``purpose=training``, a trainer's waveform) gets the
redacted rendition only: :func:`training_rendition`, :func:`training_waveform`.

Each change queues the redacted rendition again and is audited (times and channel, never
the reason: it is the DPO's free text about people, kept only with the span). The list is
audited too, since the reasons are personal data.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Final

from aiohttp import web
from pydantic import Field

from accounts.roles import Permission
from api.appkeys import CURRENT_USER, POOL, VAULT, field_cipher
from api.auditing import record_access
from api.bodies import json_body, takes
from api.permissions import requires
from common.errors import Conflict, NotFound, ValidationProblem, field_error
from common.inputs import parse_id
from common.models import Body, OneOf, Text
from recorder import redaction
from retention.reaper import delete_after_commit
from rights import export_choices
from storage.db import Pool
from storage.vault import SealedObject, load_sealed

MAX_REASON: Final = 2000
LONGEST_CALL: Final = 48 * 3600
CHANNELS: Final = ("both", "agent", "customer")
Seconds = Annotated[
    float,
    Field(ge=0, le=LONGEST_CALL, allow_inf_nan=False, description="seconds from the call's start"),
]


class RedactionSpan(Body):
    """A span to silence, on which channel, and why."""

    start_seconds: Seconds
    end_seconds: Seconds
    channel: Annotated[
        str,
        OneOf(CHANNELS, "both, agent or customer (agent and customer on stereo calls only)"),
    ] = "both"
    reason: Annotated[
        str, Text(MAX_REASON), Field(description=f"why, in 1-{MAX_REASON} characters")
    ]


def _millis(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.001"))


def _check(span: RedactionSpan, shape: redaction.CallShape) -> tuple[Decimal, Decimal]:
    """The span's bounds, or one 422 naming every field that does not fit this call."""
    if shape.status != "ready" or shape.duration_seconds is None:
        raise Conflict("the recording is not processed yet; mark spans once it plays")
    start, end = _millis(span.start_seconds), _millis(span.end_seconds)
    duration = shape.duration_seconds
    errors = []
    if start >= duration:
        errors.append(field_error("start_seconds", f"must be before the call ends ({duration} s)"))
    if end > duration:
        errors.append(field_error("end_seconds", f"the call ends at {duration} s"))
    if end <= start:
        errors.append(field_error("end_seconds", "must be after start_seconds"))
    if span.channel != "both" and not shape.per_channel:
        errors.append(
            field_error("channel", "this call does not keep agent and customer apart: use both")
        )
    if errors:
        raise ValidationProblem(errors)
    return start, end


@requires(Permission.REDACT_RECORDINGS)
@takes(RedactionSpan)
async def add_route(request: web.Request) -> web.Response:
    """Mark a span of the call to silence in its redacted rendition (merged with the spans of
    the same channel it overlaps or touches)."""
    recording_id = parse_id(request.match_info["id"])
    span = await json_body(request, RedactionSpan)
    cipher = field_cipher(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        shape = await redaction.lock_recording(conn, recording_id)
        if shape is None:
            raise NotFound("no such recording")
        start, end = _check(span, shape)
        added = await redaction.add_span(
            conn,
            cipher,
            recording_id,
            start,
            end,
            span.channel,  # type: ignore[arg-type]  # OneOf checked it
            span.reason,
            request[CURRENT_USER].id,
        )
        await record_access(
            request,
            "recording.redaction_add",
            object_type="recording",
            object_id=recording_id,
            details={
                "redaction_id": str(added.span.id),
                "start": str(added.span.start_seconds),
                "end": str(added.span.end_seconds),
                "channel": added.span.channel,
                "merged": len(added.merged),
            },
            conn=conn,
        )
    document = added.span.as_json() | {
        "merged": bool(added.merged),
        "merged_ids": [str(i) for i in added.merged],
        "rendition": "pending",
    }
    return web.json_response(document, status=201)


@requires(Permission.REDACT_RECORDINGS)
async def list_route(request: web.Request) -> web.Response:
    """The call's spans in time order, and the state of its redacted rendition."""
    recording_id = parse_id(request.match_info["id"])
    pool, cipher = request.app[POOL], field_cipher(request)
    async with pool.acquire() as conn, conn.transaction():
        if await redaction.lock_recording(conn, recording_id) is None:
            raise NotFound("no such recording")
        spans = await redaction.spans_of(conn, cipher, recording_id)
        rendition = await redaction.rendition_of(conn, recording_id)
        await record_access(
            request,
            "recording.redaction_list",
            object_type="recording",
            object_id=recording_id,
            details={"spans": len(spans)},
            conn=conn,
        )
    return web.json_response({"items": [s.as_json() for s in spans], "rendition": rendition.status})


@requires(Permission.REDACT_RECORDINGS)
async def delete_route(request: web.Request) -> web.Response:
    """Remove a span; the rendition is rendered again (or shredded when no span is left)."""
    recording_id = parse_id(request.match_info["id"])
    span_id = parse_id(request.match_info["redaction_id"], "redaction_id")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if await redaction.lock_recording(conn, recording_id) is None:
            raise NotFound("no such recording")
        covered, shredded = await redaction.remove_span(conn, recording_id, span_id)
        if covered is None:
            raise NotFound("no such redaction span on this recording")
        await record_access(
            request,
            "recording.redaction_remove",
            object_type="recording",
            object_id=recording_id,
            details={"redaction_id": str(span_id), **covered},
            conn=conn,
        )
    await delete_after_commit(request.app[POOL], request.app[VAULT].store, shredded)
    return web.Response(status=204)


class ExportChoiceBody(Body):
    """The copy of a call an access export carries, and why."""

    export: Annotated[
        str, OneOf(("original", "redacted"), "original, or redacted (the spans silenced)")
    ]
    reason: Annotated[
        str, Text(MAX_REASON), Field(description=f"why, in 1-{MAX_REASON} characters")
    ]


@requires(Permission.MANAGE_SUBJECT_REQUESTS)
@takes(ExportChoiceBody)
async def export_choice_route(request: web.Request) -> web.Response:
    """``PUT /v1/subject-requests/{id}/recordings/{recording_id}/export`` {export, reason}:
    hand out the redacted rendition of this call in this access request's export (Art. 15(4):
    the rights of others), or the original again. The export's recordings.json and index say
    which copy each call is and why; the audit entry says who decided."""
    request_id = parse_id(request.match_info["id"])
    recording_id = parse_id(request.match_info["recording_id"], "recording_id")
    body = await json_body(request, ExportChoiceBody)
    cipher = field_cipher(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        state = await export_choices.request_state(conn, request_id)
        if state is None:
            raise NotFound("no such subject request")
        kind, status = state
        if kind != "access" or status in ("completed", "denied"):
            raise Conflict(f"only an open access request takes this; this one is {kind}, {status}")
        if await redaction.lock_recording(conn, recording_id) is None:
            raise NotFound("no such recording")
        if body.export == "redacted":
            rendition = await redaction.rendition_of(conn, recording_id)
            if rendition.status != "ready":
                raise Conflict(
                    "the call has no redacted version ready "
                    f"({'no spans marked' if rendition.status == 'none' else rendition.status})",
                    slug="redaction-pending",
                    title="Redacted version not ready",
                )
        choice = export_choices.Choice(body.export, body.reason)  # type: ignore[arg-type]
        await export_choices.choose(
            conn, cipher, request_id, recording_id, choice, request[CURRENT_USER].id
        )
        await record_access(
            request,
            "subject_request.export_choice",
            object_type="subject_request",
            object_id=request_id,
            details={"recording_id": str(recording_id), "export": body.export},
            conn=conn,
        )
    return web.json_response(
        {"request_id": str(request_id), "recording_id": str(recording_id), "export": body.export}
    )


def add_routes(app: web.Application) -> None:
    """Register the redaction routes."""
    app.router.add_post("/v1/recordings/{id}/redactions", add_route)
    app.router.add_get("/v1/recordings/{id}/redactions", list_route)
    app.router.add_delete("/v1/recordings/{id}/redactions/{redaction_id}", delete_route)
    app.router.add_put(
        "/v1/subject-requests/{id}/recordings/{recording_id}/export", export_choice_route
    )


async def training_rendition(pool: Pool, recording_id: uuid.UUID) -> SealedObject | None:
    """What training plays: None when the call has no spans (the original), else the redacted
    rendition; a 409 while it is being rendered or failed, so the original never stands in."""
    rendition = await redaction.rendition_of(pool, recording_id)
    if rendition.status == "none":
        return None
    sealed = None
    if rendition.status == "ready" and rendition.audio_object_id is not None:
        sealed = await load_sealed(pool, rendition.audio_object_id)
    if sealed is None:
        raise Conflict(
            "the call has redaction spans and its redacted version is "
            f"{'being prepared' if rendition.status == 'pending' else 'not available'}; "
            "training plays only the redacted version: try again shortly",
            slug="redaction-pending",
            title="Redacted version not ready",
        )
    return sealed


async def training_waveform(pool: Pool, recording_id: uuid.UUID) -> dict[str, Any] | None:
    """The redacted rendition's peaks when the call has spans (409 while pending); None: the
    call has no spans, the original's peaks are the training ones."""
    rendition = await redaction.rendition_of(pool, recording_id)
    if rendition.status == "none":
        return None
    if rendition.status != "ready" or rendition.waveform is None:
        raise Conflict(
            "the call has redaction spans and its redacted waveform is not ready yet",
            slug="redaction-pending",
            title="Redacted version not ready",
        )
    return rendition.waveform
