"""The index's narrowing of the recordings list: a call is found only when it holds every
token, and the list query is planned for the tokens searched, in its own transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from recorder.catalog import IdsFrom, RecordingFilter, list_recordings
from storage.db import Pool
from transcripts import store

A, B, C = (bytes([n]) * 16 for n in (1, 2, 3))
INSERT_RECORDING = """
INSERT INTO recordings (id, external_id, status, started_at, declared_duration_seconds,
    answered_by, direction, channel_layout, notice_played)
VALUES ($1, $2, 'received', $3, 60, 'maija.m', 'inbound', 'mono', true)
"""
INSERT_TERM = "INSERT INTO transcript_terms (token, recording_id) VALUES ($1, $2)"


async def calls_holding(pool: Pool, tokens: list[bytes]) -> set[uuid.UUID]:
    async with store.searching(pool) as conn:
        among = IdsFrom(*store.matching_all(tokens))
        return {r.id for r in await list_recordings(conn, RecordingFilter(among=among), None, 50)}


async def test_a_call_is_found_only_when_it_holds_every_token(pool: Pool) -> None:
    held = {"both": [A, B], "first": [A], "others": [B, C]}
    ids = {}
    for n, (name, tokens) in enumerate(held.items()):
        ids[name] = uuid.uuid4()
        started = datetime.now(UTC) - timedelta(minutes=n)
        await pool.execute(INSERT_RECORDING, ids[name], f"pbx-{n}", started)
        for token in tokens:
            await pool.execute(INSERT_TERM, token, ids[name])

    assert await calls_holding(pool, [A]) == {ids["both"], ids["first"]}
    assert await calls_holding(pool, [B, A]) == {ids["both"]}
    assert await calls_holding(pool, [A, B, A]) == {ids["both"]}  # a word said twice
    assert await calls_holding(pool, [B, C]) == {ids["others"]}
    assert await calls_holding(pool, [A, B, C]) == set()
    assert await calls_holding(pool, [bytes(16)]) == set()
    assert await calls_holding(pool, []) == set()  # no word: no call


async def test_the_search_plans_for_its_tokens_and_leaves_the_pool_as_it_was(pool: Pool) -> None:
    async with store.searching(pool) as conn:
        assert await conn.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
    async with pool.acquire() as conn:  # SET LOCAL: gone with the transaction
        assert await conn.fetchval("SHOW plan_cache_mode") == "auto"


def test_a_word_at_a_spans_very_edge_is_masked() -> None:
    """Whisper gives zero-length words and rounds times: one exactly on a span's edge must
    not slip out of the trainer's [redacted]."""
    from transcripts.document import Segment, Span, Transcript, Word

    words = (
        Word(9.0, 9.5, " Nimeni"),
        Word(10.0, 10.0, " Matti"),
        Word(11.0, 11.5, " Virtanen"),
        Word(12.0, 12.0, " kiitos"),
        Word(13.0, 13.5, " hei"),
    )
    said = Segment(9.0, 13.5, "customer", "Nimeni Matti Virtanen kiitos hei", words)
    masked = Transcript("fi", (said,)).redacted([Span(10.0, 12.0, "customer")])
    [segment] = masked.segments
    assert segment.text == "Nimeni [redacted] hei"
    assert [w.word.strip() for w in segment.words] == ["Nimeni", "[redacted]", "hei"]


def test_a_word_that_only_touches_a_span_stays() -> None:
    from transcripts.document import Segment, Span, Transcript, Word

    words = (Word(9.5, 10.0, " ennen"), Word(10.0, 12.0, " salaista"), Word(12.0, 12.4, " jälkeen"))
    said = Segment(9.5, 12.4, "agent", "ennen salaista jälkeen", words)
    [segment] = Transcript("fi", (said,)).redacted([Span(10.0, 12.0, "both")]).segments
    assert segment.text == "ennen [redacted] jälkeen"
