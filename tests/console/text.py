"""Reading the console's scripts without a browser: the text tables of ``i18n.js`` and the
string literals and lookups of every module."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final

STATIC: Final = Path(__file__).resolve().parents[2] / "console" / "static"
VENDORED: Final = {"wavesurfer.esm.js"}
Table = dict[str, "str | Table"]
_TOKEN: Final = re.compile(
    r'\s+|//[^\n]*|(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<name>[A-Za-z_$][\w$]*)|(?P<punct>[{}:,])|(?P<other>.)'
)


def modules() -> dict[str, str]:
    """The console's own scripts (not the vendored player) by file name."""
    return {p.name: p.read_text() for p in sorted(STATIC.glob("*.js")) if p.name not in VENDORED}


def _tokens(source: str) -> list[tuple[str, str]]:
    return [(m.lastgroup, m.group()) for m in _TOKEN.finditer(source) if m.lastgroup is not None]


def _object(tokens: list[tuple[str, str]], at: int) -> tuple[Table, int]:
    """The object literal starting at ``tokens[at]`` (a ``{``) and the index after it."""
    assert tokens[at] == ("punct", "{"), tokens[at]
    table: Table = {}
    at += 1
    while tokens[at] != ("punct", "}"):
        kind, key = tokens[at]
        assert kind in ("name", "string"), tokens[at]
        assert tokens[at + 1] == ("punct", ":"), tokens[at + 1]
        name = json.loads(key) if kind == "string" else key
        kind, value = tokens[at + 2]
        if kind == "string":
            table[name], at = json.loads(value), at + 3
        else:
            table[name], at = _object(tokens, at + 2)
        if tokens[at] == ("punct", ","):
            at += 1
    return table, at + 1


def text_tables() -> dict[str, Table]:
    """``TEXT`` of i18n.js: language → key → text (or a nested table)."""
    source = (STATIC / "i18n.js").read_text()
    start = source.index("const TEXT = ") + len("const TEXT = ")
    tables, _ = _object(_tokens(source[start:]), 0)
    return {language: table for language, table in tables.items() if isinstance(table, dict)}


def string_literals(source: str) -> list[str]:
    """Every double-quoted string in ``source`` (comments left out)."""
    return [json.loads(text) for kind, text in _tokens(source) if kind == "string"]
