"""Recordings for staff: list, search, detail, waveform and release for training.

Who sees what (ARCHITECTURE.md section 5):

* customer service and the data protection officer see every recording with its caller
  identity;
* a trainer sees only recordings released for training, and never the caller number, the
  customer or the agent: a recording not released does not exist for them (404), and the
  attempt is audited.

Personal identifiers (caller numbers) are searched for in a POST body, never in a URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Final, TypeVar

from aiohttp import web
from pydantic import AfterValidator, BeforeValidator, Field

from accounts.roles import Permission
from accounts.users import display_names_of
from api.appkeys import CURRENT_USER, POOL, SETTINGS, TERM_KEYS, VAULT, field_cipher
from api.auditing import record_access, refuse
from api.bodies import json_body, takes
from api.customers import with_customer_names
from api.integrity import UNSERVABLE, IntegrityError
from api.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    TimeCursor,
    decode_time_cursor,
    encode_time_cursor,
    page_limit,
)
from api.permissions import Forbidden, requires
from api.redactions import training_waveform
from api.transcript_search import SearchTextField, search_page
from api.transcript_state import transcript_state
from audit.log import DetailValue
from common.errors import NotFound, ValidationProblem, field_error
from common.inputs import FieldErrors, parse_id, parse_time
from common.models import Between, Body, Id, Text, Time
from common.models import refuse as refuse_field
from recorder.catalog import (
    Recording,
    RecordingFilter,
    get_recording,
    get_waveform,
    list_recordings,
    release_reason,
    set_training_release,
)
from recorder.collections import delete_of_recordings as remove_from_collections
from recorder.redaction import has_spans, lock_recording
from register.phones import normalise_phone
from storage.db import Connection, Pool
from transcripts.store import header_of

MAX_REASON: Final = 2000
T = TypeVar("T")


def sees_identity(request: web.Request) -> bool:
    """Whether the caller's roles show who called and who answered (not a trainer's view)."""
    return Permission.LIST_RECORDINGS in request[CURRENT_USER].permissions


async def visible_recording(request: web.Request, *, purpose: str | None = None) -> Recording:
    """The recording named in the path, if this caller may see it; else 404 (audited).

    This is the object-level check: it sits next to the query that loads the recording.
    A recording not released for training exists neither for a trainer's view nor for
    anyone's ``training`` purpose.
    """
    recording_id = parse_id(request.match_info["id"])
    recording = await get_recording(request.app[POOL], recording_id)
    if recording is None:
        raise NotFound("no such recording")
    training_only = not sees_identity(request) or purpose == "training"
    if training_only and not recording.released_for_training:
        await refuse(
            request,
            NotFound("no such recording released for training"),
            object_type="recording",
            object_id=recording_id,
            purpose=purpose,
        )
    return recording


async def _with_agent_names(
    pool: Pool, recordings: list[Recording], items: list[dict[str, Any]]
) -> None:
    """Put ``agent_name`` (the matched account's name, null when no account matched) beside
    ``answered_by``, which is what the telephony sent: often just an extension like 201."""
    ids = {r.answered_by_user_id for r in recordings if r.answered_by_user_id}
    names = await display_names_of(pool, ids)
    for recording, item in zip(recordings, items, strict=True):
        agent = recording.answered_by_user_id
        item["agent_name"] = None if agent is None else names.get(agent)


def summary(recording: Recording, *, identity: bool, caller: bool = False) -> dict[str, Any]:
    """A list item: ids and dates, plus the customer id when the viewer may see it.

    With ``caller`` (the search's answer, whose filters travel in a body) also the agent and
    the caller number, by which staff look for a call; the GET list stays ids and dates.
    """
    item: dict[str, Any] = {
        "id": str(recording.id),
        "started_at": recording.started_at.isoformat(),
        "duration_seconds": recording.duration_seconds,
        "status": recording.status,
        "released_for_training": recording.released_for_training,
    }
    if identity:
        item["customer_id"] = _str(recording.customer_id)
    if identity and caller:
        item |= {"answered_by": recording.answered_by, "caller_number": recording.caller_number}
    return item


def detail(recording: Recording, *, identity: bool, reason: str | None) -> dict[str, Any]:
    """Everything about one recording that the viewer may see; ``reason`` is its training
    release reason, opened."""
    document = summary(recording, identity=identity) | {
        "direction": recording.direction,
        "channel_layout": recording.channel_layout,
        "channels": recording.channels,
        "audio_format": recording.audio_format,
        "playable": recording.audio_object_id is not None,
        "training_release": (
            {
                "released_at": recording.training_released_at.isoformat(),
                "reason": reason,
                "redaction_reviewed": recording.training_redaction_reviewed,
            }
            if recording.training_released_at is not None
            else None
        ),
    }
    if identity:
        document |= {
            "caller_number": recording.caller_number,
            "service_line": recording.service_line,
            "answered_by": recording.answered_by,
            "answered_by_user_id": _str(recording.answered_by_user_id),
            "customer_link": recording.customer_link,
            "notice_played": recording.notice_played,
            "declared_duration_seconds": float(recording.declared_duration_seconds),
            "duration_mismatch": recording.duration_mismatch,
            "error": recording.error,
            "created_at": recording.created_at.isoformat(),
        }
    return document


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _cursor(source: Mapping[str, object], errors: FieldErrors) -> tuple[datetime, uuid.UUID] | None:
    """The position after which the page starts (None: the newest first)."""
    raw = source.get("cursor")
    return errors.take(lambda: decode_time_cursor(None if raw is None else str(raw)))


async def _page(
    request: web.Request,
    where: RecordingFilter,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> web.Response:
    identity = sees_identity(request)
    if not identity:
        where = RecordingFilter(
            started_from=where.started_from,
            started_before=where.started_before,
            released_for_training=True,
        )
    rows = await list_recordings(request.app[POOL], where, after, limit)
    items = [summary(r, identity=identity) for r in rows]
    last = (rows[-1].started_at, rows[-1].id) if len(rows) == limit else None
    return _paged(items, last)


def _paged(items: list[dict[str, Any]], last: tuple[datetime, uuid.UUID] | None) -> web.Response:
    """A page of items and the cursor that continues after ``last`` (None: the end)."""
    return web.json_response(
        {"items": items, "next": None if last is None else encode_time_cursor(*last)}
    )


def _filter(source: Mapping[str, object], errors: FieldErrors) -> RecordingFilter:
    """The filters common to the list (query) and the search (body); None means absent."""

    def optional(name: str, parse: Callable[[object, str], T]) -> T | None:
        value = source.get(name)
        return None if value is None else errors.take(lambda: parse(value, name))

    answered_by = source.get("answered_by")
    if answered_by is not None and not isinstance(answered_by, str):
        errors.add("answered_by", "a username or extension")
        answered_by = None
    unlinked = source.get("unlinked", False)
    if unlinked in ("true", "false"):
        unlinked = unlinked == "true"
    if not isinstance(unlinked, bool):
        errors.add("unlinked", "true for the calls not linked to any customer yet, or false")
        unlinked = False
    return RecordingFilter(
        customer_id=optional("customer_id", parse_id),
        answered_by=answered_by,
        started_from=optional("from", parse_time),
        started_before=optional("to", parse_time),
        unlinked=unlinked,
    )


@requires(Permission.LIST_RECORDINGS, Permission.LIST_TRAINING_RECORDINGS)
async def list_route(request: web.Request) -> web.Response:
    """List recordings (ids and dates), newest first; trainers get released calls only.

    ``GET /v1/recordings?customer_id=&answered_by=&unlinked=&from=&to=&cursor=&limit=``.
    """
    query = request.query
    if not sees_identity(request) and not {"customer_id", "answered_by", "unlinked"}.isdisjoint(
        query
    ):
        await refuse(request, Forbidden("trainers can filter released recordings by time only"))
    errors = FieldErrors()
    where = _filter(query, errors)
    limit = errors.take(lambda: page_limit(query))
    after = _cursor(query, errors)
    errors.raise_any()
    assert limit is not None
    return await _page(request, where, after, limit)


def _phone(raw: str) -> str:
    try:
        return normalise_phone(raw)
    except ValueError as exc:
        raise refuse_field(f"{exc}; use E.164 like +358401234567") from None


def _yes_no(raw: object) -> object:
    """``"true"`` and ``"false"`` as in the list's query string."""
    return raw == "true" if raw in ("true", "false") else raw


TEXT_MAX_LIMIT: Final = 50
TEXT_LIMIT: Final = 20  # bench.transcripts: whole search p95 ≈ 28–39 ms at 20 a page, 67–115 at 50


class RecordingSearch(Body):
    """The list's filters, with the caller's number, which never travels in a URL."""

    caller_number: Annotated[
        str | None,
        AfterValidator(lambda raw: None if raw is None else _phone(raw)),
        Field(description="a phone number, E.164 like +358401234567"),
    ] = None
    customer_id: Id | None = None
    answered_by: Annotated[str | None, Field(description="a username or extension")] = None
    started_from: Time | None = Field(default=None, alias="from")
    started_before: Time | None = Field(default=None, alias="to")
    unlinked: Annotated[
        bool,
        BeforeValidator(_yes_no),
        Field(description="true for the calls not linked to any customer yet, or false"),
    ] = False
    text: SearchTextField = None
    cursor: TimeCursor = None
    limit: Annotated[
        int,
        Between(1, MAX_LIMIT),
        Field(description=f"calls per page; default {DEFAULT_LIMIT}, or {TEXT_LIMIT} with text"),
    ] = DEFAULT_LIMIT

    @property
    def page_size(self) -> int:
        """The limit asked for; else a shorter page for a search by words, whose every item
        means opening and reading a transcript to find where the words were said."""
        if "limit" in self.model_fields_set or self.text is None:
            return self.limit
        return TEXT_LIMIT

    def where(self) -> RecordingFilter:
        """The filter to list by."""
        return RecordingFilter(
            customer_id=self.customer_id,
            answered_by=self.answered_by,
            caller_number=self.caller_number,
            started_from=self.started_from,
            started_before=self.started_before,
            unlinked=self.unlinked,
        )


@requires(Permission.LIST_RECORDINGS)
@takes(RecordingSearch)
async def search_route(request: web.Request) -> web.Response:
    """Search recordings: the same list, with caller numbers kept out of the URL, and by
    words said in the calls' transcripts.

    ``POST /v1/recordings/search`` {text?, caller_number?, customer_id?, answered_by?, from?,
    to?, unlinked?, cursor?, limit?}. With ``text``, only calls whose transcript holds every
    word (any inflection) are listed, each with ``matches``: where those words were said. The
    audit entry names the filters given, never their values.
    """
    search = await json_body(request, RecordingSearch)
    if search.text is not None and search.page_size > TEXT_MAX_LIMIT:
        message = f"with text, at most {TEXT_MAX_LIMIT} calls a page (each opens a transcript)"
        raise ValidationProblem([field_error("limit", message)])
    sent = search.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
    filters = {"filters": ",".join(sorted(sent))}
    pool, vault = request.app[POOL], request.app[VAULT]
    key = None if search.text is None else await request.app[TERM_KEYS].get(pool, vault.keyring)
    language = request.app[SETTINGS].transcribe_language
    try:
        page = await search_page(
            pool, vault, key, search.text, search.where(), search.cursor, search.page_size,
            language=language,
        )  # fmt: skip
    except UNSERVABLE:  # a matched transcript failed its check: say so, never a partial page
        await record_access(request, "recording.search", outcome="failed", details=filters)
        raise IntegrityError from None
    rows = [found.recording for found in page.items]
    # a search by words discloses what was said in the calls it lists: which ones, by id
    found_in = {"recordings": ",".join(str(r.id) for r in rows)} if search.text else {}
    await record_access(request, "recording.search", details=filters | found_in)
    items = [summary(r, identity=True, caller=True) for r in rows]
    await with_customer_names(pool, items)
    await _with_agent_names(pool, rows, items)
    for found, item in zip(page.items, items, strict=True):
        if found.matches is not None:
            item["matches"] = [hit.as_json() for hit in found.matches]
    return _paged(items, page.after)


@requires(Permission.LIST_RECORDINGS, Permission.LIST_TRAINING_RECORDINGS)
async def detail_route(request: web.Request) -> web.Response:
    """``GET /v1/recordings/{id}``: one recording; a view with the caller identity is audited."""
    recording = await visible_recording(request)
    identity = sees_identity(request)
    if identity:
        await record_access(
            request, "recording.view", object_type="recording", object_id=recording.id
        )
    sealed = recording.training_release_reason_encrypted is not None
    reason = release_reason(field_cipher(request), recording) if sealed else None
    document = detail(recording, identity=identity, reason=reason)
    header = await header_of(request.app[POOL], recording.id)
    transcribe = request.app[SETTINGS].transcribe
    document["transcript"] = transcript_state(header, recording, transcribe=transcribe)
    if identity:
        await with_customer_names(request.app[POOL], [document])
        await _with_agent_names(request.app[POOL], [recording], [document])
    return web.json_response(document)


@requires(Permission.PLAY_RECORDINGS)
async def waveform_route(request: web.Request) -> web.Response:
    """``GET /v1/recordings/{id}/waveform``: the peaks the player draws (~10 per second); a
    trainer (or ``?purpose=training``) gets the redacted rendition's when the call has spans."""
    recording = await visible_recording(request)
    waveform = None
    if not sees_identity(request) or request.query.get("purpose") == "training":
        waveform = await training_waveform(request.app[POOL], recording.id)
    if waveform is None:
        waveform = await get_waveform(request.app[POOL], recording.id)
    if waveform is None:
        raise NotFound("the recording has no waveform yet; it is still being processed")
    return web.json_response(waveform)


class TrainingRelease(Body):
    """Release a call for training, or withdraw it, and why."""

    released: Annotated[bool, Field(description="true to release, false to withdraw")] = True
    redaction_reviewed: Annotated[
        bool,
        Field(
            description="true: the redaction spans were reviewed (required to release a call "
            "that has spans; recorded with the release)"
        ),
    ] = False
    reason: Annotated[
        str, Text(MAX_REASON), Field(description=f"why, in 1-{MAX_REASON} characters")
    ]


@requires(Permission.RELEASE_FOR_TRAINING)
@takes(TrainingRelease)
async def training_release_route(request: web.Request) -> web.Response:
    """``POST /v1/recordings/{id}/training-release``: release a call for training, or withdraw
    it, with a reason."""
    recording_id = parse_id(request.match_info["id"])
    body = await json_body(request, TrainingRelease)
    released, reason = body.released, body.reason
    user, cipher = request[CURRENT_USER], field_cipher(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        reviewed = await redaction_review(conn, recording_id, body) if released else None
        changed = await set_training_release(
            conn,
            cipher,
            recording_id,
            released=released,
            by=user.id,
            reason=reason,
            redaction_reviewed=reviewed,
        )
        if not changed:
            raise NotFound("no such recording ready to play")
        if not released:  # a withdrawn call leaves every trainer's collection with it
            await remove_from_collections(conn, [recording_id])
        # the reason is free text about people: it stays on the recording (sealed), the
        # audit log carries only that one was given
        details: dict[str, DetailValue] = {"reason_given": bool(reason)}
        if reviewed is not None:
            details["redaction_reviewed"] = reviewed
        await record_access(
            request,
            "recording.training_release" if released else "recording.training_withdraw",
            object_type="recording",
            object_id=recording_id,
            details=details,
            conn=conn,
        )
    document: dict[str, Any] = {"id": str(recording_id), "released_for_training": released}
    if reviewed is not None:
        document["redaction_reviewed"] = reviewed
    return web.json_response(document)


async def redaction_review(
    conn: Connection, recording_id: uuid.UUID, body: TrainingRelease
) -> bool | None:
    """A release of a call with redaction spans needs the DPO's ``redaction_reviewed``: true;
    None when the call has no spans (nothing to review). Locks the recording, so no span is
    added between this check and the release."""
    if await lock_recording(conn, recording_id) is None or not await has_spans(conn, recording_id):
        return None
    if not body.redaction_reviewed:
        raise ValidationProblem(
            [
                field_error(
                    "redaction_reviewed",
                    "the call has redaction spans: review them, then send true",
                )
            ]
        )
    return True


def add_routes(app: web.Application) -> None:
    """Register the recording routes (after the fixed ``/v1/recordings/…`` paths)."""
    app.router.add_get("/v1/recordings", list_route)
    app.router.add_post("/v1/recordings/search", search_route)
    app.router.add_get("/v1/recordings/{id}", detail_route)
    app.router.add_get("/v1/recordings/{id}/waveform", waveform_route)
    app.router.add_post("/v1/recordings/{id}/training-release", training_release_route)
