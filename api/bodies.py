"""Reading a JSON request body: media type and size first, then the shared JSON reader."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from common.errors import TooLarge, UnsupportedMediaType, ValidationProblem, field_error
from common.inputs import load_json_object

MAX_JSON_BYTES: Final = 64 * 1024


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 4xx saying what is wrong with it."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send application/json")
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise TooLarge(f"JSON bodies are at most {MAX_JSON_BYTES} bytes")
    raw = await request.read()  # a body without Content-Length stops at client_max_size
    if len(raw) > MAX_JSON_BYTES:
        raise TooLarge(f"JSON bodies are at most {MAX_JSON_BYTES} bytes")
    return load_json_object(raw)


def text_fields(body: dict[str, Any], *names: str) -> list[str]:
    """The named fields as non-empty strings, or one 422 naming each missing one."""
    errors = [
        field_error(n, "required, a non-empty string")
        for n in names
        if not isinstance(body.get(n), str) or not body[n]
    ]
    if errors:
        raise ValidationProblem(errors)
    return [str(body[n]) for n in names]
