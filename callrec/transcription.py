"""Transcription wired in: which jobs a worker runs, the ready hook, the loaded model.

``callrec worker --jobs ingest|transcribe|all`` lets operators put transcription on machines
of its own (a GPU, more memory): ``ingest`` runs ingest, redaction renders, subject requests
and the scheduler; ``transcribe`` only transcription; ``all`` (the default, and what the
embedded ``serve`` runs) both, transcription only while ``CALLREC_TRANSCRIBE=on``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from common.settings import Settings
from recorder.catalog import ready_since
from recorder.redaction import render_source
from recorder.worker import ReadyHook
from storage.db import Pool
from storage.vault import Vault
from transcripts import store
from transcripts.model import ModelError, check_model
from transcripts.terms import base_form


class Jobs(StrEnum):
    """The kinds of job one worker process takes."""

    INGEST = "ingest"
    TRANSCRIBE = "transcribe"
    ALL = "all"

    @property
    def ingest(self) -> bool:
        """Whether ingest (with renders, subject requests and the scheduler) runs here."""
        return self is not Jobs.TRANSCRIBE

    def transcribe(self, settings: Settings) -> bool:
        """Whether transcription runs here; ``--jobs transcribe`` with transcription off is
        an operator's mistake, refused with the setting to change."""
        if self is Jobs.TRANSCRIBE and not settings.transcribe:
            raise ModelError("--jobs transcribe needs CALLREC_TRANSCRIBE=on")
        return settings.transcribe and self is not Jobs.INGEST


def ready_hook(settings: Settings) -> ReadyHook | None:
    """Queue a transcription in the ready transaction while transcription is on: switched
    off, no new job is queued and the transcripts already made keep to their retention."""
    return store.queue if settings.transcribe else None


async def start_transcription(
    pool: Pool, vault: Vault, settings: Settings, stop: asyncio.Event
) -> asyncio.Future[None]:
    """Check and load the model (in a thread: it takes seconds), then run the worker until
    ``stop``. A missing model, an unknown hash or a missing package raises
    :class:`ModelError` naming what to set or install."""
    model = await asyncio.to_thread(
        check_model, settings.transcribe_model, operator_sha256=settings.transcribe_model_sha256
    )
    try:
        from transcripts.engine import WhisperEngine
        from transcripts.job import TranscriptionWorker
    except ImportError as exc:  # pragma: no cover - the extra is installed where tests run
        raise ModelError(
            f"transcription needs faster-whisper ({exc.name} is missing): "
            "pip install 'callrec[transcribe]'"
        ) from None
    engine = await asyncio.to_thread(
        WhisperEngine, model, concurrency=settings.transcribe_concurrency
    )
    # The lemmatiser loads its dictionary on first use (seconds): here, not in the first job.
    await asyncio.to_thread(base_form, "puhelu", settings.transcribe_language)
    worker = TranscriptionWorker(
        pool,
        vault,
        engine,
        render_source,
        language=settings.transcribe_language,
        lease_seconds=settings.worker_lease_seconds,
        concurrency=settings.transcribe_concurrency,
    )
    return asyncio.ensure_future(worker.run(stop))


BACKFILL_PAGE = 1000


async def queue_ready_since(
    pool: Pool, since: datetime, progress: Callable[[int, int], None] | None = None
) -> int:
    """Queue a transcription for every ready call started at or after ``since`` that has
    none yet (calls recorded before transcription was switched on); how many were queued.
    ``progress`` hears (calls looked at, queued) after each page."""
    after, seen, queued = uuid.UUID(int=0), 0, 0
    while ids := await ready_since(pool, since, after, BACKFILL_PAGE):
        queued += await store.queue_many(pool, ids)
        seen += len(ids)
        after = ids[-1]
        if progress is not None:
            progress(seen, queued)
    return queued
