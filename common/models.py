"""Request bodies declared once, as pydantic models, and checked into the one 422 shape.

A model says what a body holds; the OpenAPI document is generated from the same model, so
the two never disagree. The field types below reuse :mod:`common.inputs`' parsers, so each
range (times, ids, whole numbers) is written in one place. Errors never echo a value:
pydantic's are taken without their input, and a field's ``description`` (what to send)
replaces pydantic's wording, so a client reads the same messages as before the models.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Final, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from common.errors import ValidationProblem, field_error
from common.inputs import check_text, parse_event_time, parse_id, parse_int, parse_time

M = TypeVar("M", bound="Body")
T = TypeVar("T")

# The type of the errors our own parsers and checks raise: their message is already ours.
OWN: Final = "callrec"


def refuse(message: str, field: str | None = None) -> PydanticCustomError:
    """An error to raise inside a validator: ``message`` as is, for ``field`` if given
    (a model-level check names the field it blames)."""
    return PydanticCustomError(OWN, "{message}", {"message": message, "field": field or ""})


def _reusing(parse: Callable[[object], T]) -> Callable[[object], T]:
    """A pydantic validator that runs one of :mod:`common.inputs`' parsers."""

    def validate(raw: object) -> T:
        try:
            return parse(raw)
        except ValidationProblem as problem:
            raise refuse(problem.errors[0]["message"]) from None

    return validate


Id = Annotated[uuid.UUID, BeforeValidator(_reusing(parse_id))]
"""An id (UUID), parsed as in the routes' paths."""

Time = Annotated[datetime, BeforeValidator(_reusing(lambda raw: parse_time(raw, "")))]
"""An ISO 8601 time with a zone that PostgreSQL and Python can both hold."""

EventTime = Annotated[
    datetime,
    BeforeValidator(_reusing(lambda raw: parse_event_time(raw, "", datetime.now(UTC)))),
]
"""A time something happened: from 2000 to a day ahead of now."""


@dataclass(frozen=True)
class Between:
    """``Annotated[int, Between(1, 200)]``: a whole number in the range (a JSON number or
    ASCII digits, as in a query string), parsed by :func:`common.inputs.parse_int`."""

    lowest: int
    highest: int

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> CoreSchema:
        parse = _reusing(lambda raw: parse_int(raw, "", self.lowest, self.highest))
        return core_schema.no_info_before_validator_function(
            parse, core_schema.int_schema(ge=self.lowest, le=self.highest)
        )


@dataclass(frozen=True)
class Text:
    """``Annotated[str, Text(500)]``: 1 to ``longest`` characters once trimmed; never NUL or
    a lone surrogate (the JSON reader refuses them already; this holds for any source)."""

    longest: int

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> CoreSchema:
        check = _reusing(lambda raw: check_text(raw, "") if isinstance(raw, str) else raw)
        return core_schema.no_info_before_validator_function(
            check,
            core_schema.str_schema(
                strict=True, strip_whitespace=True, min_length=1, max_length=self.longest
            ),
        )


REQUIRED_TEXT: Final = "required, a non-empty string"
NonEmpty = Annotated[str, StringConstraints(min_length=1), Field(description=REQUIRED_TEXT)]
"""Text that is not empty, kept as sent (passwords keep their spaces)."""


class Body(BaseModel):
    """A request body: strict types (no ``"1"`` for 1, no ``1`` for true), unknown fields
    ignored unless a model forbids them with its own message."""

    model_config = ConfigDict(strict=True, frozen=True)
    # The message for a field the model does not have (models with extra="forbid").
    unknown_field: ClassVar[str] = "not a field of this body; check the spelling"


def validate_body(obj: dict[str, Any], model: type[M]) -> M:
    """``obj`` as ``model``, or one 422 naming every bad field once, in the body's order."""
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise ValidationProblem(_field_errors(exc, model)) from None


def _field_errors(exc: ValidationError, model: type[Body]) -> list[dict[str, str]]:
    found: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        context = error.get("ctx") or {}
        field = context.get("field") or _path(error["loc"])
        found.setdefault(field, _message(error["type"], error["loc"], error["msg"], model))
    return [field_error(field, message) for field, message in found.items()]


def _path(loc: tuple[int | str, ...]) -> str:
    """``parties[0].role`` for the location ``("parties", 0, "role")``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path or "body"


def _message(kind: str, loc: tuple[int | str, ...], pydantic_says: str, model: type[Body]) -> str:
    """Our own message, the field's description (what to send), or pydantic's wording."""
    if kind == OWN:
        return pydantic_says
    if kind == "extra_forbidden":
        return model.unknown_field
    field = model.model_fields.get(str(loc[0])) if len(loc) == 1 else None
    if field is not None and field.description:
        return field.description
    return "required" if kind == "missing" else pydantic_says
