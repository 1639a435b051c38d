"""The shared parsers every route reads client input with, and the database-error mapping."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from api.middleware import database_refusal
from api.pagination import decode_cursor, decode_time_cursor, page_limit
from api.problems import problem_response
from common.errors import ValidationProblem
from common.inputs import load_json, load_json_object, parse_event_time, parse_int, parse_time
from storage.db import Pool

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def fields(problem: pytest.ExceptionInfo[ValidationProblem]) -> list[str]:
    return [e["field"] for e in problem.value.errors]


def test_deep_json_is_refused_by_a_scan_not_by_recursion() -> None:
    started = time.perf_counter()
    for raw in (b"[" * 200_000 + b"]" * 200_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        with pytest.raises(ValidationProblem) as caught:
            load_json(raw)
        assert "nested" in caught.value.errors[0]["message"]
    assert time.perf_counter() - started < 2
    assert load_json(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[["}') == {
        "a": '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["[[['
    }
    assert load_json(b"[" * 32 + b"]" * 32) is not None


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"name": "a\\u0000b"}', "name"),
        (b'{"a\\u0000": 1}', "body"),
        (b'{"list": ["ok", "\\ud800"]}', "list[1]"),
        (b'{"deep": {"er": "\\udfff x"}}', "deep.er"),
        (b'{"a": "\xed\xa0\x80"}', "body"),  # a surrogate in UTF-8 form is not UTF-8
        (b'{"a": "\xff"}', "body"),
        (b'{"a": NaN}', "body"),
        (b'{"a": -Infinity}', "body"),
        (b'{"a": ' + b"9" * 5000 + b"}", "body"),
        (b"{", "body"),
    ],
)
def test_json_reader_names_what_it_refuses(raw: bytes, field: str) -> None:
    with pytest.raises(ValidationProblem) as caught:
        load_json(raw)
    assert fields(caught) == [field]


def test_a_proper_surrogate_pair_is_just_a_character() -> None:
    assert load_json(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}
    with pytest.raises(ValidationProblem):
        load_json_object(b"[1]")


@pytest.mark.parametrize(
    "raw", ["\u00b2", "\u0661", "9" * 5000, "-1", "0", "201", " 5", "1e2", True]
)
def test_whole_numbers_are_ascii_digits_in_range(raw: object) -> None:
    with pytest.raises(ValidationProblem) as caught:
        parse_int(raw, "limit", 1, 200)
    assert fields(caught) == ["limit"]
    assert parse_int("007", "limit", 1, 200) == 7
    assert parse_int(200, "limit", 1, 200) == 200
    with pytest.raises(ValidationProblem):
        page_limit({"limit": str(raw)})


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "0001-01-01T00:00:00+00:00",
        "2026-11-23T10:15:00",  # no zone
        "2026-11-23T10:15:00+02:00" + " " * 100,
        "\uff12\uff10\uff12\uff16-11-23T10:15:00+02:00",  # full-width digits
        20261123,
    ],
)
def test_times_are_aware_and_fit_python_and_postgresql(raw: object) -> None:
    with pytest.raises(ValidationProblem) as caught:
        parse_time(raw, "from")
    assert fields(caught) == ["from"]


def test_event_times_are_plausible() -> None:
    assert parse_event_time("2000-01-01T02:00:00+02:00", "started_at", NOW).year == 2000
    assert parse_event_time((NOW + timedelta(hours=23)).isoformat(), "started_at", NOW)
    for raw in ("1999-12-31T23:59:59+00:00", (NOW + timedelta(hours=25)).isoformat()):
        with pytest.raises(ValidationProblem) as caught:
            parse_event_time(raw, "started_at", NOW)
        assert "implausible" in caught.value.errors[0]["message"]


def cursor(key: object) -> str:
    raw = key if isinstance(key, bytes) else json.dumps(key).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        "!!!",
        "\u00e9",
        "A" * 5000,
        cursor(b"\xff\xfe"),
        cursor(b"[" * 5000),
        cursor(b"NaN"),
        cursor({"a": 1}),
        cursor([None, None]),
        cursor([True, False]),
        cursor([10**30, "x"]),
        cursor(["\u0000", "x"]),
        cursor(["0001-01-01T00:00:00+14:00", str(uuid.uuid4())]),
        cursor(["2026-11-23T10:00:00+02:00", "not an id"]),
    ],
)
def test_any_garbage_in_a_cursor_is_one_422(raw: str) -> None:
    with pytest.raises(ValidationProblem) as caught:
        decode_time_cursor(raw)
    assert fields(caught) == ["cursor"]
    with pytest.raises(ValidationProblem):
        decode_cursor(raw, 1)


async def test_database_refusals_become_409_or_422_without_values(pool: Pool) -> None:
    secret = "+358401234567"
    await pool.execute(
        "CREATE TABLE parent (id int PRIMARY KEY);"
        "CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent,"
        " phone text UNIQUE, n int CHECK (n > 0), d date NOT NULL DEFAULT now())"
    )
    await pool.execute("INSERT INTO parent VALUES (1)")
    await pool.execute("INSERT INTO child VALUES (1, 1, $1, 1)", secret)
    cases = [
        ("INSERT INTO child (id, parent_id) VALUES (2, 99)", 422, "parent_id"),
        ("DELETE FROM parent", 409, None),
        ("INSERT INTO child (id, phone) VALUES (3, $1)", 409, None),
        ("INSERT INTO child (id, n) VALUES (4, -1)", 422, "child_n_check"),
        ("INSERT INTO child (id, d) VALUES (5, NULL)", 422, "d"),
        ("SELECT $1::text::int", 422, "body"),
        ("SELECT 2147483647 + $1::int", 422, "body"),
    ]
    for sql, status, field in cases:
        args = [secret] if "$1" in sql else []
        with pytest.raises(asyncpg.PostgresError) as caught:
            await pool.execute(sql, *args)
        problem = database_refusal(caught.value)
        assert problem is not None, sql
        assert problem.status == status, sql
        assert secret not in repr((problem.detail, problem.errors)), sql
        assert "99" not in problem.detail
        if field is not None:
            assert [e["field"] for e in problem.errors] == [field], sql


def test_a_problem_answer_survives_a_lone_surrogate_in_its_text() -> None:
    response = problem_response(422, "validation", "Bad", "part \ud800 ä", request_id=None)
    assert isinstance(response.body, bytes)
    assert json.loads(response.body)["detail"] == "part \ud800 ä"
