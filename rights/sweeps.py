"""The whole retention sweep and the erasure engine, wired with every table's owner.

Each owner builds its own retention categories: recorder its recordings, register its
contact log, applicants and former tenants, rights its expired export links. This module
puts them together in rights, the lowest room that sees all three owners, so the scheduled
job, ``callrec retention run``, the benchmark and the compliance evidence's dry run build
the very same sweep and select the same items.
"""

from __future__ import annotations

from datetime import UTC, datetime

from common.settings import Settings
from recorder.erasure import RecordingRows, recording_categories
from retention.erasure import ErasureEngine
from retention.sweep import RetentionSweep, register_categories
from rights.links import expiry_category
from storage.db import Pool
from storage.objects import ObjectStore
from transcripts.store import TRANSCRIPTS

# The recordings with what other rooms keep per call: their transcripts and index rows.
RECORDINGS = RecordingRows(parts=(TRANSCRIPTS,))


def erasure_engine(pool: Pool, store: ObjectStore, *, dry_run: bool = False) -> ErasureEngine:
    """The erasure engine, given the recordings table of recorder (a room above retention)
    and the transcripts erased with each call."""
    return ErasureEngine(pool, store, RECORDINGS, dry_run=dry_run)


def retention_sweep(
    pool: Pool, engine: ErasureEngine, settings: Settings, *, now: datetime | None = None
) -> RetentionSweep:
    """The sweep with every category, in the order the CLI reports them."""
    now = now or datetime.now(UTC)
    categories = [
        *recording_categories(pool, engine, settings),
        *register_categories(pool, engine, settings, now.date()),
        expiry_category(pool, engine),
    ]
    return RetentionSweep(pool, engine, settings, now=now, categories=categories)
