"""The shared plain-language words: every retention category in every language, live figures."""

from __future__ import annotations

import dataclasses

import pytest

from common.settings import RETENTION_DEFAULTS, Settings
from rights.wording import (
    LANGUAGES,
    RETENTION,
    language_of,
    period,
    retention_sentences,
    rights,
)


def test_every_category_has_words_in_every_language() -> None:
    for language in LANGUAGES:
        assert set(RETENTION[language]) == set(RETENTION_DEFAULTS)


@pytest.mark.parametrize(
    ("days", "language", "words"),
    [
        (90, "fi", "90 päivää"),
        (1, "fi", "1 päivä"),
        (365, "fi", "1 vuosi"),
        (1095, "fi", "3 vuotta"),
        (730, "sv", "2 år"),
        (14, "sv", "14 dagar"),
        (1, "en", "1 day"),
        (400, "en", "400 days"),
        (365, "en", "1 year"),
    ],
)
def test_period_in_words(days: int, language: str, words: str) -> None:
    assert period(days, language_of(language)) == words


def test_sentences_follow_the_settings() -> None:
    settings = dataclasses.replace(Settings(), retention_recordings_days=45)
    fi = retention_sentences(settings, "fi", ("recordings",))
    assert fi == ["Puhelutallenteet: säilytysaika 45 päivää puhelun päivästä."]
    assert "kept for 45 days" in retention_sentences(settings, "en")[0]


def test_the_access_target_comes_from_the_setting() -> None:
    access = {r.key: r for r in rights("fi", 10)}["access"]
    assert "10 päivän kuluessa" in access.text
    assert "within 7 days" in {r.key: r for r in rights("en", 7)}["access"].text


def test_unknown_language_falls_back_to_finnish() -> None:
    assert language_of("de") == "fi"
    assert language_of(None) == "fi"
    assert language_of("sv") == "sv"
