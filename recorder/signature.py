"""Webhook signatures: ``v1`` HMAC-SHA256 over ``"<timestamp>." + raw body``.

The timestamp is checked before the body is read (a stale request costs nothing); the MAC is
computed incrementally while the body streams through, and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import partial
from typing import Final

from storage.serial import SerialWorker

TOLERANCE_SECONDS: Final = 300
TIMESTAMP_HEADER: Final = "X-Callrec-Timestamp"
SIGNATURE_HEADER: Final = "X-Callrec-Signature"
OFFLOAD_BYTES: Final = 64 * 1024  # smaller pieces cost less than a thread hop


class SignatureError(Exception):
    """The request is not signed correctly; the message says which part is wrong."""


def parse_timestamp(raw: str | None, now: float) -> int:
    """Return the signed timestamp, refusing missing, malformed or stale values."""
    if not raw:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    if not raw.isdigit() or len(raw) > 12:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be unix seconds")
    timestamp = int(raw)
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} s off the server clock"
        )
    return timestamp


def parse_signatures(raw: str | None) -> list[bytes]:
    """Every ``v1=<hex>`` in the header (several are allowed while a secret is rotated)."""
    if not raw:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    found: list[bytes] = []
    for part in raw.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == "v1":
            try:
                found.append(bytes.fromhex(value))
            except ValueError:
                raise SignatureError(f"{SIGNATURE_HEADER} v1 value is not hex") from None
    if not found:
        raise SignatureError(f"{SIGNATURE_HEADER} has no v1= signature")
    return found


class BodySigner:
    """Incremental HMAC over ``"<timestamp>." + body``, computed beside the event loop.

    HMAC-SHA256 releases the GIL, so large pieces are hashed in a background thread (in
    order) while the loop receives, parses and encrypts the next ones; small bodies never
    leave the loop.
    """

    def __init__(self, secret: bytes, timestamp: int) -> None:
        self._mac = hmac.new(secret, f"{timestamp}.".encode(), hashlib.sha256)
        self._worker: SerialWorker[None] = SerialWorker("hmac", depth=8)

    async def update(self, data: bytes) -> None:
        """Feed the next piece of the raw body."""
        if len(data) < OFFLOAD_BYTES and not self._worker:
            self._mac.update(data)
            return
        if self._worker.full:
            await self._worker.next()
        self._worker.submit(partial(self._mac.update, data))

    async def verify(self, signatures: list[bytes]) -> bytes:
        """Return the MAC if one of ``signatures`` matches it (constant-time), else raise.

        The returned MAC, not the header text, identifies the request for replay detection:
        a sender can add junk entries to the header, but not change the MAC of a body.
        """
        try:
            while self._worker:
                await self._worker.next()
        finally:
            self._worker.close()
        digest = self._mac.digest()
        if not any(hmac.compare_digest(digest, candidate) for candidate in signatures):
            raise SignatureError("signature does not match the body")
        return digest

    async def aclose(self) -> None:
        """Stop the background thread (when the body was abandoned before :meth:`verify`)."""
        self._worker.close()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The header value a sender computes; used by tests, benchmarks and client examples."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"
