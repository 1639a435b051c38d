"""Webhook signatures: ``v1`` HMAC-SHA256 over ``"<timestamp>." + raw body``.

The headers are checked before the body is read (a stale or malformed request costs
nothing); the MAC is computed incrementally while the body streams through, and compared in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import partial
from typing import Final

from storage.serial import SerialWorker

TOLERANCE_SECONDS: Final = 300
TIMESTAMP_HEADER: Final = "X-Callrec-Timestamp"
SIGNATURE_HEADER: Final = "X-Callrec-Signature"
OFFLOAD_BYTES: Final = 64 * 1024  # smaller pieces cost less than a thread hop
MAX_SIGNATURES: Final = 4
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")  # [0-9], not \d: ASCII only
_SIGNATURE: Final = re.compile(r"v1=[0-9a-f]{64}")


class SignatureError(Exception):
    """The request is not signed correctly; the message says which part is wrong."""


def parse_timestamp(raw: str | None, now: float) -> int:
    """Return the signed timestamp, refusing missing, malformed or stale values.

    Only ASCII digits count: ``str.isdigit`` and ``int`` also take other scripts' digits
    (and ``int`` then refuses superscripts), which a sender never means.
    """
    if not raw:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    if not _TIMESTAMP.fullmatch(raw):
        raise SignatureError(f"{TIMESTAMP_HEADER} must be unix seconds (ASCII digits 0-9)")
    timestamp = int(raw)
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} s off the server clock"
        )
    return timestamp


def parse_signatures(raw: str | None) -> list[bytes]:
    """Every ``v1=<64 lowercase hex>`` in the header (several while a secret is rotated).

    Anything else in the header refuses the request at once: a sender that cannot spell the
    header will not sign the body correctly either, and must not hold an upload slot.
    """
    if not raw:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    entries = [part.strip() for part in raw.split(",")]
    if len(entries) > MAX_SIGNATURES or not all(_SIGNATURE.fullmatch(e) for e in entries):
        raise SignatureError(
            f"{SIGNATURE_HEADER} must be v1= and 64 lowercase hex digits "
            f"(at most {MAX_SIGNATURES}, comma-separated, while a secret is rotated)"
        )
    return [bytes.fromhex(entry.removeprefix("v1=")) for entry in entries]


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
