"""The shape of a generated notice, independent of how it is printed (HTML, Markdown, JSON).

A line of text is a run of pieces: plain text, or a :class:`Missing` mark where the
organisation profile has not given a fact yet. The renderers turn a mark into something a
reader cannot overlook ("[to be completed: business ID]"), never into invented text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Missing:
    """A fact the organisation profile must still give; ``field`` is its key in the file."""

    field: str


Piece = str | Missing
Line = tuple[Piece, ...]


def line(*pieces: Piece) -> Line:
    """A line from its pieces (a helper that keeps call sites short)."""
    return tuple(pieces)


def known(value: str | None, profile_field: str) -> Piece:
    """``value``, or the mark for ``profile_field`` when the profile has not given it."""
    return Missing(profile_field) if value is None else value


@dataclass(frozen=True)
class Para:
    """A paragraph."""

    text: Line


@dataclass(frozen=True)
class Bullets:
    """A bulleted list (nothing is printed for an empty one)."""

    items: tuple[Line, ...]


Block = Para | Bullets


def paras(*texts: str) -> tuple[Para, ...]:
    """Paragraphs of plain text."""
    return tuple(Para((text,)) for text in texts)


def bullets(texts: list[str]) -> Bullets:
    """A list of plain-text items."""
    return Bullets(tuple((text,) for text in texts))


@dataclass(frozen=True)
class Section:
    """One numbered section: a heading and its paragraphs and lists, in order."""

    key: str
    heading: str
    blocks: tuple[Block, ...]

    def lines(self) -> list[Line]:
        """Every line of the section, paragraphs and list items alike."""
        found: list[Line] = []
        for block in self.blocks:
            found.extend([block.text] if isinstance(block, Para) else block.items)
        return found


@dataclass(frozen=True)
class Notice:
    """One register's privacy notice in one language."""

    register: str
    language: str
    title: str
    intro: str
    generated_at: datetime
    sections: tuple[Section, ...] = field(default=())

    def missing(self) -> list[str]:
        """The profile fields still to be completed, each once, in order of appearance."""
        found: dict[str, None] = {}
        for section in self.sections:
            for text in section.lines():
                for piece in text:
                    if isinstance(piece, Missing):
                        found[piece.field] = None
        return list(found)
