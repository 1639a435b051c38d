"""Print a notice as HTML (a page that needs no script), Markdown or JSON.

The HTML carries its one stylesheet inline and is admitted by the stylesheet's hash in the
Content-Security-Policy, so a saved copy prints the same and the page still allows no script
at all. A "to be completed" mark is a ``<mark>`` in HTML, bold in Markdown, and in JSON both
inside the text and listed under ``to_be_completed``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from html import escape
from typing import Any, Final
from zoneinfo import ZoneInfo

from compliance.document import Bullets, Line, Missing, Notice, Para, Section
from compliance.texts import say
from rights.wording import LANGUAGES, Language, language_of

OWN_NAMES: Final[dict[Language, str]] = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}

STYLE: Final = """
body { font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a; background: #fff;
  max-width: 46rem; margin: 0 auto; padding: 1rem; }
a { color: #0b4fb3; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0 1.25rem; }
mark.todo { background: #ffe08a; color: #000; font-weight: bold; padding: 0 .2em; }
article + article { border-top: 2px solid #ccc; margin-top: 2rem; }
footer { color: #444; margin-top: 2rem; font-size: .9rem; }
@media print {
  nav { display: none; }
  body { max-width: none; font-size: 11pt; color: #000; }
  article + article { break-before: page; border: 0; }
  h2, h3 { break-after: avoid; }
  mark.todo { border: 1px solid #000; }
}
"""
STYLE_HASH: Final = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# The console's policy, with the inline stylesheet admitted by its hash and nothing else.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        f"style-src 'sha256-{STYLE_HASH}'",
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


def mark(piece: Missing, language: Language) -> str:
    """The visible words of a missing fact: "[to be completed: business ID]"."""
    return f"[{say(language, 'todo')}: {say(language, f'field.{piece.field}')}]"


def plain(text: Line, language: Language) -> str:
    """A line as plain text, marks included."""
    return "".join(p if isinstance(p, str) else mark(p, language) for p in text)


def _html_line(text: Line, language: Language) -> str:
    return "".join(
        escape(p)
        if isinstance(p, str)
        else f'<mark class="todo">{escape(mark(p, language))}</mark>'
        for p in text
    )


def _html_section(number: int, section: Section, level: int, language: Language) -> str:
    parts = [f"<section><h{level}>{number}. {escape(section.heading)}</h{level}>"]
    for block in section.blocks:
        if isinstance(block, Para):
            parts.append(f"<p>{_html_line(block.text, language)}</p>")
        elif block.items:
            items = "".join(f"<li>{_html_line(i, language)}</li>" for i in block.items)
            parts.append(f"<ul>{items}</ul>")
    parts.append("</section>")
    return "".join(parts)


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def html_article(notice: Notice, level: int | None = 2) -> str:
    """One notice as an ``<article>``, its title at heading ``level`` and its sections one
    below; with ``level`` None the page's own h1 is the title and the sections are h2."""
    language = language_of(notice.language)
    anchor = notice.register.replace("_", "-")
    below = 2 if level is None else level + 1
    sections = "".join(
        _html_section(n, s, below, language) for n, s in enumerate(notice.sections, 1)
    )
    if level is None:
        return f'<article id="{anchor}">{sections}</article>'
    return (
        f'<article id="{anchor}" aria-labelledby="{anchor}-title">'
        f'<h{level} id="{anchor}-title">{escape(notice.title)}</h{level}>{sections}</article>'
    )


def _language_links(language: Language, link: Callable[[Language], str]) -> str:
    links = "".join(
        f'<li><a href="{escape(link(other))}" lang="{other}" hreflang="{other}">'
        f"{OWN_NAMES[other]}</a></li>"
        for other in LANGUAGES
        if other != language
    )
    return f'<nav aria-label="{escape(say(language, "other_languages"))}"><ul>{links}</ul></nav>'


def html_page(
    notices: Iterable[Notice], language: Language, zone: ZoneInfo, link: Callable[[Language], str]
) -> str:
    """A whole page: one notice with its title as the page heading, or several under one."""
    notices = list(notices)
    single = len(notices) == 1
    title = notices[0].title if single else say(language, "page_title")
    contents = ""
    if not single:
        links = "".join(
            f'<li><a href="#{n.register.replace("_", "-")}">{escape(n.title)}</a></li>'
            for n in notices
        )
        contents = f'<nav aria-label="{escape(say(language, "contents"))}"><ul>{links}</ul></nav>'
    articles = "".join(html_article(n, None if single else 2) for n in notices)
    updated = _local(notices[0].generated_at, zone)
    return (
        f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header>{_language_links(language, link)}<h1>{escape(title)}</h1>"
        f"<p>{escape(notices[0].intro)}</p>{contents}</header>"
        f"<main>{articles}</main>"
        f"<footer><p>{escape(say(language, 'generated'))}: {escape(updated)}</p></footer>"
        "</body></html>\n"
    )


def markdown(notice: Notice, zone: ZoneInfo) -> str:
    """One notice as Markdown (marks in bold)."""
    language = language_of(notice.language)

    def md(text: Line) -> str:
        return "".join(p if isinstance(p, str) else f"**{mark(p, language)}**" for p in text)

    out = [f"# {notice.title}", "", notice.intro, ""]
    for number, section in enumerate(notice.sections, 1):
        out += [f"## {number}. {section.heading}", ""]
        for block in section.blocks:
            if isinstance(block, Para):
                out += [md(block.text), ""]
            elif block.items:
                out += [*(f"- {md(item)}" for item in block.items), ""]
    out += [f"{say(language, 'generated')}: {_local(notice.generated_at, zone)}", ""]
    return "\n".join(out)


def as_json(notice: Notice) -> dict[str, Any]:
    """One notice as JSON: sections of paragraphs and lists, and the facts still missing."""
    language = language_of(notice.language)

    def block(item: Para | Bullets) -> dict[str, Any]:
        if isinstance(item, Para):
            return {"paragraph": plain(item.text, language)}
        return {"list": [plain(i, language) for i in item.items]}

    return {
        "register": notice.register,
        "language": notice.language,
        "title": notice.title,
        "intro": notice.intro,
        "generated_at": notice.generated_at.isoformat(),
        "sections": [
            {
                "number": number,
                "key": section.key,
                "heading": section.heading,
                "blocks": [
                    block(b) for b in section.blocks if not isinstance(b, Bullets) or b.items
                ],
            }
            for number, section in enumerate(notice.sections, 1)
        ],
        "to_be_completed": notice.missing(),
    }
