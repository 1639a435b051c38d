"""RFC 9110 Range parsing, case by case."""

from __future__ import annotations

import pytest

from api.ranges import ByteRange, Unsatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", ByteRange(0, 1, 1000)),
        ("bytes=0-999", ByteRange(0, 1000, 1000)),
        ("bytes=0-5000", ByteRange(0, 1000, 1000)),
        ("bytes=500-", ByteRange(500, 1000, 1000)),
        ("bytes=-1", ByteRange(999, 1000, 1000)),
        ("bytes=-5000", ByteRange(0, 1000, 1000)),
        ("Bytes = 10 - 20", ByteRange(10, 21, 1000)),
        ("bytes=20-10", None),
        ("bytes=0-1,5-6", None),
        ("bytes=a-b", None),
        ("bytes=-", None),
        ("pages=1-2", None),
        ("bytes", None),
        ("bytes=0-" + "9" * 5000, ByteRange(0, 1000, 1000)),
        ("bytes=-" + "9" * 5000, ByteRange(0, 1000, 1000)),
        ("bytes=" + "0" * 5000 + "5-6", ByteRange(5, 7, 1000)),
        ("bytes=\u0661-\u0662", None),  # Arabic-Indic digits are not HTTP digits
        ("bytes=\u00b2-", None),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    ("header", "length"),
    [("bytes=1000-", 1000), ("bytes=-0", 1000), ("bytes=0-", 0), ("bytes=" + "9" * 5000 + "-", 10)],
)
def test_unsatisfiable(header: str, length: int) -> None:
    with pytest.raises(Unsatisfiable) as caught:
        parse_range(header, length)
    assert caught.value.content_range == f"bytes */{length}"


def test_content_range_is_inclusive() -> None:
    assert ByteRange(10, 21, 1000).content_range == "bytes 10-20/1000"
    assert ByteRange(10, 21, 1000).size == 11
