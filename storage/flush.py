"""Start writing a file's dirty pages to disk without waiting (Linux ``sync_file_range``).

An object is only safe after ``fsync``; but an ``fsync`` at the end of a large write waits
for every byte at once. Asking the kernel to start writeback after each batch, as
PostgreSQL does with ``*_flush_after``, lets the disk work while the next batch is being
produced, so the final ``fsync`` has little left to wait for. Where the call does not
exist, this does nothing and the final ``fsync`` does all the work, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from typing import Final

SYNC_FILE_RANGE_WRITE: Final = 2


def _load() -> Callable[[int, int, int, int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        call = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


_sync_file_range = _load()


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to begin writing ``[offset, offset + length)`` of ``fd``; never waits."""
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE)
