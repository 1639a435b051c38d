"""Opening sealed transcripts, and finding where searched words were said in them.

The index only says which calls hold every term; the times come from opening the matched
transcripts of the page being answered (a few dozen at most), so no position is ever stored
beside a token.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from storage.db import Connection, Pool
from storage.vault import Vault, load_sealed, load_sealed_many
from transcripts.document import Transcript, WordRow, word_rows
from transcripts.store import Header
from transcripts.terms import base_form, normalise, terms

MAX_HITS: Final = 100  # places listed per call


class TranscriptGone(Exception):
    """The header says ready but its sealed object is gone (erased meanwhile)."""


@dataclass(frozen=True)
class Hit:
    """One place a searched word was said."""

    start: float
    end: float
    channel: str
    word: str

    def as_json(self) -> dict[str, object]:
        """The search answer's match object."""
        return {"start": self.start, "end": self.end, "channel": self.channel, "word": self.word}


async def open_transcript(db: Connection | Pool, vault: Vault, header: Header) -> Transcript:
    """The transcript a ready header points at."""
    sealed = None if header.object_id is None else await load_sealed(db, header.object_id)
    if sealed is None:
        raise TranscriptGone(str(header.recording_id))
    payload = await vault.read_all(sealed)
    return await asyncio.to_thread(Transcript.from_bytes, payload)  # a long call: CPU work


def query_terms(text: str, language: str) -> list[str]:
    """The distinct base forms of a search text, in the order given."""
    return list(dict.fromkeys(terms(text, language)))


@lru_cache(maxsize=65536)
def said_terms(word: str, language: str) -> frozenset[str]:
    """The base forms in one word as the model wrote it (" Kiitos," → kiitos); cached, as a
    page of calls says the same few hundred words again and again."""
    return frozenset(base_form(w, language) for w in normalise(word))


def _hits(
    language: str, rows: Iterable[WordRow], wanted: Sequence[str], said: dict[str, bool]
) -> list[Hit]:
    """The hits among ``rows``; ``said`` remembers, for one search, whether a word as
    written is wanted (a page of calls repeats the same few hundred words)."""
    looking = frozenset(wanted)
    found = []
    for channel, start, end, word in rows:
        hit = said.get(word)
        if hit is None:
            hit = said[word] = not looking.isdisjoint(said_terms(word, language))
        if hit:
            found.append(Hit(start, end, channel, word.strip()))
            if len(found) == MAX_HITS:  # where to start listening, not a concordance
                break
    return found


async def hits_of(
    pool: Pool, vault: Vault, headers: Sequence[Header], wanted: Sequence[str]
) -> dict[uuid.UUID, list[Hit]]:
    """The hits in each of these transcripts; gone ones are left out. The objects are read
    concurrently, then read for words in one thread: a page is tens of milliseconds of
    work (and the lemmatiser's first use loads its dictionary), which must not stall every
    other request on this event loop, and one hand-over costs less than one per call."""
    ready = [h for h in headers if h.object_id is not None]
    sealed = await load_sealed_many(pool, [h.object_id for h in ready if h.object_id])

    async def one(header: Header) -> tuple[uuid.UUID, bytes] | None:
        found = None if header.object_id is None else sealed.get(header.object_id)
        if found is None:
            return None
        return header.recording_id, await vault.read_all(found)

    payloads = [p for p in await asyncio.gather(*(one(h) for h in ready)) if p is not None]
    return await asyncio.to_thread(_page_hits, payloads, wanted)


def _page_hits(
    payloads: Sequence[tuple[uuid.UUID, bytes]], wanted: Sequence[str]
) -> dict[uuid.UUID, list[Hit]]:
    said: dict[str, dict[str, bool]] = {}  # by language, shared by the page
    found = {}
    for recording_id, payload in payloads:
        language, rows = word_rows(payload)
        found[recording_id] = _hits(language, rows, wanted, said.setdefault(language, {}))
    return found
