"""Henkilötunnus under the 2023 rules: the vectors of DOMAIN.md, and messages that hide it."""

from __future__ import annotations

from datetime import date

import pytest

from register.identity import parse_henkilotunnus
from storage.fieldcrypt import FieldCipher


@pytest.mark.parametrize(
    ("code", "birth"),
    [
        ("131052-308T", date(1952, 10, 13)),
        ("131052A308T", date(2052, 10, 13)),
        ("131052B308T", date(2052, 10, 13)),
        ("131052X308T", date(1952, 10, 13)),
        ("010195+433X", date(1895, 1, 1)),
        ("290200A248A", date(2000, 2, 29)),
        (" 131052-308t ", date(1952, 10, 13)),
    ],
)
def test_valid_codes_and_birth_dates(code: str, birth: date) -> None:
    parsed = parse_henkilotunnus(code)
    assert parsed.birth_date == birth
    assert parsed.value == code.strip().upper()
    assert not parsed.temporary


@pytest.mark.parametrize(
    "code", ["131052-308U", "131052T308T", "310252-308Y", "290200-101P", "131052-000V", "", "zz"]
)
def test_invalid_codes_are_refused_without_echo(code: str) -> None:
    with pytest.raises(ValueError, match=r"\w") as caught:
        parse_henkilotunnus(code)
    if code:
        assert code not in str(caught.value)


def test_the_separator_makes_a_different_person() -> None:
    a, b = parse_henkilotunnus("100190-999P"), parse_henkilotunnus("100190Y999P")
    assert a.temporary
    assert b.temporary
    assert a.value != b.value
    cipher = FieldCipher(bytes(16))
    assert cipher.blind_index("hetu", a.value) != cipher.blind_index("hetu", b.value)
    assert "999P" not in repr(a)


def test_field_encryption_is_bound_to_its_context() -> None:
    cipher = FieldCipher(bytes(range(16)))
    sealed = cipher.encrypt("131052-308T", "customers.hetu:1")
    assert b"131052" not in sealed
    assert cipher.decrypt(sealed, "customers.hetu:1") == "131052-308T"
    with pytest.raises(Exception, match="does not decrypt"):
        cipher.decrypt(sealed, "customers.hetu:2")
    assert cipher.encrypt("x", "c") != cipher.encrypt("x", "c")  # fresh nonce each time
