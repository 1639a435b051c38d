"""HTTP ``Range`` requests (RFC 9110 section 14) for one representation of known length.

Only single ranges are served. A syntactically invalid header, or a set of several ranges,
is ignored and the whole representation is sent with 200, which RFC 9110 section 14.2
allows; browsers seeking in audio only ever ask for one range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from common.errors import Problem

_SPEC: Final = re.compile(r"^[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*$")
# Any position this long is past the end of every representation; converting thousands of
# digits would only cost time (and fails beyond 4,300).
_MAX_DIGITS: Final = 18


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``[start, end)`` of a representation ``length`` bytes long."""

    start: int
    end: int
    length: int

    @property
    def content_range(self) -> str:
        """The ``Content-Range`` value of a 206 answer."""
        return f"bytes {self.start}-{self.end - 1}/{self.length}"

    @property
    def size(self) -> int:
        """How many bytes the range holds."""
        return self.end - self.start


class Unsatisfiable(Exception):
    """No byte of the requested range exists: answer 416 with ``Content-Range: bytes */N``."""

    def __init__(self, length: int) -> None:
        super().__init__(f"the range starts at or beyond the end ({length} bytes)")
        self.content_range = f"bytes */{length}"


def parse_range(header: str | None, length: int) -> ByteRange | None:
    """The range to serve, or None for the whole representation; raises :class:`Unsatisfiable`."""
    if header is None:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs or "," in specs:
        return None
    match = _SPEC.match(specs)
    if match is None:
        return None
    first, last = (_position(g) for g in match.groups())
    if first is None:
        if last is None:
            return None
        if last == 0 or length == 0:
            raise Unsatisfiable(length)
        return ByteRange(max(0, length - last), length, length)
    start = first
    if last is not None and last < start:
        return None  # invalid: RFC 9110 says ignore the header
    if start >= length:
        raise Unsatisfiable(length)
    end = length if last is None else min(last + 1, length)
    return ByteRange(start, end, length)


def _position(digits: str) -> int | None:
    """A byte position of the header (None when absent), capped far beyond any length."""
    if not digits:
        return None
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= _MAX_DIGITS else 10**_MAX_DIGITS


def requested_range(request: web.Request, length: int, etag: str) -> ByteRange | None:
    """The range ``request`` asks for, or None for everything: ``If-Range`` naming another
    version of the representation voids the ``Range``; a range past the end is a 416 problem."""
    if_range = request.headers.get("If-Range")
    try:
        return parse_range(
            request.headers.get("Range") if if_range in (None, etag) else None, length
        )
    except Unsatisfiable as exc:
        raise Problem(
            str(exc),
            status=416,
            slug="range-not-satisfiable",
            title="Range not satisfiable",
            headers={"Content-Range": exc.content_range, "Accept-Ranges": "bytes"},
        ) from None


@dataclass(frozen=True)
class Ranged:
    """How to answer one request for a representation: the range it asks for (None: the
    whole, with 200), the representation's length and its validator."""

    wanted: ByteRange | None
    length: int
    etag: str

    @property
    def served(self) -> ByteRange:
        """The bytes the answer carries."""
        return self.wanted or ByteRange(0, self.length, self.length)

    def response(self, *, content_type: str, disposition: str) -> web.StreamResponse:
        """A 200 for the whole representation or a 206 for the range, with the validator and
        the headers a client needs to seek or to resume an interrupted transfer."""
        wanted = self.wanted
        response = web.StreamResponse(status=206 if wanted else 200)
        response.content_type = content_type
        response.content_length = wanted.size if wanted else self.length
        response.headers["Accept-Ranges"] = "bytes"
        response.headers["ETag"] = self.etag
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Disposition"] = disposition
        if wanted:
            response.headers["Content-Range"] = wanted.content_range
        return response


def ranged(request: web.Request, length: int, sha256: bytes) -> Ranged:
    """The answer to ``request`` for a representation of ``length`` bytes whose plaintext
    has this SHA-256 (the strong ETag, so ``If-Range`` resumes only the same bytes)."""
    etag = f'"{sha256.hex()}"'
    return Ranged(requested_range(request, length, etag), length, etag)
