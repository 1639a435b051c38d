"""Opening sealed transcripts, and finding where searched words were said in them.

The index only says which calls hold every term; the times come from opening the matched
transcripts of the page being answered (a few dozen at most), so no position is ever stored
beside a token.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Connection, Pool
from storage.vault import Vault, load_sealed, load_sealed_many
from transcripts.document import Transcript
from transcripts.store import Header
from transcripts.terms import base_form, normalise, terms


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
    return Transcript.from_bytes(await vault.read_all(sealed))


def query_terms(text: str, language: str) -> list[str]:
    """The distinct base forms of a search text, in the order given."""
    return list(dict.fromkeys(terms(text, language)))


def hits(transcript: Transcript, wanted: Sequence[str]) -> list[Hit]:
    """Where in ``transcript`` a word whose base form is one of ``wanted`` was said."""
    looking = set(wanted)
    found = []
    for segment, word in transcript.words():
        said = normalise(word.word)
        if any(base_form(w, transcript.language) in looking for w in said):
            found.append(Hit(word.start, word.end, segment.channel, word.word.strip()))
    return found


async def hits_of(
    pool: Pool, vault: Vault, headers: Sequence[Header], wanted: Sequence[str]
) -> dict[uuid.UUID, list[Hit]]:
    """The hits in each of these transcripts, opened concurrently; gone ones are left out."""
    ready = [h for h in headers if h.object_id is not None]
    sealed = await load_sealed_many(pool, [h.object_id for h in ready if h.object_id])

    async def one(header: Header) -> tuple[uuid.UUID, list[Hit]] | None:
        found = None if header.object_id is None else sealed.get(header.object_id)
        if found is None:
            return None
        transcript = Transcript.from_bytes(await vault.read_all(found))
        return header.recording_id, await asyncio.to_thread(hits, transcript, wanted)

    answers = await asyncio.gather(*(one(h) for h in ready))
    return dict(a for a in answers if a is not None)
