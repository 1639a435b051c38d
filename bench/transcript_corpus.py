"""A search index of many transcribed calls, filled in bulk, for the search benchmark.

Calls of 350–800 words drawn from a Zipf-like Finnish vocabulary (simplemma's lemmas; the
most frequent base forms first) give 150–300 distinct terms a call. The index rows are real
HMAC tokens under the database's own ``transcript_terms`` key, written with one binary COPY
built by numpy; the indexes are rebuilt afterwards (the migration's, checked). The calls a
measured query's first page shows get real sealed transcripts of their own words; the other
transcript headers point at objects never written.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from bench.speech import LANGUAGE, PAUSE_SECONDS
from storage.db import Pool
from storage.fieldcrypt import FieldCipher, load_data_key
from storage.vault import SealedObject, Vault, insert_sealed
from transcripts.document import Segment, Transcript, Word
from transcripts.terms import DATA_KEY, TermKey, base_form, normalise

if TYPE_CHECKING:
    import numpy.typing as npt


PAGE = 50  # the search route's default page
# The most frequent Finnish base forms, first in the vocabulary's Zipf order.
COMMON_WORDS = tuple(
    str.split(
        "olla ja ei se että kyllä niin joo tämä mikä voida nyt kun siis mutta vaan sitten "
        "tulla hyvä aika asia kiitos päivä lasku sopimus vuokra maksaa tietää katsoa sanoa "
        "asunto hetki viikko kuukausi soittaa puhelin numero asiakas tarkistaa"
    )
)


def vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    """``size`` Finnish base forms: the common ones first, then lemmas of simplemma's
    dictionary in a random order (a Zipf rank is all a word needs here)."""
    from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory

    words = DefaultDictionaryFactory().get_dictionary(LANGUAGE)
    raw = getattr(words, "_dict", None)  # its bytes, undecoded: 3.5 million entries
    found = set(raw.values()) if isinstance(raw, dict) else set(words.values())
    lemmas = sorted(w.decode() if isinstance(w, bytes) else w for w in found)
    picked = list(dict.fromkeys(COMMON_WORDS))
    seen = set(picked)
    for index in rng.permutation(len(lemmas)):
        word = lemmas[index]
        if len(picked) == size:
            break
        if word not in seen and 4 <= len(word) <= 16 and word.isalpha():
            picked.append(word)
            seen.add(word)
    return picked


def searchable(word: str) -> bool:
    """Whether a search for ``word`` yields the very term indexed for it (a query word)."""
    return normalise(word) == [word] and base_form(word, LANGUAGE) == word


@dataclass
class Corpus:
    """The generated calls: word sequences (vocabulary indices) and distinct terms."""

    words: npt.NDArray[np.uint16]  # calls x MAX_WORDS
    lengths: npt.NDArray[np.int32]
    call_of: npt.NDArray[np.int32]  # one entry per index row
    term_of: npt.NDArray[np.uint16]


MIN_WORDS, MAX_WORDS = 350, 800
ZIPF_S, ZIPF_Q = 1.3, 2.7
NO_WORD = np.iinfo(np.uint16).max  # past a call's length; above every vocabulary index


def corpus(calls: int, vocab: int, rng: np.random.Generator) -> Corpus:
    """Each call: 350–800 words drawn from Zipf–Mandelbrot ranks (s = 1.3, q = 2.7), which
    gives 150–300 distinct base forms a call."""
    power = 1 - ZIPF_S  # ranks by the inverse of the continuous power law's distribution
    low, high = ZIPF_Q**power, (vocab + ZIPF_Q) ** power
    lengths = rng.integers(MIN_WORDS, MAX_WORDS + 1, calls).astype(np.int32)
    words = np.empty((calls, MAX_WORDS), dtype=np.uint16)
    calls_of, terms_of = [], []
    beyond = np.arange(MAX_WORDS)[None, :]
    for start in range(0, calls, 10_000):  # the distinct words of each call, without a loop
        part = slice(start, min(calls, start + 10_000))
        shape = (part.stop - start, MAX_WORDS)
        uniform = rng.random(shape, dtype=np.float32)
        ranks = (low + uniform * (high - low)) ** (1 / power) - ZIPF_Q
        drawn = np.clip(ranks, 0, vocab - 1).astype(np.uint16)
        words[part] = drawn
        ordered = np.where(beyond >= lengths[part, None], NO_WORD, drawn).astype(np.uint16)
        ordered.sort(axis=1)
        keep = ordered != NO_WORD
        keep[:, 1:] &= ordered[:, 1:] != ordered[:, :-1]
        rows, _ = np.nonzero(keep)
        calls_of.append((rows + start).astype(np.int32))
        terms_of.append(ordered[keep])
    return Corpus(words, lengths, np.concatenate(calls_of), np.concatenate(terms_of))


def transcript_of(words: Sequence[str]) -> Transcript:
    """A transcript saying ``words`` in turns of 6–14 words, 0.4 s a word."""
    segments, at, channel, i = [], 0.0, 0, 0
    rng = random.Random(len(words))
    while i < len(words):
        take = words[i : i + rng.randint(6, 14)]
        spoken_words = tuple(
            Word(round(at + 0.4 * k, 2), round(at + 0.4 * k + 0.35, 2), f" {w}")
            for k, w in enumerate(take)
        )
        end = round(at + 0.4 * len(take), 2)
        who = ("agent", "customer")[channel]
        segments.append(Segment(round(at, 2), end, who, " ".join(take), spoken_words))
        at, channel, i = end + PAUSE_SECONDS, 1 - channel, i + len(take)
    return Transcript(LANGUAGE, tuple(segments))


COPY_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("tok", "V16"), ("l2", ">i4"), ("rid", "V16")])
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_CHUNK = 1_000_000


async def copy_rows(
    pool: Pool,
    tokens: npt.NDArray[np.uint8],
    ids: npt.NDArray[np.uint8],
    data: Corpus,
) -> None:
    """The index rows as one binary COPY, built with numpy (no Python object per row)."""

    async def stream() -> AsyncIterator[bytes]:
        yield COPY_HEADER
        for start in range(0, len(data.call_of), COPY_CHUNK):
            part = slice(start, start + COPY_CHUNK)
            rows = np.empty(len(data.call_of[part]), dtype=COPY_ROW)
            rows["n"], rows["l1"], rows["l2"] = 2, 16, 16
            rows["tok"] = tokens[data.term_of[part]].view("V16").ravel()
            rows["rid"] = ids[data.call_of[part]].view("V16").ravel()
            yield rows.tobytes()
        yield b"\xff\xff"

    async with pool.acquire() as conn:
        await conn.execute("SET session_replication_role = replica")  # no per-row FK trigger
        await conn.copy_to_table(
            "transcript_terms", source=stream(), columns=["token", "recording_id"], format="binary"
        )
        await conn.execute("RESET session_replication_role")


INDEXES = """
SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'transcript_terms' ORDER BY 1
"""
INSERT_HEADERS = """
INSERT INTO sealed_objects (id, object_key, header, key_version, payload_nonce, payload_size,
                            plaintext_size, plaintext_sha256)
