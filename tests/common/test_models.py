"""Request models: one 422 naming every bad field, the shared parsers' ranges, no echoes."""

from __future__ import annotations

import json
from typing import Annotated, ClassVar

import pytest
from pydantic import ConfigDict, Field, model_validator

from common.errors import ValidationProblem
from common.models import Between, Body, EventTime, Id, Text, refuse, validate_body

HETU = "131052-308T"


class Item(Body):
    customer_id: Id
    role: Annotated[str, Field(description="tenant or co-tenant")]


class Sample(Body):
    model_config = ConfigDict(extra="forbid")
    unknown_field: ClassVar[str] = "not a field of a sample"

    reason: Annotated[str, Text(10), Field(description="why, in 1-10 characters")]
    limit: Annotated[int, Between(1, 200)] = 50
    at: EventTime | None = None
    items: list[Item] = Field(default_factory=list)


def errors_of(body: dict[str, object]) -> list[dict[str, str]]:
    with pytest.raises(ValidationProblem) as caught:
        validate_body(body, Sample)
    assert caught.value.status == 422
    return caught.value.errors


def test_a_good_body_is_parsed_with_the_shared_parsers() -> None:
    sample = validate_body(
        {"reason": "  why  ", "limit": "7", "at": "2026-11-23T10:15:00+02:00"}, Sample
    )
    assert (sample.reason, sample.limit, sample.at and sample.at.year) == ("why", 7, 2026)


def test_every_bad_field_is_named_once_with_what_to_send() -> None:
    errors = errors_of(
        {
            "limit": 201,
            "at": "1999-12-31T23:59:59Z",
            "items": [{"customer_id": "x", "role": 3}],
            "colour": "red",
        }
    )
    assert errors == [
        {"field": "reason", "message": "why, in 1-10 characters"},
        {"field": "limit", "message": "a whole number from 1 to 200"},
        {
            "field": "at",
            "message": "implausible: before 2000 or more than a day in the future; "
            "check the year and the sender's clock",
        },
        {"field": "items[0].customer_id", "message": "must be an id (UUID)"},
        {"field": "items[0].role", "message": "tenant or co-tenant"},
        {"field": "colour", "message": "not a field of a sample"},
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"reason": HETU},  # too long
        {"reason": "ok", "limit": HETU},
        {"reason": "ok", "at": HETU},
        {"reason": "ok", "items": [{"customer_id": HETU, "role": "x"}]},
        {"reason": "ok", "items": [HETU]},
        {"reason": ["ok", HETU]},
        {"reason": "ok", "limit": True},  # strict: a boolean is no number
    ],
)
def test_no_error_echoes_the_value_sent(body: dict[str, object]) -> None:
    errors = errors_of(body)
    assert errors
    assert HETU not in json.dumps(errors)


def test_text_refuses_nul_from_any_source() -> None:
    class Note(Body):
        text: Annotated[str, Text(10)]

    with pytest.raises(ValidationProblem) as caught:
        validate_body({"text": "a\x00b"}, Note)
    assert caught.value.errors == [
        {"field": "text", "message": "must not contain NUL characters or lone surrogates"}
    ]


def test_a_description_says_what_to_send_in_nested_fields_too() -> None:
    with pytest.raises(ValidationProblem) as caught:
        validate_body({"reason": "ok", "items": [{"customer_id": "x", "role": 3}]}, Sample)
    assert caught.value.errors[1] == {"field": "items[0].role", "message": "tenant or co-tenant"}


class Period(Body):
    start: Annotated[int, Between(1, 10)]
    end: Annotated[int, Between(1, 10)]

    @model_validator(mode="after")
    def in_order(self) -> Period:
        if self.end < self.start:
            raise refuse("the end comes before the start")  # blames no field
        return self


class Pair(Body):
    left: int = 0

    @model_validator(mode="before")
    @classmethod
    def not_empty(cls, raw: object) -> object:
        if raw == {}:
            raise ValueError("send left")
        return raw


def test_a_model_level_error_is_under_body() -> None:
    """A check of the body as a whole, not of one field, names ``body`` in the 422 (the
    console shows it above the form), whether raised as ours or as a plain ValueError."""
    with pytest.raises(ValidationProblem) as caught:
        validate_body({"start": 5, "end": 2}, Period)
    assert caught.value.errors == [{"field": "body", "message": "the end comes before the start"}]
    with pytest.raises(ValidationProblem) as caught:
        validate_body({}, Pair)
    [error] = caught.value.errors
    assert error["field"] == "body"
    assert "send left" in error["message"]
    with pytest.raises(ValidationProblem) as caught:  # field errors first: no model check
        validate_body({"start": HETU, "end": 2}, Period)
    assert caught.value.errors == [{"field": "start", "message": "a whole number from 1 to 10"}]
