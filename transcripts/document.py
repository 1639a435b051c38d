"""The transcript document: segments per channel with word timestamps, as stored and served.

The JSON is the contract's shape (ARCHITECTURE.md section 8); it is sealed like the audio,
so this module only builds, reads and masks it and never touches storage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

REDACTED: Final = "[redacted]"
WordRow = tuple[str, float, float, str]
"""One word as :func:`word_rows` reads it: channel, start, end, the word as written."""
CHANNELS: Final = ("agent", "customer", "mono")


@dataclass(frozen=True)
class Word:
    """One spoken word and when it was said, in seconds from the start of the call."""

    start: float
    end: float
    word: str

    def as_json(self) -> dict[str, Any]:
        """The contract's word object."""
        return {"start": self.start, "end": self.end, "word": self.word}


@dataclass(frozen=True)
class Segment:
    """A stretch of speech on one channel: ``agent``, ``customer`` or ``mono``."""

    start: float
    end: float
    channel: str
    text: str
    words: tuple[Word, ...]

    def as_json(self) -> dict[str, Any]:
        """The contract's segment object."""
        return {
            "start": self.start,
            "end": self.end,
            "channel": self.channel,
            "text": self.text,
            "words": [w.as_json() for w in self.words],
        }


@dataclass(frozen=True)
class Span:
    """A redaction span as the transcript needs it: when, and on which channel(s)."""

    start_seconds: float
    end_seconds: float
    channel: str  # both | agent | customer


@dataclass(frozen=True)
class Transcript:
    """A whole call's transcript, its segments in time order."""

    language: str
    segments: tuple[Segment, ...]

    def as_json(self) -> dict[str, Any]:
        """The stored and served document (without the status, which the header row has)."""
        return {"language": self.language, "segments": [s.as_json() for s in self.segments]}

    def to_bytes(self) -> bytes:
        """The sealed payload."""
        return json.dumps(self.as_json(), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, payload: bytes) -> Transcript:
        """Read a payload :meth:`to_bytes` wrote."""
        document = json.loads(payload)
        return cls(
            document["language"],
            tuple(
                Segment(
                    s["start"],
                    s["end"],
                    s["channel"],
                    s["text"],
                    tuple(Word(w["start"], w["end"], w["word"]) for w in s["words"]),
                )
                for s in document["segments"]
            ),
        )

    def words(self) -> Iterable[tuple[Segment, Word]]:
        """Every word with the segment it is in."""
        for segment in self.segments:
            for word in segment.words:
                yield segment, word

    def redacted(self, spans: Sequence[Span]) -> Transcript:
        """The transcript a trainer may read: each word said inside a span on its channel
        becomes ``[redacted]`` (runs of them fold into one), and so does the segment text.

        A word is masked when any part of it overlaps a span, so a word cut in two by a span's
        edge is never half shown. A mono call's spans are all ``both``.
        """
        if not spans:
            return self
        return Transcript(self.language, tuple(_masked(s, spans) for s in self.segments))


def word_rows(payload: bytes) -> tuple[str, Iterator[WordRow]]:
    """The language and every word of a payload :meth:`Transcript.to_bytes` wrote, read
    straight from the JSON: a search opens a page of transcripts per request, and building
    each whole document (a dataclass per word) cost it more than reading them."""
    document = json.loads(payload)
    rows = (
        (segment["channel"], word["start"], word["end"], word["word"])
        for segment in document["segments"]
        # a segment without word timestamps is one row: its text, its times
        for word in segment["words"] or [segment | {"word": segment["text"]}]
    )
    return document["language"], rows


def _meets(start: float, end: float, span: Span) -> bool:
    """Whether ``[start, end]`` overlaps the span: by any length, or, for a zero-length word
    (Whisper gives them, and rounds times), by lying on it, edges included."""
    if start == end:
        return span.start_seconds <= start <= span.end_seconds
    return start < span.end_seconds and end > span.start_seconds


def _hidden(segment: Segment, word: Word, spans: Sequence[Span]) -> bool:
    return any(
        span.channel in ("both", segment.channel) and _meets(word.start, word.end, span)
        for span in spans
    )


def _masked(segment: Segment, spans: Sequence[Span]) -> Segment:
    words: list[Word] = []
    touched = False
    for word in segment.words:
        if not _hidden(segment, word, spans):
            words.append(word)
            continue
        touched = True
        if words and words[-1].word.strip() == REDACTED:
            words[-1] = Word(words[-1].start, word.end, words[-1].word)
        else:
            words.append(Word(word.start, word.end, " " + REDACTED))
    overlaps = any(
        span.channel in ("both", segment.channel) and _meets(segment.start, segment.end, span)
        for span in spans
    )
    if not touched and not overlaps:
        return segment
    # The text is rebuilt from the words, so nothing said in a span survives in it; a segment
    # without word timestamps that meets a span is masked whole.
    text = "".join(w.word for w in words).strip() if segment.words else REDACTED
    return Segment(segment.start, segment.end, segment.channel, text, tuple(words))