SELECT id, $2 || '/' || substr(replace(id::text, '-', ''), 1, 2) || '/'
           || replace(id::text, '-', ''), $3, 1, $4, $5::bigint, $5::bigint - 32, $6
FROM unnest($1::uuid[]) AS id
"""
INSERT_RECORDINGS = """
INSERT INTO recordings (id, external_id, status, started_at, declared_duration_seconds,
    measured_duration_seconds, answered_by, caller_number, direction, channel_layout,
    notice_played, audio_object_id, audio_format, channels)
SELECT r, 'bench-' || r, 'ready', s, 300, 300, 'agent' || (n % 40), '+35840' || (1000000 + n),
       'inbound', 'agent-left', true, o, 'opus', 2
FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) WITH ORDINALITY AS t(r, o, s, n)
"""
INSERT_TRANSCRIPTS = """
INSERT INTO transcripts (recording_id, status, attempts, object_id, language, model)
SELECT r, 'ready', 1, o, 'fi', 'whisper-base-ct2' FROM unnest($1::uuid[], $2::uuid[]) AS t(r, o)
"""


@dataclass(frozen=True)
class Query:
    """One search: its kind, its words and the calls that hold them all (newest first)."""

    kind: str
    text: str
    calls: npt.NDArray[np.int32]


def queries(data: Corpus, vocab: list[str], calls: int, rng: np.random.Generator) -> list[Query]:
    """Ten queries per kind, chosen by how many calls hold their words."""
    frequency = np.bincount(data.term_of, minlength=len(vocab)) / calls
    holders: dict[int, npt.NDArray[np.int32]] = {}

    def calls_with(term: int) -> npt.NDArray[np.int32]:
        if term not in holders:
            holders[term] = data.call_of[data.term_of == term]
        return holders[term]

    def pick(low: float, high: float, count: int) -> list[int]:
        eligible = np.flatnonzero((frequency >= low) & (frequency <= high))
        found = [int(t) for t in rng.permutation(eligible) if searchable(vocab[t])]
        assert len(found) >= count, (low, high, len(found))
        return found[:count]

    chosen = [Query("rare", vocab[t], calls_with(t)[::-1]) for t in pick(0.0005, 0.002, 10)]
    chosen += [Query("common", vocab[t], calls_with(t)[::-1]) for t in pick(0.5, 1.0, 10)]
    mid = pick(0.05, 0.2, 20)
    for a, b in zip(mid[::2], mid[1::2], strict=True):
        both = np.intersect1d(calls_with(a), calls_with(b))[::-1]
        chosen.append(Query("two words", f"{vocab[a]} {vocab[b]}", both))
    return chosen


async def one(value: bytes) -> AsyncIterator[bytes]:
    yield value


async def seal_pages(
    vault: Vault, data: Corpus, vocab: list[str], pages: set[int]
) -> dict[int, SealedObject]:
    """Real sealed transcripts of their own words for the calls the queries' pages show."""
    limit = asyncio.Semaphore(8)

    async def seal(call: int) -> tuple[int, SealedObject]:
        words = [vocab[w] for w in data.words[call, : data.lengths[call]]]
        async with limit:
            payload = transcript_of(words).to_bytes()
            return call, await vault.seal(one(payload), kind="transcripts")

    return dict(await asyncio.gather(*(seal(c) for c in sorted(pages))))


