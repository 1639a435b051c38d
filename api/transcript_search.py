"""Keyword search over the blind transcript index, composed with the recordings' filters.

The words of a search text are reduced to their base forms and keyed into tokens
(:mod:`transcripts.terms`); the recordings list is narrowed to the calls whose index holds
every token (:func:`transcripts.store.matching_all`), so the existing filters and the keyset
cursor apply unchanged. The times where the words were said are found afterwards by opening
the transcripts of the page answered only. :func:`search_page` takes no request, so the
benchmark runs the same code as the API.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final

from pydantic import AfterValidator, Field

from common.errors import Problem
from common.models import Text, refuse
from recorder.catalog import IdsFrom, Recording, RecordingFilter, list_recordings
from storage.db import Pool
from storage.fieldcrypt import FieldCipher, load_data_key
from storage.keyring import Keyring
from storage.vault import Vault
from transcripts import store
from transcripts.reading import Hit, hits_of, query_terms
from transcripts.terms import DATA_KEY, MAX_WORD, WORD, TermKey, normalise

MAX_TEXT: Final = 200
MAX_WORDS: Final = 10
TEXT_SAYS: Final = (
    f"words said in the call, 1-{MAX_WORDS} words in at most {MAX_TEXT} characters; "
    "a call is found when every word was said in it (any inflection)"
)


def _words(text: str) -> str:
    """A search text holds 1 to ``MAX_WORDS`` words (letters or digits)."""
    if any(len(word) > MAX_WORD for word in WORD.findall(text.casefold())):
        raise refuse(f"a word is at most {MAX_WORD} letters; none that long is ever indexed")
    found = normalise(text)
    if not found:
        raise refuse("give at least one word to find (letters or digits)")
    if len(found) > MAX_WORDS:
        raise refuse(f"at most {MAX_WORDS} words; you gave {len(found)}")
    return text


SearchText = Annotated[str, Text(MAX_TEXT), AfterValidator(_words)]
"""The ``text`` of a recordings search: what was said, checked for words."""
SearchTextField = Annotated[SearchText | None, Field(description=TEXT_SAYS)]


@dataclass(frozen=True)
class Found:
    """A recording on the page; ``matches``: where the searched words were said in it (None
    when no text was searched)."""

    recording: Recording
    matches: tuple[Hit, ...] | None = None


@dataclass(frozen=True)
class SearchPage:
    """One page of a search, newest first; ``after`` continues it (None: the last page)."""

    items: list[Found]
    after: tuple[datetime, uuid.UUID] | None


class TermKeys:
    """The index's key of one application, unwrapped on first use (a search or an import)
    and kept: one unwrap per process, not per request."""

    def __init__(self) -> None:
        self._key: TermKey | None = None
        self._lock = asyncio.Lock()

    async def get(self, pool: Pool, keyring: Keyring) -> TermKey:
        """The key; a 503 on a node whose keyring holds recipients only."""
        if not keyring.can_open:
            raise sealed_unavailable("search transcripts")
        async with self._lock:
            if self._key is None:
                async with pool.acquire() as conn:
                    data_key = await load_data_key(conn, keyring, DATA_KEY)
                self._key = TermKey(FieldCipher(data_key))
        return self._key


def sealed_unavailable(what: str) -> Problem:
    """503: this node's keyring holds recipients only, so it cannot ``what``."""
    return Problem(
        f"this node has a recipients-only keyring and cannot {what}",
        status=503,
        slug="transcripts-unavailable",
        title="Transcripts unavailable",
    )


async def search_page(
    pool: Pool,
    vault: Vault,
    key: TermKey | None,
    text: str | None,
    where: RecordingFilter,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    *,
    language: str = "fi",
) -> SearchPage:
    """The recordings matching ``where`` and, with ``text``, holding every word of it (any
    inflection, in ``language``: ``CALLREC_TRANSCRIBE_LANGUAGE``), with where each word was
    said. ``key`` is needed only with ``text``."""
    wanted: list[str] = []
    if text is not None:
        if key is None:
            raise ValueError("a text search needs the index's key")
        # in a thread: the first use loads the lemmatiser's dictionary (seconds), which must
        # not stall every other request on this event loop
        wanted = await asyncio.to_thread(query_terms, text, language)
        tokens = key.tokens(wanted)
        where = dataclasses.replace(where, among=IdsFrom(*store.matching_all(tokens)))
    if text is None:
        rows = await list_recordings(pool, where, after, limit)
    else:
        async with store.searching(pool) as conn:  # planned for these tokens, not cached
            rows = await list_recordings(conn, where, after, limit)
    found: Mapping[uuid.UUID, list[Hit]] = {}
    if text is not None and rows:
        headers = await store.headers_of(pool, [r.id for r in rows])
        found = await hits_of(pool, vault, list(headers.values()), wanted)
    items = [Found(r, None if text is None else tuple(found.get(r.id, ()))) for r in rows]
    last = (rows[-1].started_at, rows[-1].id) if len(rows) == limit else None
    return SearchPage(items, last)
