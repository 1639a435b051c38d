"""Real faults for tests: a folder that refuses writes, even to root; a disk quota."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Callable[[bool], None]]:
    """Yields a switch that makes ``folder`` and everything in it refuse writes (and back).

    ``chmod`` does not stop root, so as root the immutable attribute is set instead; the
    test is skipped where neither works.
    """

    def switch(on: bool) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-R", "+i" if on else "-i", str(folder)], check=True)
        else:
            for path in [folder, *folder.rglob("*")]:
                if path.is_dir():
                    path.chmod(0o555 if on else 0o755)

    probe = folder / "probe"
    switch(True)
    try:
        probe.mkdir()
    except OSError:
        refused = True
    else:
        refused = False
    switch(False)
    if not refused:
        probe.rmdir()
        pytest.skip("cannot make a folder read-only here")
    try:
        yield switch
    finally:
        switch(False)


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """In this process, writing a file past ``limit`` bytes fails (EFBIG) as on a full
    quota, while every permission check still says the folder is writable."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills us
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