@dataclass(frozen=True)
class Filled:
    """What the search part measures against."""

    key: TermKey
    queries: list[Query]
    sealed_sizes: list[int]
    took: dict[str, float]


async def fill(pool: Pool, vault: Vault, calls: int) -> Filled:
    rng = np.random.default_rng(21)
    took: dict[str, float] = {}
    started = time.perf_counter()
    vocab = vocabulary(50_000, rng)
    took["vocabulary"] = time.perf_counter() - started
    started = time.perf_counter()
    data = corpus(calls, len(vocab), rng)
    chosen = queries(data, vocab, calls, rng)
    took["generate"] = time.perf_counter() - started

    started = time.perf_counter()
    async with pool.acquire() as conn:
        key = TermKey(FieldCipher(await load_data_key(conn, vault.keyring, DATA_KEY)))
    tokens = np.frombuffer(b"".join(key.token(w) for w in vocab), np.uint8).reshape(-1, 16)
    recording_ids = [uuid.uuid4() for _ in range(calls)]
    ids = np.frombuffer(b"".join(r.bytes for r in recording_ids), np.uint8).reshape(-1, 16)
    pages = {int(c) for q in chosen for c in q.calls[:PAGE]}
    sealed = await seal_pages(vault, data, vocab, pages)
    took["seal"] = time.perf_counter() - started

    started = time.perf_counter()
    audio_ids = [uuid.uuid4() for _ in range(calls)]
    transcript_ids = [sealed[i].id if i in sealed else uuid.uuid4() for i in range(calls)]
    first = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / calls  # call i is newer than call i - 1
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(INSERT_HEADERS, audio_ids, "recordings", b"h" * 120, b"n" * 16,
                           2_000_000, b"s" * 32)  # fmt: skip
        never_written = [t for i, t in enumerate(transcript_ids) if i not in sealed]
        await conn.execute(INSERT_HEADERS, never_written, "transcripts", b"h" * 120, b"n" * 16,
                           30_000, b"s" * 32)  # fmt: skip
        for item in sealed.values():
            await insert_sealed(conn, item)
        await conn.execute(
            INSERT_RECORDINGS,
            recording_ids,
            audio_ids,
            [first + step * i for i in range(calls)],
        )
        await conn.execute(INSERT_TRANSCRIPTS, recording_ids, transcript_ids)
    took["rows"] = time.perf_counter() - started

    started = time.perf_counter()
    indexes = await pool.fetch(INDEXES)
    await pool.execute("ALTER TABLE transcript_terms DROP CONSTRAINT transcript_terms_pkey")
    await pool.execute("DROP INDEX transcript_terms_recording_idx")
    await copy_rows(pool, tokens, ids, data)
    took["copy"] = time.perf_counter() - started
    started = time.perf_counter()
    async with pool.acquire() as conn:
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute(
            "ALTER TABLE transcript_terms ADD CONSTRAINT transcript_terms_pkey"
            " PRIMARY KEY (token, recording_id)"
        )
        await conn.execute(
            "CREATE INDEX transcript_terms_recording_idx ON transcript_terms (recording_id)"
        )
    assert await pool.fetch(INDEXES) == indexes, "the index must be the migration's"
    took["index"] = time.perf_counter() - started
    started = time.perf_counter()
    await pool.execute("VACUUM ANALYZE")  # what autovacuum does after a load
    took["vacuum"] = time.perf_counter() - started
    return Filled(key, chosen, [s.payload_size for s in sealed.values()], took)
