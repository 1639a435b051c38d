"""After a real transcription, no word said in the call is in clear anywhere it is kept:
every column of every table (bytea read as escaped text), and every object's bytes."""

from __future__ import annotations

from api.appkeys import POOL, STORE
from common.settings import Settings
from storage.db import Pool
from storage.objects import ObjectStore
from tests.transcripts.helpers import Client, post_call, transcriber, transcript_of
from tests.transcripts.speech import AGENT_SAYS, CUSTOMER_SAYS, stereo_call
from transcripts.engine import WhisperEngine
from transcripts.terms import normalise, terms

TABLES = """
SELECT c.table_schema, c.table_name, c.column_name, c.data_type
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
ORDER BY c.table_schema, c.table_name, c.ordinal_position
"""
SHORTEST = 4  # shorter words ("on", "ja") turn up in any text by chance


async def every_table(pool: Pool) -> dict[str, str]:
    """Each table's whole content as one case-folded text, by table name."""
    columns: dict[str, list[str]] = {}
    for row in await pool.fetch(TABLES):
        name = f'"{row["column_name"]}"'
        text = f"encode({name}, 'escape')" if row["data_type"] == "bytea" else f"{name}::text"
        columns.setdefault(f'"{row["table_schema"]}"."{row["table_name"]}"', []).append(text)
    contents = {}
    for table, texts in columns.items():
        rows = await pool.fetch(f"SELECT concat_ws(' ', {', '.join(texts)}) AS t FROM {table}")
        contents[table] = "\n".join(r["t"] or "" for r in rows).casefold()
    return contents


async def every_object(store: ObjectStore) -> dict[str, bytes]:
    """Each stored object's bytes, by key."""
    found = {}
    async for item in store.list():
        found[item.key] = b"".join([p async for p in store.get_range(item.key, 0, item.size)])
    return found


async def test_no_word_said_is_kept_in_clear(
    api: Client, transcribe_settings: Settings, whisper_engine: WhisperEngine
) -> None:
    recording_id = await post_call(api, transcribe_settings, stereo_call())
    assert [o.result for o in await transcriber(api, whisper_engine).run_until_idle()] == ["ready"]
    transcript = await transcript_of(api, recording_id)
    said = {w for _, word in transcript.words() for w in normalise(word.word)}
    said |= set(normalise(f"{AGENT_SAYS} {CUSTOMER_SAYS}"))
    said |= {t for w in list(said) for t in terms(w, "fi")}  # the base forms too
    words = sorted(w for w in said if len(w) >= SHORTEST)
    assert {"kiitoksia", "kiitos", "osoitteen", "osoite", "muuttaa"} <= set(words)

    tables = await every_table(api.app[POOL])
    assert '"public"."transcript_terms"' in tables
    assert '"public"."transcripts"' in tables
    # the scan reads what is there: the call's external id is kept in clear, and is found
    external_id = await api.app[POOL].fetchval(
        "SELECT external_id FROM recordings WHERE id = $1", recording_id
    )
    assert any(external_id.casefold() in text for text in tables.values())
    in_clear = {(w, t) for w in words for t, text in tables.items() if w in text}
    assert in_clear == set()

    objects = await every_object(api.app[STORE])
    assert any(key.startswith("transcripts/") for key in objects)
    for key, payload in objects.items():
        folded = payload.lower()
        for word in words:
            assert word.encode() not in folded, (word, key)
