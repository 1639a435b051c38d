"""The ``callrec`` command line, run as a real subprocess."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import POOL
from callrec.app import create_app
from common.settings import Secret, Settings
from tests.recorder.audio_files import make_audio
from tests.recorder.helpers import SECRET, metadata, multipart, signed_headers

CALLREC = [sys.executable, "-m", "callrec.cli"]


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
    return subprocess.run(
        [*CALLREC, *args],
        env={**clean, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_bad_setting_exits_2_naming_the_variable(tmp_path: Path) -> None:
    result = run(["migrate"], {"CALLREC_PORT": "http"})
    assert result.returncode == 2
    assert "CALLREC_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_keys_init_rotate_recipients(tmp_path: Path) -> None:
    env = {"CALLREC_KEYRING": str(tmp_path / "ring.txt")}
    first = run(["keys", "init"], env)
    assert first.returncode == 0, first.stderr
    assert "version 1" in first.stdout
    again = run(["keys", "init"], env)
    assert again.returncode == 1
    assert "refusing to overwrite" in again.stderr
    rotated = run(["keys", "rotate"], env)
    assert "version 2" in rotated.stdout
    recipients = run(["keys", "recipients"], env)
    assert "AGE-SECRET-KEY" not in recipients.stdout
    assert recipients.stdout.count("age1") == 2


def test_users_add_reads_the_password_from_stdin(empty_database_url: str) -> None:
    env = {"CALLREC_DATABASE_URL": empty_database_url}
    ok = run(
        [
            "users",
            "add",
            "maija.m",
            "--role",
            "customer_service",
            "--role",
            "trainer",
            "--extension",
            "2041",
            "--password-stdin",
        ],
        env,
        stdin="a long enough password\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "customer_service, trainer" in ok.stdout
    again = run(
        ["users", "add", "maija.m", "--role", "dpo", "--password-stdin"],
        env,
        stdin="another long password\n",
    )
    assert again.returncode == 1
    assert "taken" in again.stderr
    short = run(
        ["users", "add", "pekka", "--role", "dpo", "--password-stdin"], env, stdin="short\n"
    )
    assert short.returncode == 1
    assert "at least 12" in short.stderr
    bad_role = run(["users", "add", "x.y", "--role", "root", "--password-stdin"], env, stdin="x\n")
    assert bad_role.returncode == 2


def test_keys_command_without_keyring_explains(tmp_path: Path) -> None:
    result = run(["keys", "rotate"], {"CALLREC_KEYRING": str(tmp_path / "none.txt")})
    assert result.returncode == 1
    assert "callrec keys init" in result.stderr


def test_migrate_and_rewrap_against_database(empty_database_url: str, tmp_path: Path) -> None:
    env = {"CALLREC_DATABASE_URL": empty_database_url, "CALLREC_KEYRING": str(tmp_path / "r.txt")}
    result = run(["migrate"], env)
    assert result.returncode == 0, result.stderr
    assert "schema version" in result.stdout
    run(["keys", "init"], env)
    run(["keys", "rotate"], env)
    rewrapped = run(["keys", "rewrap"], env)
    assert rewrapped.returncode == 0, rewrapped.stderr
    assert "0 header(s) now on key version 2" in rewrapped.stdout


def _wait_ready(url: str, deadline: float) -> int:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                return int(response.status)
        except OSError:
            time.sleep(0.3)
    return 0


def _post_recording(port: int, audio: bytes) -> str:
    body = multipart(metadata(duration_seconds=2), audio)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/recordings", data=body, headers=signed_headers(body)
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 202
        return str(json.loads(response.read())["id"])


def _status(port: int, recording_id: str) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/recordings/{recording_id}/status", headers=signed_headers(b"")
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return str(json.loads(response.read())["status"])


def test_serve_on_embedded_defaults_ingests_and_stops_its_postgres(tmp_path: Path) -> None:
    port = 18000 + os.getpid() % 1000
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
    env = {
        **clean,
        "CALLREC_PORT": str(port),
        "CALLREC_DATA_DIR": str(tmp_path / "var"),
        "CALLREC_WEBHOOK_SECRET": SECRET,
    }
    process = subprocess.Popen(
        [*CALLREC, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        status = _wait_ready(f"http://127.0.0.1:{port}/readyz", time.monotonic() + 60)
        assert status == 200
        recording_id = _post_recording(port, make_audio(tmp_path, "wav-mulaw", 2.0))
        deadline = time.monotonic() + 30
        while _status(port, recording_id) != "ready" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _status(port, recording_id) == "ready"  # the in-process worker did it
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert (tmp_path / "var" / "keyring.txt").exists()
    assert "NO KEYRING FOUND" in err
    # No administrator yet: one line with the setup link (README: "open the link printed").
    assert len([line for line in err.splitlines() if f":{port}/#/setup?token=" in line]) == 1
    assert not (tmp_path / "var" / "pgdata" / "postmaster.pid").exists()  # server stopped


async def test_worker_command_processes_what_the_api_accepted(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    api_settings = dataclasses.replace(settings, webhook_secret=Secret(SECRET))
    async with TestClient(TestServer(create_app(api_settings, run_worker=False))) as client:
        body = multipart(metadata(duration_seconds=2), make_audio(tmp_path, "wav-mulaw", 2.0))
        response = await client.post("/v1/recordings", data=body, headers=signed_headers(body))
        assert response.status == 202
        pool = client.app[POOL]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
        env = {
            **clean,
            "CALLREC_DATABASE_URL": database_url,
            "CALLREC_DATA_DIR": str(settings.data_dir),
        }
        worker = await asyncio.create_subprocess_exec(
            *CALLREC, "worker", env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if await pool.fetchval("SELECT status FROM recordings") == "ready":
                    break
                await asyncio.sleep(0.2)
            assert await pool.fetchval("SELECT status FROM recordings") == "ready"
        finally:
            worker.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(worker.communicate(), 30)
        assert worker.returncode == 0, err.decode()


# The README's signed-upload example, run as written (only the address and files differ).
README_UPLOAD = r"""
SECRET=$(cat var/webhook-secret.txt)   # or the value of CALLREC_WEBHOOK_SECRET
TS=$(date +%s)
B=callrec-example-boundary
{
  printf -- '--%s\r\nContent-Disposition: form-data; name="metadata"\r\n' "$B"
  printf 'Content-Type: application/json\r\n\r\n'
  printf '{"external_id":"example-%s","started_at":"%s","duration_seconds":2.0,' "$TS" "$(date -Iseconds)"
  printf '"answered_by":"201","caller_number":"+358401234567","notice_played":true}\r\n'
  printf -- '--%s\r\nContent-Disposition: form-data; name="audio"; filename="call.wav"\r\n' "$B"
  printf 'Content-Type: audio/wav\r\n\r\n'
  cat call.wav
  printf -- '\r\n--%s--\r\n' "$B"
} > body
SIG=$( { printf '%s.' "$TS"; cat body; } | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)
curl -sS -w ' %{http_code}\n' http://127.0.0.1:8080/v1/recordings \
  -H "X-Callrec-Timestamp: $TS" -H "X-Callrec-Signature: v1=$SIG" \
  -H "Content-Type: multipart/form-data; boundary=$B" --data-binary @body
