"""``POST /v1/recordings``: the signed, idempotent telephony webhook.

The raw body streams once through three things at the same time: the signature MAC, the
multipart reader, and (for the audio part) the encryptor into an *incoming* object. Only
after the last byte is the signature checked; a bad one deletes the incoming object, so an
unsigned upload never leaves anything behind. Until then an upload is a stranger's, so it
must keep to the limits of :mod:`recorder.limits` (headers checked before a slot is taken, a
minimum rate, a per-peer share). The worker does the slow audio work later, so the answer
comes as soon as the bytes are safely stored.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing

from aiohttp import web
from aiohttp.helpers import parse_mimetype

from api.appkeys import POOL, SETTINGS, STORE, STORE_PROBE, UPLOAD_SLOTS, VAULT
from api.permissions import public
from common.errors import Problem, TooLarge, UnsupportedMediaType, ValidationProblem, field_error
from recorder.limits import Pace, client_address
from recorder.metadata import MAX_METADATA_BYTES, CallMetadata, load_json, parse_metadata
from recorder.multipart import MultipartError, MultipartStream
from recorder.queries import (
    DuplicateRecording,
    ReplayedRequest,
    accept_recording,
    find_by_external_id,
    status_of,
)
from recorder.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    BodySigner,
    SignatureError,
    parse_signatures,
    parse_timestamp,
)
from storage.db import may_have_committed
from storage.objects import ObjectStoreError
from storage.vault import SealedObject

log = logging.getLogger(__name__)


class Unauthorized(Problem):
    """401 for webhook signature failures."""

    status = 401
    slug = "bad-signature"
    title = "Webhook signature rejected"


def switched_off(what: str, variable: str) -> Problem:
    """503 for an ingest route whose secret is not configured."""
    return Problem(
        f"{what} is switched off: set {variable}",
        status=503,
        slug="webhook-disabled",
        title="Webhook disabled",
    )


def _secret(request: web.Request) -> bytes:
    secret = request.app[SETTINGS].webhook_secret
    if secret is None:
        raise switched_off("webhook ingest", "CALLREC_WEBHOOK_SECRET")
    return secret.reveal().encode()


def _signature_headers(request: web.Request) -> tuple[bytes, int, list[bytes]]:
    """(secret, timestamp, signatures), or 401 for a missing, malformed or stale header."""
    secret = _secret(request)
    try:
        timestamp = parse_timestamp(request.headers.get(TIMESTAMP_HEADER), time.time())
        signatures = parse_signatures(request.headers.get(SIGNATURE_HEADER))
    except SignatureError as exc:
        raise Unauthorized(str(exc)) from None
    return secret, timestamp, signatures


@public("authenticated by the v1 webhook signature")
async def receive_recording(request: web.Request) -> web.Response:
    """Accept one call: 202 when new, 200 with the first id when already delivered.

    Everything the headers can refuse is refused before a slot is taken or a byte of the
    body is read, so a stranger's upload costs a slot only while its body keeps coming.
    """
    settings = request.app[SETTINGS]
    secret, timestamp, signatures = _signature_headers(request)
    limit = settings.max_upload_bytes
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"body larger than {limit} bytes")
    boundary = _multipart_boundary(request)
    peer = client_address(request, settings.trusted_proxies)
    slot = request.app[UPLOAD_SLOTS].take(peer)
    # aclosing: the HMAC thread of an abandoned body
    async with slot, aclosing(BodySigner(secret, timestamp)) as signer:
        body = _raw_body(request, signer, limit)
        if boundary is not None:
            meta_raw, sealed = await _read_multipart(request, body, boundary)
        else:
            meta_raw, sealed = await _read_all(body, MAX_METADATA_BYTES), None
        persisted = False
        try:
            try:
                mac = await signer.verify(signatures)
            except SignatureError as exc:
                raise Unauthorized(str(exc)) from None
            request.app[UPLOAD_SLOTS].prove(peer)
            meta = _validate(request, meta_raw, sealed)
            recording_id, status, created = await _persist(request, meta, sealed, mac)
            persisted = created
        except Exception as exc:
            # A connection lost at COMMIT may hide a stored row: the object stays (a retry
            # then answers 200 with it); the reaper takes it later if no row refers to it.
            persisted = may_have_committed(exc)
            raise
        finally:
            if sealed is not None and not persisted:
                await _discard(request, sealed)
    if not created:
        return web.json_response({"id": str(recording_id), "status": status}, status=200)
    log.info("recording received", extra={"recording_id": str(recording_id)})
    return web.json_response(
        {"id": str(recording_id), "status": "received"},
        status=202,
        headers={"Location": f"/v1/recordings/{recording_id}/status"},
    )


def _multipart_boundary(request: web.Request) -> str | None:
    """The boundary of a multipart body, None for JSON metadata; 415 for anything else."""
    mime = parse_mimetype(request.headers.get("Content-Type", ""))
    if (mime.type, mime.subtype) == ("multipart", "form-data"):
        return mime.parameters.get("boundary", "")
    if (mime.type, mime.subtype) == ("application", "json"):
        return None
    raise UnsupportedMediaType(
        "send multipart/form-data (metadata + audio) or application/json (metadata with audio_url)"
    )


async def _raw_body(request: web.Request, signer: BodySigner, limit: int) -> AsyncIterator[bytes]:
    total = 0
    pace = Pace.from_settings(request.app[SETTINGS])
    async for chunk in pace.body(request.content, limit):
        total += len(chunk)
        if total > limit:
            raise TooLarge(f"body larger than {limit} bytes")
        await signer.update(chunk)
        yield chunk


async def _read_all(body: AsyncIterator[bytes], limit: int) -> bytes:
    pieces = []
    size = 0
    async for piece in body:
        size += len(piece)
        if size > limit:
            raise ValidationProblem([field_error("body", f"JSON body larger than {limit} bytes")])
        pieces.append(piece)
    return b"".join(pieces)


async def _read_multipart(
    request: web.Request, body: AsyncIterator[bytes], boundary: str
) -> tuple[bytes | None, SealedObject | None]:
    metadata: bytes | None = None
    sealed: SealedObject | None = None
    try:
        stream = MultipartStream(body, boundary)
        while (part := await stream.next_part()) is not None:
            if part.name == "metadata" and metadata is None:
                metadata = await stream.read_small(MAX_METADATA_BYTES)
            elif part.name == "audio" and sealed is None:
                sealed = await request.app[VAULT].seal(stream.read_part(), kind="incoming")
            else:
                raise MultipartError(
                    f"unexpected part {part.name!r}; send 'metadata' and 'audio' once each"
                )
        async for _ in body:  # the epilogue still counts for the signature
            pass
    except BaseException as exc:
        if sealed is not None:
            await _discard(request, sealed)
        if isinstance(exc, MultipartError):
            raise Problem(
                f"malformed multipart body: {exc}", slug="malformed-body", title="Malformed body"
            ) from None
        raise
    return metadata, sealed


async def _discard(request: web.Request, sealed: SealedObject) -> None:
    """Delete the incoming object of a refused upload. A store that refuses the delete too
    must not turn the answer into a 5xx: the unreferenced object is left to the reaper."""
    try:
        await request.app[STORE].delete(sealed.object_key)
    except ObjectStoreError as exc:
        log.warning("incoming object left for the reaper: %s", exc)


def _validate(request: web.Request, raw: bytes | None, sealed: SealedObject | None) -> CallMetadata:
    if raw is None:
        raise ValidationProblem([field_error("metadata", "the metadata part is missing")])
    meta = parse_metadata(
        load_json(raw),
        require_audio_url=sealed is None,
        allowed_hosts=request.app[SETTINGS].fetch_allowed_hosts,
    )
    if sealed is not None and sealed.plaintext_size == 0:
        raise ValidationProblem([field_error("audio", "the audio part is empty")])
    return meta


async def _persist(
    request: web.Request, meta: CallMetadata, sealed: SealedObject | None, signature: bytes
) -> tuple[uuid.UUID, str, bool]:
    pool = request.app[POOL]
    if sealed is None:
        await require_writable_store(request)
    try:
        return await accept_recording(pool, meta, sealed, signature), "received", True
    except DuplicateRecording:
        recording_id, status = await find_by_external_id(pool, meta.external_id)
        return recording_id, status, False
    except ReplayedRequest:
        raise Unauthorized(
            "this signed request was already used; sign each delivery anew"
        ) from None


async def require_writable_store(request: web.Request) -> None:
    """Refuse (503 storage-unavailable) a call whose audio the worker must fetch while the
    store refuses writes: the sender then retries as told, instead of the worker spending
    its few attempts on an outage. Uses the readiness probe's answer, a few seconds old."""
    await request.app[STORE_PROBE].check()


@public("authenticated by the v1 webhook signature")
async def recording_status(request: web.Request) -> web.Response:
    """``GET /v1/recordings/{id}/status`` for the telephony side, signed like the webhook."""
    secret, timestamp, signatures = _signature_headers(request)
    try:
        await BodySigner(secret, timestamp).verify(signatures)
    except SignatureError as exc:
        raise Unauthorized(str(exc)) from None
    try:
        recording_id = uuid.UUID(request.match_info["id"])
    except ValueError:
        raise Problem(
            "recording id must be a UUID", status=404, slug="not-found", title="Not found"
        ) from None
    found = await status_of(request.app[POOL], recording_id)
    if found is None:
        raise Problem("no such recording", status=404, slug="not-found", title="Not found")
    status, error = found
    body = {"id": str(recording_id), "status": status}
    if error:
        body["error"] = error
    return web.json_response(body)


def add_routes(app: web.Application) -> None:
    """Register the telephony-facing routes."""
    app.router.add_post("/v1/recordings", receive_recording)
    app.router.add_get("/v1/recordings/{id}/status", recording_status)
