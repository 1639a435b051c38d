"""RFC 9457 problem details: the one shape every error response takes.

Code raises :class:`common.errors.Problem` (or a subclass) with a message a person can act
on; the error middleware turns it into ``application/problem+json`` here. Nothing else builds
error responses, so clients see one format whatever failed.
"""

from __future__ import annotations

import json
from typing import Any, Final

from aiohttp import web

PROBLEM_TYPE_BASE: Final = "https://callrec.invalid/problems/"
CONTENT_TYPE: Final = "application/problem+json"


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
