"""The ``callrec`` command line, run as a real subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CALLREC = [sys.executable, "-m", "callrec.cli"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
    return subprocess.run(
        [*CALLREC, *args],
        env={**clean, **env},
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


def test_serve_on_embedded_defaults_starts_and_stops_its_postgres(tmp_path: Path) -> None:
    port = 18000 + os.getpid() % 1000
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
    env = {**clean, "CALLREC_PORT": str(port), "CALLREC_DATA_DIR": str(tmp_path / "var")}
    process = subprocess.Popen(
        [*CALLREC, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        status = _wait_ready(f"http://127.0.0.1:{port}/readyz", time.monotonic() + 60)
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert (tmp_path / "var" / "keyring.txt").exists()
    assert "NO KEYRING FOUND" in err
    assert not (tmp_path / "var" / "pgdata" / "postmaster.pid").exists()  # server stopped
