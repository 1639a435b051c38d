"""The console's Finnish and English texts mirror each other, and every text a module asks
for exists. No browser: the tables are read from i18n.js as data."""

from __future__ import annotations

import re
from typing import Final

from tests.console.text import Table, modules, string_literals, text_tables

LANGUAGES: Final = ("fi", "en")


def _flat(table: Table, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def used_keys() -> set[str]:
    """Every ``t("key")`` the modules ask for, and the pages' labels (``t(page.label)``)."""
    keys: set[str] = set()
    for source in modules().values():
        for arguments in re.findall(r"\bt\(([^()]*)\)", source):
            keys |= set(string_literals(arguments))
    pages = re.findall(r'\{ path: "([\w-]+)"(?:, label: "(\w+)")?', modules()["app.js"])
    assert pages, "the page table of app.js moved; update this scan"
    return keys | {label or path for path, label in pages}


def used_tables() -> set[str]:
    """The tables that ``term``, ``named`` and ``choices`` look values up in."""
    calls = r'\b(term|named|choices)\(\s*"(\w+)"'
    found = {(f, table) for source in modules().values() for f, table in re.findall(calls, source)}
    return {table if f == "term" else f"names.{table}" for f, table in found}


def test_finnish_and_english_have_the_same_keys_and_no_empty_text() -> None:
    tables = text_tables()
    assert set(tables) == set(LANGUAGES)
    fi, en = (_flat(tables[language]) for language in LANGUAGES)
    assert sorted(fi.keys() - en.keys()) == [], "only in Finnish"
    assert sorted(en.keys() - fi.keys()) == [], "only in English"
    for language in LANGUAGES:
        empty = [key for key, text in _flat(tables[language]).items() if not text.strip()]
        assert empty == [], language


def test_every_text_a_module_asks_for_exists_in_both_languages() -> None:
    tables = text_tables()
    keys = used_keys()
    assert {"login", "recordings", "newRequest", "yes", "releaseForTraining"} <= keys  # the scan
    for language in LANGUAGES:
        table = tables[language]
        assert sorted(k for k in keys if not isinstance(table.get(k), str)) == [], language
        flat = _flat(table)
        missing = [
            name for name in used_tables() if not any(k.startswith(f"{name}.") for k in flat)
        ]
        assert missing == [], language
