"""``callrec send-call`` as an operator runs it, against a running service: a refusal or an
unreachable service is one clear line on stderr and exit 1, and nothing of the call is kept."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from api.appkeys import POOL
from tests.api.sessions import Client
from tests.recorder.audio_files import make_audio
from tests.recorder.helpers import SECRET


@dataclass(frozen=True)
class Sent:
    """What the command did."""

    returncode: int
    stdout: str
    stderr: str


async def send_call(args: list[str], env: dict[str, str]) -> Sent:
    """``callrec send-call ARGS`` in a subprocess (the loop keeps serving the app meanwhile),
    with only the given CALLREC_ variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "callrec.cli", "send-call", *args],
        env={**clean, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return Sent(process.returncode, out.decode(), err.decode())


def refused(sent: Sent, *phrases: str) -> None:
    """Exit 1, nothing on stdout, one line on stderr saying each of ``phrases``."""
    assert sent.returncode == 1, sent
    assert sent.stdout == ""
    assert "Traceback" not in sent.stderr
    (line,) = sent.stderr.strip().splitlines()
    for phrase in phrases:
        assert phrase in line, line


async def nothing_kept(api: Client) -> None:
    pool = api.app[POOL]
    assert await pool.fetchval("SELECT count(*) FROM recordings") == 0
    assert await pool.fetchval("SELECT count(*) FROM sealed_objects") == 0


def free_port() -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refusals_are_one_line_exit_1_and_leave_nothing(
    staff_api: Client, tmp_path: Path, audio_dir: Path
) -> None:
    """An unreachable service, a wrong secret, a file that is not audio (with or without a
    duration given) and a missing file; then the same command with the right secret works.
    No --url: the command finds the service from CALLREC_PORT, as ``callrec serve`` does."""
    call = tmp_path / "call.wav"
    call.write_bytes(make_audio(audio_dir, "wav-mulaw", 1.0))
    text = tmp_path / "minutes.wav"
    text.write_text("Minutes of the board meeting\n" * 100)
    right = {"CALLREC_PORT": str(staff_api.port), "CALLREC_WEBHOOK_SECRET": SECRET}
    wrong = right | {"CALLREC_WEBHOOK_SECRET": "x" * 20}
    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable, bad_secret, not_audio, not_audio_timed, missing = await asyncio.gather(
        send_call([str(call), "--url", nowhere], right),  # each takes ~3 s to start: at once
        send_call([str(call)], wrong),
        send_call([str(text)], right),
        send_call([str(text), "--duration", "5"], right),  # a duration does not skip the check
        send_call([str(tmp_path / "none.wav")], right),
    )
    refused(unreachable, f"cannot reach {nowhere}", "is callrec serve running there?")
    refused(bad_secret, "refused the call (401 ", "CALLREC_WEBHOOK_SECRET", "webhook-secret.txt")
    for answer in (not_audio, not_audio_timed):
        refused(answer, f"{text} is not audio that ffmpeg can decode", "nothing was sent")
    refused(missing, "no such file")
    await nothing_kept(staff_api)

    sent = await send_call([str(call), "--caller", "+358401234567"], right)
    assert (sent.returncode, sent.stdout[:4]) == (0, "202 "), sent
    assert await staff_api.app[POOL].fetchval("SELECT count(*) FROM recordings") == 1
