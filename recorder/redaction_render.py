"""The redacted rendition: the call with its redaction spans silenced, as its own sealed object.

A render job is the recording's ``redacted_renditions`` row (see :mod:`recorder.redaction`),
claimed, leased and fenced like an ingest job, and run by the ingest worker's slots when no
ingest is due. The original Opus rendition is decrypted from the vault straight into ffmpeg,
which silences the spans per channel (``aeval``, sample-exact) and encodes Opus again;
the same pipeline as ingest (:func:`recorder.audio.process_audio`) seals it and measures its
peaks, so no plaintext ever reaches the disk. With ``CALLREC_REDACTION_TONE=on`` the spans
carry a soft 440 Hz tone (-30 dBFS) instead of silence, so a listener hears that something
was cut.

The commit is fenced twice: by the lease (``attempts``) and by the spans' ``generation``. A
render of spans that changed meanwhile is dropped; the row is pending again and the next
claim renders the current spans. A new rendition replaces the old one in one transaction
that shreds the old one's key header.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Final

from common.backoff import backoff
from common.leasing import LeaseLost, while_leased
from common.logs import log_failure
from common.settings import Settings
from recorder import redaction
from recorder.audio import AudioError
from recorder.redaction import ClaimedRender, Cut
from recorder.rendition import render_sealed
from recorder.waveform import waveform_document
from retention.reaper import delete_after_commit
from storage.db import Pool
from storage.vault import SealedObject, Vault, discard, insert_sealed, load_sealed, shred_headers

log = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 5
TONE: Final = "0.0316*sin(2*PI*440*t)"  # -30 dBFS
NO_SOURCE: Final = "the recording has no playable audio to redact"


def _muted(spans: Sequence[Cut]) -> str:
    """An expression that is non-zero inside any of ``spans``."""
    return "+".join(f"between(t,{s.start_seconds},{s.end_seconds})" for s in spans)


def redaction_filter(
    spans: Sequence[Cut], channels: int, channel_layout: str, *, tone: bool = False
) -> str:
    """The ffmpeg filter silencing each channel's spans (``both`` silences every channel).

    Agent and customer map to left and right by the recording's layout; a call whose layout
    does not tell them apart only has ``both`` spans (the API refuses the others).
    """
    roles = {"agent-left": ("agent", "customer"), "agent-right": ("customer", "agent")}.get(
        channel_layout, ("both", "both")
    )
    expressions = []
    for index in range(channels):
        role = roles[index] if channels == 2 else "both"
        own = [s for s in spans if s.channel in ("both", role)]
        if not own:
            expressions.append(f"val({index})")
            continue
        filler = TONE if tone else "0"
        expressions.append(f"if({_muted(own)},{filler},val({index}))")
    return "aeval=exprs='" + "|".join(expressions) + "':channel_layout=same"


class RedactionRenderer:
    """Renders due redacted renditions, one per :meth:`run_once`."""

    def __init__(
        self,
        pool: Pool,
        vault: Vault,
        settings: Settings,
        *,
        public_reason: Callable[[BaseException], str],
    ) -> None:
        self.pool = pool
        self.vault = vault
        self.settings = settings
        self.lease = timedelta(seconds=settings.worker_lease_seconds)
        self.heartbeat_seconds = settings.worker_lease_seconds / 3
        self.public_reason = public_reason

    async def run_once(self) -> str | None:
        """Claim and render one due rendition: ready | stale | retry | failed; None when idle."""
        job = await redaction.claim_render(self.pool, self.lease)
        if job is None:
            return None
        try:
            return await self._leased(job)
        except AudioError as exc:
            return await self._give_up(job, self.public_reason(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # store, network, a lost key, a bug
            log_failure(log, "redaction render failed", exc, recording_id=str(job.recording_id))
            if job.failures + 1 >= MAX_ATTEMPTS:
                return await self._give_up(job, self.public_reason(exc))
            async with self.pool.acquire() as conn, conn.transaction():
                held, _ = await redaction.hold_render(conn, job)
                if held:
                    delay = backoff(
                        job.failures + 1, first=timedelta(seconds=10), most=timedelta(minutes=30)
                    )
                    await redaction.retry_render(
                        conn, job.recording_id, self.public_reason(exc), delay
                    )
            return "retry"

    async def run_until_idle(self) -> list[str]:
        """Render until nothing is due (tests and batch use)."""
        outcomes = []
        while (outcome := await self.run_once()) is not None:
            outcomes.append(outcome)
        return outcomes

    async def _leased(self, job: ClaimedRender) -> str:
        """Render while a heartbeat renews the lease; a lost lease stops the render."""
        try:
            return await while_leased(
                self._render(job),
                lambda: redaction.renew_render(self.pool, job, self.lease),
                self.heartbeat_seconds,
            )
        except LeaseLost:
            return "stale"

    async def _render(self, job: ClaimedRender) -> str:
        source = await redaction.render_source(self.pool, job.recording_id)
        original = None if source is None else await load_sealed(self.pool, source.audio_object_id)
        if source is None or original is None:
            return await self._give_up(job, NO_SOURCE)
        spans = await redaction.cuts_of(self.pool, job.recording_id)
        audio_filter = redaction_filter(
            spans, source.channels, source.channel_layout, tone=self.settings.redaction_tone
        )
        report, rendition = await render_sealed(
            self.vault,
            original,
            bitrate_kbps=self.settings.opus_bitrate_kbps,
            audio_filter=audio_filter,
        )
        keys = await self._commit(job, rendition, waveform_document(report, source.channel_layout))
        if keys is None:
            await discard(self.vault, rendition.object_key)
            return "stale"
        await delete_after_commit(self.pool, self.vault.store, keys)
        log.info("redacted rendition ready", extra={"recording_id": str(job.recording_id)})
        return "ready"

    async def _commit(
        self, job: ClaimedRender, rendition: SealedObject, waveform: dict[str, object]
    ) -> list[str] | None:
        """Store the rendition and shred the old one; None when the job is no longer ours or
        the spans changed (nothing written). The new object is discarded when the body fails
        (a certain rollback); a failure at COMMIT leaves it to the reaper, which keeps it if
        the commit happened."""
        async with self.pool.acquire() as conn, conn.transaction():
            try:
                held, old = await redaction.hold_render(conn, job)
                if not held:
                    return None
                await insert_sealed(conn, rendition)
                await redaction.finish_render(conn, job.recording_id, rendition.id, waveform)
                return await shred_headers(conn, [old]) if old is not None else []
            except BaseException:
                await discard(self.vault, rendition.object_key)
                raise

    async def _give_up(self, job: ClaimedRender, reason: str) -> str:
        async with self.pool.acquire() as conn, conn.transaction():
            held, _ = await redaction.hold_render(conn, job)
            if held:
                await redaction.fail_render(conn, job.recording_id, reason)
        log.warning("redaction render failed", extra={"recording_id": str(job.recording_id)})
        return "failed"
