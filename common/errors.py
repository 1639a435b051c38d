"""Error types every layer may raise: a status, a stable slug and a detail a person can act on.

Domain code raises :class:`Problem` (or a subclass); only ``api.problems`` turns one into an
``application/problem+json`` response, so the lower rooms never build HTTP themselves.
"""

from __future__ import annotations


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


class Conflict(Problem):
    """409: the request clashes with the state of what it names (taken, in use, wrong state)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


def field_error(field: str, message: str) -> dict[str, str]:
    """One entry of a validation problem's ``errors`` list."""
    return {"field": field, "message": message}
