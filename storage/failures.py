"""What a person may read about a failed background job: its kind, never its own words.

An exception's text can quote paths, keys or row values, so a job's stored ``error`` (shown
in the API and the console) is chosen from the kind of failure alone. Ingest, redaction
renders and transcriptions share this table; each adds its own kinds in front of it.
"""

from __future__ import annotations

from typing import Final

import asyncpg

from storage.age import AgeError
from storage.objects import ObjectNotFound, ObjectStoreError

INTERNAL_ERROR: Final = "internal error"
# The first matching kind wins; anything else is INTERNAL_ERROR.
PUBLIC_REASONS: Final[tuple[tuple[type[BaseException], str], ...]] = (
    (ObjectNotFound, "the stored audio is missing from storage"),
    (ObjectStoreError, "storage unavailable"),
    (asyncpg.PostgresError, "database unavailable"),
    (asyncpg.InterfaceError, "database unavailable"),
    (OSError, "storage unavailable"),
    (AgeError, "the stored audio could not be decrypted"),
)


def storage_reason(exc: BaseException) -> str:
    """The public text for a failure of storage, the database or decryption."""
    for kind, reason in PUBLIC_REASONS:
        if isinstance(exc, kind):
            return reason
    return INTERNAL_ERROR
