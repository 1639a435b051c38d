"""Serving a sealed object whose ciphertext may have been altered in the object store.

The first chunk is decrypted and authenticated before the caller audits the access and sends
the headers, so an altered object is answered with a 502 ``integrity-error`` problem and
audited as failed, never as served. A later chunk that fails can no longer change the status
line: the connection is cut, so the client sees an incomplete body rather than a whole one,
and the caller audits a failed entry saying how many bytes went out.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

from aiohttp import web

from common.errors import Problem
from common.logs import log_failure
from storage.age import AgeError
from storage.objects import InvalidObjectKey, ObjectNotFound, ObjectStoreError

log = logging.getLogger(__name__)

# Audits a failed use: the error, and how many plaintext bytes had been sent.
OnFailure = Callable[[Exception, int], Awaitable[None]]
# What makes a stored object unservable for good, before a byte is sent: a store that is
# down (ObjectStoreUnavailable) is not among them, it answers 503 and is worth a retry.
UNSERVABLE: Final = (AgeError, ObjectNotFound, InvalidObjectKey)


class IntegrityError(Problem):
    """502: the object store handed back data that is not what was sealed (altered or
    damaged) or no longer has the object, or its key is gone; nothing of it was sent."""

    status = 502
    slug = "integrity-error"
    title = "Integrity error"

    def __init__(self) -> None:
        super().__init__(
            "the stored file failed its integrity check (altered or damaged in the object "
            "store, missing from it, or its key is gone), so none of it was sent; the attempt is in the audit "
            "log; tell the administrator and quote the request id"
        )


async def authenticated_first(pieces: AsyncIterator[bytes], on_failure: OnFailure) -> bytes:
    """The first plaintext piece, authenticated; else audit and raise :class:`IntegrityError`."""
    try:
        return await anext(pieces, b"")
    except UNSERVABLE as exc:
        await _failed(exc, 0, on_failure)
        raise IntegrityError from None


async def send_all(
    request: web.Request,
    response: web.StreamResponse,
    first: bytes,
    pieces: AsyncIterator[bytes],
    on_failure: OnFailure,
) -> bool:
    """Send the headers, ``first`` and the rest of ``pieces``, and end the response; False
    when a piece failed its check or the store failed (then audited, and the connection cut,
    so the client sees an incomplete body). A client that goes away raises ConnectionError."""
    await response.prepare(request)
    sent, piece = 0, first
    try:
        while piece:
            await response.write(piece)
            sent += len(piece)
            piece = await anext(pieces, b"")
    except (AgeError, ObjectStoreError) as exc:
        await _failed(exc, sent, on_failure)
        if request.transport is not None:
            request.transport.close()
        return False
    await response.write_eof()
    return True


async def _failed(exc: Exception, sent: int, on_failure: OnFailure) -> None:
    log_failure(log, "stored object failed its integrity check", exc)
    await on_failure(exc, sent)
