"""``index.html`` of the access copy: everything in the package as pages a person can read.

Opened from the unpacked folder, with no network and no script: each section is a table or
a list with headings in words (:mod:`rights.copy_words`), each call plays in place from its
file beside the page (a relative link), and retention periods and rights are told in the
privacy notice's own words (:mod:`rights.wording`). Times are shown in the service's time
zone. Every value is escaped: a name in the register can hold ``<script>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from html import escape
from typing import Any, Final

from common.settings import Settings
from rights.copy_words import LABELS, TEXT, VALUES
from rights.export_transcripts import TRANSCRIPT_KEYS, clock
from rights.wording import (
    HEADINGS,
    Language,
    how_to_ask,
    legal_hold_sentence,
    retention_sentences,
    rights,
)
from transcripts.document import Transcript

# Keys whose values are codes with words (VALUES); any other value is shown as stored.
CODED: Final = frozenset(
    {
        "direction", "channel_layout", "purpose", "outcome", "channel", "topic", "kind",
        "recipient_kind", "roles", "role", "status", "type", "actor_role", "action",
        "object_type", "language", "given_via",
    }
)  # fmt: skip
# The file is the player, the transcript has its own block; the ingest format misleads.
SKIP: Final = ("file", "audio_format", *TRANSCRIPT_KEYS)
ISO_TIME: Final = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
STYLE: Final = """
body { font-family: system-ui, sans-serif; color: #1b1b1b; line-height: 1.45; margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #c9cdd1;
         vertical-align: top; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
article { border: 1px solid #c9cdd1; border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; }
audio { width: 100%; max-width: 32rem; }
ul.said { list-style: none; padding: 0; }
a { color: #0645ad; }
@media print { audio, nav { display: none; } }
"""


@dataclass
class CopyContents:
    """What the package holds, as the JSON files hold it (filled while the ZIP is written)."""

    recordings: list[dict[str, Any]] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)  # register/…, access_log/…
    files: list[str] = field(default_factory=list)  # the JSON and CSV members
    transcripts: dict[str, Transcript] = field(default_factory=dict)  # by recording id


class _Page:
    """One rendering: the language, the zone, and the escaping helpers."""

    def __init__(self, language: Language, zone: tzinfo) -> None:
        self.language = language
        self.zone = zone
        self.text = TEXT[language]

    def label(self, key: str) -> str:
        return escape(LABELS[self.language].get(key, key.replace("_", " ")))

    def when(self, value: datetime) -> str:
        local = value.astimezone(self.zone)
        return (
            local.strftime("%Y-%m-%d %H:%M ")
            + local.strftime("%z")[:3]
            + ":"
            + (local.strftime("%z")[3:])
        )

    def value(self, key: str, value: Any) -> str:
        """One value as escaped HTML: times in the zone, codes in words, lists joined."""
        if value is None or value == "" or value == []:
            return ""
        if isinstance(value, bool):
            return escape(self.text["yes" if value else "no"])
        if isinstance(value, datetime):
            return escape(self.when(value))
        if isinstance(value, date):
            return escape(value.isoformat())
        if isinstance(value, Mapping):
            return "; ".join(
                f"{self.label(k)}: {self.value(k, v)}" for k, v in value.items() if v is not None
            )
        if isinstance(value, list | tuple):
            items = [self.value(key, item) for item in value]
            if any(isinstance(item, Mapping) for item in value):
                return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"
            return ", ".join(items)
        text = str(value)
        if text == "masked":
            return escape(self.text["masked"])
        if ISO_TIME.match(text):
            try:
                return escape(self.when(datetime.fromisoformat(text)))
            except ValueError:
                pass
        if key in CODED:
            text = VALUES[self.language].get(text, text)
        return escape(text)

    def facts(self, record: Mapping[str, Any], skip: Sequence[str] = ()) -> str:
        rows = [
            f"<dt>{self.label(key)}</dt><dd>{self.value(key, value)}</dd>"
            for key, value in record.items()
            if key not in skip and value not in (None, "", [])
        ]
        return "<dl>" + "".join(rows) + "</dl>"

    def table(self, rows: Sequence[Mapping[str, Any]], caption: str) -> str:
        if not rows:
            return f"<p>{escape(self.text['none'])}</p>"
        columns = list(dict.fromkeys(key for row in rows for key in row))
        head = "".join(f'<th scope="col">{self.label(c)}</th>' for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{self.value(c, row.get(c))}</td>" for c in columns) + "</tr>"
            for row in rows
        )
        return (
            f'<table><caption class="visually-hidden">{escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


SECTIONS: Final = (  # (id, the package member it shows)
    ("register", "register/customer.json"),
    ("leases", "register/leases.json"),
    ("contact_log", "register/contact_log.json"),
    ("disclosures", "register/disclosures.json"),
    ("marketing", "register/marketing.json"),
    ("training_notes", "training/notes.json"),
    ("access_log", "access_log/about_you.json"),
    ("your_actions", "access_log/your_actions.json"),
)


def _recordings(
    page: _Page, recordings: list[dict[str, Any]], transcripts: Mapping[str, Transcript]
) -> str:
    parts = []
    for recording in recordings:
        heading = f"{page.text['recording']} {page.value('started_at', recording['started_at'])}"
        file = recording.get("file")
        if file:
            link = escape(file, quote=True)
            sound = (
                f'<audio controls preload="metadata" src="{link}"></audio>'
                f'<p><a href="{link}">{escape(page.text["audio_file"])}</a></p>'
            )
        else:
            sound = f"<p>{escape(page.text['no_audio'])}</p>"
        said = _transcript(page, recording, transcripts.get(recording["id"]))
        parts.append(
            f"<article><h3>{heading}</h3>{sound}{page.facts(recording, skip=SKIP)}{said}</article>"
        )
    return "".join(parts) or f"<p>{escape(page.text['none'])}</p>"


def _speaker(page: _Page, channel: str) -> str:
    return page.text.get(f"speaker_{channel}", channel)


def _transcript(page: _Page, recording: Mapping[str, Any], transcript: Transcript | None) -> str:
    """The call as text: its lines with who spoke, links to both files; or its state."""
    status = recording.get("transcript_status")
    if status is None:
        return ""
    heading = f"<h4>{escape(page.text['transcript'])}</h4>"
    if transcript is None:
        state = "transcript_failed" if status == "failed" else "transcript_pending"
        return f"{heading}<p>{escape(page.text[state])}</p>"
    notes = [page.text["transcript_intro"]]
    if recording.get("transcript_export") == "redacted":
        notes.append(page.text["transcript_redacted"])
    lines = "".join(
        f"<li><span>[{clock(s.start)}]</span> <strong>{escape(_speaker(page, s.channel))}:"
        f"</strong> {escape(s.text.strip())}</li>"
        for s in transcript.segments
    )
    links = "".join(
        f'<li><a href="{escape(recording[key], quote=True)}">{escape(page.text[label])}</a></li>'
        for key, label in (
            ("transcript_file", "transcript_text"),
            ("transcript_json_file", "transcript_json"),
        )
    )
    return f'{heading}<p>{escape(" ".join(notes))}</p><ul class="said">{lines}</ul><ul>{links}</ul>'


def _section(page: _Page, section: str, data: Any) -> str:
    if isinstance(data, Mapping):
        return page.facts(data)
    return page.table(list(data), page.text[section])


def render(
    contents: CopyContents,
    settings: Settings,
    language: Language,
    created: datetime,
) -> str:
    """The whole page, in ``language``, as one string of escaped HTML."""
    page = _Page(language, settings.timezone)
    text = page.text
    parts: list[tuple[str, str, str]] = [
        (
            "recordings",
            text["recordings"],
            _recordings(page, contents.recordings, contents.transcripts),
        )
    ]
    for section, member in SECTIONS:
        if member in contents.sections:
            body = _section(page, section, contents.sections[member])
            parts.append((section, text[section], body))
    kept = "".join(f"<li>{escape(s)}</li>" for s in retention_sentences(settings, language))
    parts.append(
        (
            "retention",
            HEADINGS[language]["retention"],
            f"<ul>{kept}</ul><p>{escape(legal_hold_sentence(language))}</p>",
        )
    )
    said = "".join(
        f"<h3>{escape(r.heading)}</h3><p>{escape(r.text)}</p>"
        for r in rights(language, settings.subject_request_due_days)
    )
    parts.append(
        ("rights", HEADINGS[language]["rights"], said + f"<p>{escape(how_to_ask(language))}</p>")
    )
    files = "".join(
        f'<li><a href="{escape(name, quote=True)}">{escape(name)}</a></li>'
        for name in contents.files
    )
    parts.append(("files", text["files"], f"<p>{escape(text['files_intro'])}</p><ul>{files}</ul>"))
    nav = "".join(f'<li><a href="#{key}">{escape(title)}</a></li>' for key, title, _ in parts)
    sections = "".join(
        f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{escape(title)}</h2>'
        f"{body}</section>"
        for key, title, body in parts
    )
    intro = text["intro"].format(created=page.when(created), zone=settings.timezone)
    return (
        f'<!doctype html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(text['title'])}</title>\n<style>{STYLE}"
        ".visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;"
        " clip-path: inset(50%); white-space: nowrap; }</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{escape(text['title'])}</h1>\n<p>{escape(intro)}</p>\n"
        f'<nav aria-label="{escape(text["contents"], quote=True)}"><ul>{nav}</ul></nav>\n'
        f"{sections}\n</main>\n</body>\n</html>\n"
    )
