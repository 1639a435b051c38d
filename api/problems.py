"""RFC 9457 problem details: the one shape every error response takes.

Domain code raises :class:`Problem` (or a subclass) with a message a person can act on; the
error middleware turns it into ``application/problem+json``. Nothing else builds error
responses, so clients see one format whatever failed.
"""

from __future__ import annotations

import json
from typing import Any, Final

from aiohttp import web

PROBLEM_TYPE_BASE: Final = "https://callrec.invalid/problems/"
CONTENT_TYPE: Final = "application/problem+json"


class Problem(Exception):
    """An error with an HTTP status, a stable type slug and a human-readable detail."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status if status is not None else self.status
        self.slug = slug if slug is not None else self.slug
        self.title = title if title is not None else self.title
        self.errors = errors or []
        self.headers = headers or {}


class ValidationProblem(Problem):
    """422: the body parsed but fields are wrong; ``errors`` names each field and the fix."""

    status = 422
    slug = "validation"
    title = "Some fields are invalid"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        fields = ", ".join(e["field"] for e in errors)
        super().__init__(f"fix these fields: {fields}", errors=errors)


class UnsupportedMediaType(Problem):
    """415: the body is not in a format this route takes."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class TooLarge(Problem):
    """413: the body is over the route's size limit."""

    status = 413
    slug = "too-large"
    title = "Request too large"


class NotFound(Problem):
    """404: no such object, or none this caller may know of (the two look the same)."""

    status = 404
    slug = "not-found"
    title = "Not found"


def field_error(field: str, message: str) -> dict[str, str]:
    """One entry of a validation problem's ``errors`` list."""
    return {"field": field, "message": message}


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    request_id: str | None,
    instance: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """Serialise one problem document."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    if request_id is not None:
        body["request_id"] = request_id
    if errors:
        body["errors"] = errors
    return web.Response(
        status=status,
        # backslashreplace: a lone surrogate that slipped into a message becomes its JSON
        # escape (surrogates only occur inside strings) instead of a 500 while answering.
        body=json.dumps(body, ensure_ascii=False).encode(errors="backslashreplace"),
        content_type=CONTENT_TYPE,
        headers=headers,
    )
