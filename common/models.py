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
from datetime import UTC, date, datetime
from types import UnionType
from typing import Annotated, Any, ClassVar, Final, TypeVar, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic.fields import FieldInfo
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from common.errors import ValidationProblem, field_error
from common.inputs import (
    check_text,
    parse_date,
    parse_event_time,
    parse_id,
    parse_int,
    parse_time,
)

M = TypeVar("M", bound="Body")
T = TypeVar("T")

# The type of the errors our own checks raise: their message is said as is.
OWN: Final = "callrec"
# The type of the errors of the shared parsers: a field's description may say it better.
PARSED: Final = "callrec_parsed"


def refuse(message: str, field: str | None = None) -> PydanticCustomError:
    """An error to raise inside a validator: ``message`` as is, for ``field`` if given
    (a model-level check names the field it blames)."""
    return PydanticCustomError(OWN, "{message}", {"message": message, "field": field or ""})


def reusing(parse: Callable[[object], T]) -> Callable[[object], T]:
    """A pydantic validator that runs one of :mod:`common.inputs`' parsers."""

    def validate(raw: object) -> T:
        try:
            return parse(raw)
        except ValidationProblem as problem:
            message = problem.errors[0]["message"]
            raise PydanticCustomError(PARSED, "{message}", {"message": message}) from None

    return validate


Id = Annotated[uuid.UUID, BeforeValidator(reusing(parse_id))]
"""An id (UUID), parsed as in the routes' paths."""

Day = Annotated[date, BeforeValidator(reusing(lambda raw: parse_date(raw, "")))]
"""A calendar date, ``2026-11-23``."""

Time = Annotated[datetime, BeforeValidator(reusing(lambda raw: parse_time(raw, "")))]
"""An ISO 8601 time with a zone that PostgreSQL and Python can both hold."""

EventTime = Annotated[
    datetime,
    BeforeValidator(reusing(lambda raw: parse_event_time(raw, "", datetime.now(UTC)))),
]
"""A time something happened: from 2000 to a day ahead of now."""


@dataclass(frozen=True)
class Between:
    """``Annotated[int, Between(1, 200)]``: a whole number in the range (a JSON number or
    ASCII digits, as in a query string), parsed by :func:`common.inputs.parse_int`."""

    lowest: int
    highest: int

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> CoreSchema:
        parse = reusing(lambda raw: parse_int(raw, "", self.lowest, self.highest))
        return core_schema.no_info_before_validator_function(
            parse, core_schema.int_schema(ge=self.lowest, le=self.highest)
        )


@dataclass(frozen=True)
class Text:
    """``Annotated[str, Text(500)]``: 1 to ``longest`` characters once trimmed; never NUL or
    a lone surrogate (the JSON reader refuses them already; this holds for any source)."""

    longest: int

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> CoreSchema:
        check = reusing(lambda raw: check_text(raw, "") if isinstance(raw, str) else raw)
        return core_schema.no_info_before_validator_function(
            check,
            core_schema.str_schema(
                strict=True, strip_whitespace=True, min_length=1, max_length=self.longest
            ),
        )


@dataclass(frozen=True)
class OneOf:
    """``Annotated[str, OneOf(CHANNELS)]``: one of the given words (an enum in the schema);
    ``message`` says what to send, by default the list itself."""

    choices: tuple[str, ...]
    message: str = ""

    @property
    def says(self) -> str:
        """What to send, also when the field is missing."""
        return self.message or f"one of: {', '.join(self.choices)}"

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> CoreSchema:
        def check(raw: object) -> object:
            if raw not in self.choices:
                raise refuse(self.says)
            return raw

        return core_schema.no_info_before_validator_function(
            check, core_schema.str_schema(strict=True)
        )

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: Any) -> dict[str, Any]:
        return {**handler(schema), "enum": list(self.choices)}


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
    field = _field_at(model, loc)
    if field is not None and field.description:
        return field.description
    if kind == PARSED:
        return pydantic_says
    for rule in field.metadata if field is not None else ():
        if isinstance(rule, OneOf):
            return rule.says
    return _PLAIN.get(kind, pydantic_says)


# Pydantic's words where they name Python rather than JSON.
_PLAIN: Final = {"missing": "required", "model_type": "a JSON object", "dict_type": "a JSON object"}


def _field_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> FieldInfo | None:
    """The field an error's location ends at, through nested models and their lists."""
    field = None
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            current = _inner(current, list)
            field = None
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _inner(field.annotation, None)
    return field


def _inner(annotation: Any, container: type | None) -> Any:
    """``X`` of ``X | None`` (and of ``container[X]``)."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if container is not None and get_origin(annotation) is container:
        return args[0] if args else None
    if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
        return _inner(args[0], container)
    return annotation