"""


def test_quick_start_generates_a_webhook_secret_and_send_call_and_curl_deliver(
    tmp_path: Path,
) -> None:
    """The README's Run section as a new user follows it: no secret set, yet the first
    webhook works, and both documented clients deliver a call."""
    port = 19000 + os.getpid() % 1000
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
    env = {**clean, "CALLREC_PORT": str(port), "CALLREC_DATA_DIR": str(tmp_path / "var")}
    (tmp_path / "call.wav").write_bytes(make_audio(tmp_path, "wav-mulaw", 2.0))
    process = subprocess.Popen(
        [*CALLREC, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert _wait_ready(f"http://127.0.0.1:{port}/readyz", time.monotonic() + 60) == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz") as answer:
            assert json.loads(answer.read())["ingest"]["webhook"] == "on"
        secret_file = tmp_path / "var" / "webhook-secret.txt"
        assert secret_file.stat().st_mode & 0o777 == 0o600
        sent = subprocess.run(
            [
                *CALLREC,
                "send-call",
                str(tmp_path / "call.wav"),
                "--url",
                f"http://127.0.0.1:{port}",
                "--caller",
                "+358401234567",
                "--agent",
                "201",
                "--external-id",
                "quick-1",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.startswith("202 "), sent.stdout
        script = README_UPLOAD.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        curl = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert curl.returncode == 0, curl.stderr
        assert curl.stdout.rstrip().endswith(" 202"), curl.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    secret = secret_file.read_text().strip()
    assert str(secret_file) in err
    assert secret not in err


def test_send_call_without_a_secret_says_where_to_find_one(tmp_path: Path) -> None:
    (tmp_path / "call.wav").write_bytes(make_audio(tmp_path, "wav-mulaw", 1.0))
    result = run(
        ["send-call", str(tmp_path / "call.wav")], {"CALLREC_DATA_DIR": str(tmp_path / "none")}
    )
    assert result.returncode == 1
    assert "CALLREC_WEBHOOK_SECRET" in result.stderr
