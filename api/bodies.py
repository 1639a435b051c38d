"""Reading a JSON request body: media type and size first, then the shared JSON reader, then
the route's declared model (:mod:`common.models`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from aiohttp import web

from common.errors import TooLarge, UnsupportedMediaType
from common.inputs import load_json_object
from common.models import Body, M, validate_body

MAX_JSON_BYTES: Final = 64 * 1024
H = TypeVar("H", bound=Callable[..., object])


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


_MODELS: dict[Callable[..., object], type[Body]] = {}


def takes(model: type[Body]) -> Callable[[H], H]:
    """Declare the body a handler reads; the OpenAPI document describes it from the model."""

    def mark(handler: H) -> H:
        _MODELS[handler] = model
        return handler

    return mark


def model_of(handler: Callable[..., object]) -> type[Body] | None:
    """The body model a handler declared with :func:`takes`, if any."""
    return _MODELS.get(handler)


async def json_body(request: web.Request, model: type[M]) -> M:
    """The request body checked against ``model``: media type, size, depth, NUL and lone
    surrogates first (:func:`json_object`), then the model; one 422 names every bad field."""
    return validate_body(await json_object(request), model)
