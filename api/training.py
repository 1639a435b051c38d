"""The trainer's workspace: notes at a moment of a call, and collections of released calls.

A note is personal data of the agent who answered the call: its text is sealed at rest,
and every write and read of notes is audited. A trainer reaches only calls released for
training (others are 404, audited, as everywhere); the data protection officer may annotate
any call. Collections hold released calls only, and a call leaves them when its release is
withdrawn (``api.recordings``) or when it is erased.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Final

from aiohttp import web
from pydantic import AfterValidator, Field

from accounts.roles import Permission
from api.appkeys import CURRENT_USER, POOL, field_cipher
from api.auditing import record_access, refuse
from api.bodies import json_body, takes
from api.pagination import (
    NOT_A_CURSOR,
    decode_cursor,
    encode_cursor,
    next_time_cursor,
    page_limit,
    time_cursor_or_start,
)
from api.permissions import requires
from api.recordings import visible_recording
from common.errors import Conflict, NotFound, ValidationProblem, field_error
from common.inputs import FieldErrors, parse_id
from common.models import Body, Id, Text
from common.models import refuse as refuse_field
from recorder.annotations import MAX_TEXT, add_annotation, list_annotations
from recorder.collections import (
    MAX_NAME,
    DuplicateName,
    add_item,
    collection_items,
    create_collection,
    get_collection,
    list_collections,
    remove_item,
)

LONGEST_CALL_SECONDS: Final = 86_400


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise refuse_field("a number of seconds from the start of the call")
    return value


class NewAnnotation(Body):
    """A note at a moment of the call."""

    at_seconds: Annotated[
        float,
        AfterValidator(_finite),
        Field(
            ge=0,
            le=LONGEST_CALL_SECONDS,
            description="seconds from the start of the call, within the call",
        ),
    ]
    text: Annotated[str, Text(MAX_TEXT), Field(description=f"the note, 1-{MAX_TEXT} characters")]


class NewCollection(Body):
    """A collection of released calls, e.g. a course."""

    name: Annotated[str, Text(MAX_NAME), Field(description=f"1-{MAX_NAME} characters")]


class NewItem(Body):
    """A released call to put into the collection."""

    recording_id: Id


def _note_cursor(raw: str | None) -> tuple[int, uuid.UUID] | None:
    """The ``(at_ms, id)`` after which a page of notes continues."""
    key = decode_cursor(raw, 2)
    if key is None:
        return None
    if not isinstance(key[0], int) or not isinstance(key[1], str):
        raise ValidationProblem([field_error("cursor", NOT_A_CURSOR)])
    try:
        return key[0], uuid.UUID(key[1])
    except ValueError:
        raise ValidationProblem([field_error("cursor", NOT_A_CURSOR)]) from None


@requires(Permission.ANNOTATE_TRAINING)
@takes(NewAnnotation)
async def add_annotation_route(request: web.Request) -> web.Response:
    """``POST /v1/recordings/{id}/annotations`` {at_seconds, text}: a note at a moment of the
    call (a trainer: released calls only). The text is sealed; the write is audited."""
    recording = await visible_recording(request)
    body = await json_body(request, NewAnnotation)
    if body.at_seconds > recording.duration_seconds:
        raise ValidationProblem(
            [field_error("at_seconds", f"within the call: 0 to {recording.duration_seconds:g}")]
        )
    cipher = field_cipher(request)
    user = request[CURRENT_USER]
    at_ms = round(body.at_seconds * 1000)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        note_id, created = await add_annotation(
            conn, cipher, recording.id, at_ms, body.text, user.id
        )
        await record_access(
            request,
            "recording.annotate",
            object_type="recording",
            object_id=recording.id,
            details={"annotation": str(note_id)},
            conn=conn,
        )
    document = {
        "id": str(note_id),
        "recording_id": str(recording.id),
        "at_seconds": at_ms / 1000,
        "text": body.text,
        "author": user.username,
        "created_at": created.isoformat(),
    }
    return web.json_response(document, status=201)


@requires(Permission.ANNOTATE_TRAINING)
async def list_annotations_route(request: web.Request) -> web.Response:
    """``GET /v1/recordings/{id}/annotations?cursor=&limit=``: the call's notes in time order
    (a trainer: released calls only). Reading them is audited."""
    recording = await visible_recording(request)
    errors = FieldErrors()
    limit = errors.take(lambda: page_limit(request.query))
    after = errors.take(lambda: _note_cursor(request.query.get("cursor")))
    errors.raise_any()
    assert limit is not None
    notes = await list_annotations(
        request.app[POOL], field_cipher(request), recording.id, after, limit
    )
    await record_access(
        request, "recording.annotations_read", object_type="recording", object_id=recording.id
    )
    last = notes[-1] if len(notes) == limit else None
    return web.json_response(
        {
            "items": [note.as_json() for note in notes],
            "next": None if last is None else encode_cursor(last.at_ms, str(last.id)),
        }
    )


@requires(Permission.KEEP_TRAINING_COLLECTIONS)
@takes(NewCollection)
async def create_collection_route(request: web.Request) -> web.Response:
    """``POST /v1/training/collections`` {name}: a new collection, shared with every trainer;
    a name already taken (whatever its case) is a 409."""
    body = await json_body(request, NewCollection)
    user = request[CURRENT_USER]
    async with request.app[POOL].acquire() as conn, conn.transaction():
        try:
            collection = await create_collection(conn, body.name, user.id)
        except DuplicateName:
            raise Conflict("a collection of this name exists already; choose another") from None
        await record_access(
            request,
            "training.collection_create",
            object_type="training_collection",
            object_id=collection["id"],
            conn=conn,
        )
    return web.json_response(collection | {"created_by": user.username}, status=201)


@requires(Permission.KEEP_TRAINING_COLLECTIONS)
async def list_collections_route(request: web.Request) -> web.Response:
    """``GET /v1/training/collections?cursor=&limit=``: every collection, newest first, with
    how many calls each holds."""
    limit, before = _newest_first_page(request)
    items = await list_collections(request.app[POOL], before, limit)
    return web.json_response({"items": items, "next": next_time_cursor(items, limit, "created_at")})


def _newest_first_page(request: web.Request) -> tuple[int, tuple[datetime, uuid.UUID]]:
    """``?limit=`` and ``?cursor=`` of a newest-first list, or one 422 naming both."""
    errors = FieldErrors()
    limit = errors.take(lambda: page_limit(request.query))
    before = errors.take(lambda: time_cursor_or_start(request.query.get("cursor")))
    errors.raise_any()
    assert limit is not None
    assert before is not None
    return limit, before


async def _collection(request: web.Request) -> dict[str, Any]:
    found = await get_collection(request.app[POOL], parse_id(request.match_info["id"]))
    if found is None:
        raise NotFound("no such collection")
    return found


@requires(Permission.KEEP_TRAINING_COLLECTIONS)
async def collection_route(request: web.Request) -> web.Response:
    """``GET /v1/training/collections/{id}?cursor=&limit=``: one collection and its calls,
    the last added first (``items``, paged by ``next``)."""
    limit, before = _newest_first_page(request)
    collection = await _collection(request)
    items = await collection_items(request.app[POOL], uuid.UUID(collection["id"]), before, limit)
    return web.json_response(
        collection
        | {"items": items, "next": next_time_cursor(items, limit, "added_at", "recording_id")}
    )


@requires(Permission.KEEP_TRAINING_COLLECTIONS)
@takes(NewItem)
async def add_item_route(request: web.Request) -> web.Response:
    """``POST /v1/training/collections/{id}/items`` {recording_id}: put a call released for
    training into the collection (201; 200 when it was there already)."""
    collection_id = parse_id(request.match_info["id"])
    body = await json_body(request, NewItem)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        outcome = await add_item(conn, collection_id, body.recording_id, request[CURRENT_USER].id)
        if outcome == "added":
            await record_access(
                request,
                "training.collection_add",
                object_type="recording",
                object_id=body.recording_id,
                details={"collection": str(collection_id)},
                conn=conn,
            )
    if outcome == "no_collection":
        raise NotFound("no such collection")
    if outcome == "no_recording":
        await refuse(
            request,
            NotFound("no such recording released for training"),
            object_type="recording",
            object_id=body.recording_id,
        )
    document = {"collection_id": str(collection_id), "recording_id": str(body.recording_id)}
    return web.json_response(document, status=201 if outcome == "added" else 200)


@requires(Permission.KEEP_TRAINING_COLLECTIONS)
async def remove_item_route(request: web.Request) -> web.Response:
    """``DELETE /v1/training/collections/{id}/items/{recording_id}``: take a call out of the
    collection (204; 404 when it is not in it)."""
    errors = FieldErrors()
    collection_id = errors.take(lambda: parse_id(request.match_info["id"], "id"))
    recording_id = errors.take(lambda: parse_id(request.match_info["recording_id"], "recording_id"))
    errors.raise_any()
    assert collection_id is not None
    assert recording_id is not None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if not await remove_item(conn, collection_id, recording_id):
            raise NotFound("no such call in this collection")
        await record_access(
            request,
            "training.collection_remove",
            object_type="recording",
            object_id=recording_id,
            details={"collection": str(collection_id)},
            conn=conn,
        )
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    """Register the workspace's routes."""
    app.router.add_post("/v1/recordings/{id}/annotations", add_annotation_route)
    app.router.add_get("/v1/recordings/{id}/annotations", list_annotations_route)
    app.router.add_post("/v1/training/collections", create_collection_route)
    app.router.add_get("/v1/training/collections", list_collections_route)
    app.router.add_get("/v1/training/collections/{id}", collection_route)
    app.router.add_post("/v1/training/collections/{id}/items", add_item_route)
    app.router.add_delete("/v1/training/collections/{id}/items/{recording_id}", remove_item_route)
