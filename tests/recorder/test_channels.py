"""Stereo calls keep their channels apart: new renditions, and the re-render of old ones."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import POOL, STORE, VAULT
from bench.channels import decode, make_call, peak_db
from callrec.app import create_app
from common.settings import Secret, Settings
from recorder import audio
from recorder.audio import OUTPUT_OPUS, header_channels, probe_channels
from recorder.rerender import mapping_family, rerender_stereo
from recorder.worker import IngestWorker
from storage.vault import load_sealed
from tests.callrec.test_cli import run
from tests.recorder.audio_files import make_audio
from tests.recorder.helpers import SECRET, deliver

Client = TestClient[web.Request, web.Application]
SILENT_ENOUGH = -60.0  # dBFS: the bar for a silenced channel


@pytest.fixture
def ingest_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, webhook_secret=Secret(SECRET))


@pytest.fixture
async def api(ingest_settings: Settings) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(ingest_settings, run_worker=False))) as client:
        yield client


@pytest.fixture(scope="module")
def one_sided_call(audio_dir: Path) -> bytes:
    """8 kHz stereo WAV: speech-like noise and a tone on the left, digital silence right."""
    path = audio_dir / "one-sided-8.wav"
    if not path.exists():
        make_call(path, 8, right_tone=False)
    return path.read_bytes()


async def ingest(client: Client, settings: Settings, audio_bytes: bytes) -> tuple[str, bytes]:
    """Deliver and process one call; return its id and its decrypted rendition."""
    recording_id = await deliver(
        client,
        audio_bytes,
        duration_seconds=8,
        channel_layout="agent-left",
        external_id=f"channels-{uuid.uuid4()}",
    )
    await IngestWorker(client.app[POOL], client.app[VAULT], settings).run_until_idle()
    return recording_id, await rendition(client, recording_id)


async def rendition(client: Client, recording_id: str) -> bytes:
    row = await client.app[POOL].fetchrow(
        "SELECT status, audio_object_id FROM recordings WHERE id = $1::uuid", recording_id
    )
    assert row is not None
    assert row["status"] == "ready"
    sealed = await load_sealed(client.app[POOL], row["audio_object_id"])
    assert sealed is not None
    return await client.app[VAULT].read_all(sealed)


@pytest.mark.parametrize("kind", ["wav-mulaw", "ogg-opus", "flac", "mp3", "webm"])
@pytest.mark.parametrize("channels", [1, 2])
async def test_the_channel_count_is_learned_before_encoding(
    audio_dir: Path, kind: str, channels: int
) -> None:
    data = make_audio(audio_dir, kind, 2.0, channels=channels)
    stated = header_channels(data[:4096])
    if kind in ("mp3", "webm"):
        assert stated is None  # these are decoded instead
        assert await probe_channels(data[:65536]) == channels
    else:
        assert stated == channels


async def test_a_stereo_call_keeps_its_silent_channel_silent(
    api: Client, ingest_settings: Settings, one_sided_call: bytes, audio_dir: Path
) -> None:
    _, opus = await ingest(api, ingest_settings, one_sided_call)
    assert mapping_family(opus) == 255
    left, right = decode(opus)
    assert peak_db(left) > -20
    assert peak_db(right) <= SILENT_ENOUGH
    # a mono call is encoded as before: one stream, mapping family 0
    _, mono = await ingest(api, ingest_settings, make_audio(audio_dir, "wav-mulaw", 8.0))
    assert mapping_family(mono) == 0


async def coupled_ingest(
    client: Client, settings: Settings, audio_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, bytes]:
    """A call ingested the way the pipeline encoded stereo before: coupled channels."""
    with monkeypatch.context() as old_pipeline:
        old_pipeline.setattr(
            audio, "opus_output", lambda bitrate, _: OUTPUT_OPUS.format(bitrate=bitrate).split()
        )
        return await ingest(client, settings, audio_bytes)


async def test_the_re_render_command_dry_runs_then_converts(
    api: Client,
    ingest_settings: Settings,
    one_sided_call: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recording_id, old = await coupled_ingest(api, ingest_settings, one_sided_call, monkeypatch)
    assert ingest_settings.database_url is not None
    env = {
        "CALLREC_DATABASE_URL": ingest_settings.database_url.reveal(),
        "CALLREC_DATA_DIR": str(ingest_settings.data_dir),
    }
    dry = run(["recordings", "re-render", "--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert "would re-render (dry run, nothing changed): 1; already uncoupled: 0" in dry.stdout
    assert "1/1 stereo recordings checked" in dry.stderr
    assert await rendition(api, recording_id) == old
    done = run(["recordings", "re-render"], env)
    assert done.returncode == 0, done.stderr
    assert "re-rendered: 1; already uncoupled: 0" in done.stdout
    assert mapping_family(await rendition(api, recording_id)) == 255
    again = run(["recordings", "re-render"], env)
    assert "re-rendered: 0; already uncoupled: 1" in again.stdout


@pytest.mark.parametrize("keep_original", [True, False])
async def test_re_render_converts_an_old_coupled_rendition(
    api: Client,
    ingest_settings: Settings,
    one_sided_call: bytes,
    monkeypatch: pytest.MonkeyPatch,
    keep_original: bool,
) -> None:
    settings = dataclasses.replace(ingest_settings, keep_original=keep_original)
    recording_id, old = await coupled_ingest(api, settings, one_sided_call, monkeypatch)
    assert mapping_family(old) == 0
    assert peak_db(decode(old)[1]) > SILENT_ENOUGH  # the leak this fixes
    pool, vault = api.app[POOL], api.app[VAULT]
    old_key = await pool.fetchval(
        "SELECT o.object_key FROM recordings r JOIN sealed_objects o ON o.id = r.audio_object_id"
        " WHERE r.id = $1::uuid",
        recording_id,
    )

    hold = uuid.uuid4()
    await pool.execute("INSERT INTO legal_holds (id, reason) VALUES ($1, 'dispute')", hold)
    await pool.execute(
        "INSERT INTO legal_hold_recordings VALUES ($1, $2::uuid)", hold, recording_id
    )
    held = await rerender_stereo(pool, vault, bitrate_kbps=24, dry_run=True)
    assert (held.converted, held.already) == ([], 0)  # a held call stays as it is
    await pool.execute("UPDATE legal_holds SET released_at = now() WHERE id = $1", hold)
    # a redacted rendition starts from this one: a re-render queues it again
    await pool.execute(
        "INSERT INTO redactions (id, recording_id, start_seconds, end_seconds, channel, reason)"
        " VALUES ($1, $2::uuid, 1, 2, 'both', 'a name')",
        uuid.uuid4(),
        recording_id,
    )
    await pool.execute(
        "INSERT INTO redacted_renditions (recording_id, status) VALUES ($1::uuid, 'ready')",
        recording_id,
    )

    dry = await rerender_stereo(pool, vault, bitrate_kbps=24, dry_run=True)
    assert [str(i) for i in dry.converted] == [recording_id]
    assert await rendition(api, recording_id) == old

    seen: list[tuple[int, int]] = []
    report = await rerender_stereo(
        pool, vault, bitrate_kbps=24, progress=lambda done, total, _: seen.append((done, total))
    )
    assert [str(i) for i in report.converted] == [recording_id]
    assert seen == [(1, 1)]
    queued = await pool.fetchrow(
        "SELECT status, generation FROM redacted_renditions WHERE recording_id = $1::uuid",
        recording_id,
    )
    assert queued is not None
    assert (queued["status"], queued["generation"]) == ("pending", 2)
    new = await rendition(api, recording_id)
    assert mapping_family(new) == 255
    if keep_original:  # from the kept upload the channels come out clean
        assert peak_db(decode(new)[1]) <= SILENT_ENOUGH
    keys = [o.key async for o in api.app[STORE].list()]
    assert old_key not in keys  # the old rendition is shredded and deleted
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'recording.re_render' AND object_id = $1",
            recording_id,
        )
        == 1
    )

    again = await rerender_stereo(pool, vault, bitrate_kbps=24)  # idempotent, so resumable
    assert (again.converted, again.already) == ([], 1)
    assert await rendition(api, recording_id) == new
