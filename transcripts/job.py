"""The transcription job: a ready call's rendition → speech model → sealed transcript + index.

Claimed from the ``transcripts`` queue and done in two steps. The long one (decoding and
the model) runs under a heartbeat that renews the lease and stops the work when another
worker took the job. The short one seals the transcript and commits only while the lease is
still this worker's: the header row, the ready status and the blind index rows go in one
transaction, and the old transcript (a re-run) is shredded in it; the heartbeat is over by
then, so a commit is never cancelled half-reported. A call erased meanwhile has no row left
to hold, so the new object is discarded. The audio goes from the vault through ffmpeg's
pipes into memory, never to a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Protocol

from common.backoff import backoff
from common.leasing import LeaseLost, while_leased
from common.logs import log_failure
from retention.reaper import delete_after_commit
from storage.db import Pool, listening
from storage.failures import storage_reason
from storage.fieldcrypt import FieldCipher, load_data_key
from storage.objects import once
from storage.vault import SealedObject, Vault, discard, insert_sealed, load_sealed, shred_headers
from transcripts import store
from transcripts.audio import DecodeError, TooLong, decode
from transcripts.document import Transcript
from transcripts.engine import Engine
from transcripts.terms import DATA_KEY, TermKey, terms

log = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 5
# Claims, failed or not: a job that kills its worker (the model out of memory) is claimed
# again when its lease runs out and never reaches MAX_ATTEMPTS failures; it stops here.
MAX_CLAIMS: Final = 3 * MAX_ATTEMPTS
POLL_SECONDS: Final = 30.0
NO_SOURCE: Final = "the recording has no playable audio to transcribe"
UNREADABLE: Final = "the recording's audio could not be decoded for transcription"
INTERRUPTED: Final = "the transcription was interrupted too many times (its worker stopped)"


class Source(Protocol):
    """The ready rendition to transcribe and how its channels are laid out."""

    @property
    def audio_object_id(self) -> uuid.UUID: ...

    @property
    def channels(self) -> int: ...

    @property
    def channel_layout(self) -> str: ...


SourceOf = Callable[[Pool, uuid.UUID], Awaitable[Source | None]]


@dataclass(frozen=True)
class Outcome:
    """How one job ended: ready | retry | failed | stale."""

    recording_id: uuid.UUID
    result: str
    seconds: float = 0.0


class TranscriptionWorker:
    """Runs transcription jobs, ``concurrency`` at once, on one loaded engine."""

    def __init__(
        self,
        pool: Pool,
        vault: Vault,
        engine: Engine,
        source_of: SourceOf,
        *,
        language: str,
        lease_seconds: int = 60,
        concurrency: int = 1,
    ) -> None:
        self.pool = pool
        self.vault = vault
        self.engine = engine
        self.source_of = source_of
        self.language = language
        self.lease = timedelta(seconds=lease_seconds)
        self.heartbeat_seconds = lease_seconds / 3
        self.concurrency = concurrency
        self._key: TermKey | None = None
        self._wake = asyncio.Event()

    async def term_key(self) -> TermKey:
        """The index's key, opened once from its wrapped data key."""
        if self._key is None:
            async with self.pool.acquire() as conn:
                data_key = await load_data_key(conn, self.vault.keyring, DATA_KEY)
            self._key = TermKey(FieldCipher(data_key))
        return self._key

    async def run_once(self) -> Outcome | None:
        """Claim and run one due transcription; None when none is due."""
        job = await store.claim(self.pool, self.lease)
        if job is None:
            return None
        started = time.monotonic()
        try:
            if job.attempt > MAX_CLAIMS:
                result = await self._give_up(job, INTERRUPTED)
            else:
                result = await self._run(job)
        except TooLong as exc:
            result = await self._give_up(job, exc.public)
        except DecodeError as exc:
            log_failure(
                log, "transcription: undecodable audio", exc, recording_id=str(job.recording_id)
            )
            result = await self._give_up(job, UNREADABLE)
        except asyncio.CancelledError:  # the worker is stopping: the next one takes the job
            with contextlib.suppress(Exception):
                await store.release(self.pool, job)
            raise
        except Exception as exc:  # store, database, model: retried with backoff
            log_failure(log, "transcription failed", exc, recording_id=str(job.recording_id))
            result = await self._again(job, exc)
        return Outcome(job.recording_id, result, time.monotonic() - started)

    async def run_until_idle(self) -> list[Outcome]:
        """Run due jobs until none is left (tests and the benchmark)."""
        outcomes = []
        while (outcome := await self.run_once()) is not None:
            outcomes.append(outcome)
        return outcomes

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop``, woken by NOTIFY when a call is queued; jobs in flight are
        abandoned on stop and their leases given back for the next worker."""
        async with listening(self.pool, store.NOTIFY_CHANNEL, self._wake):
            loops = [asyncio.ensure_future(self._loop()) for _ in range(self.concurrency)]
            try:
                await stop.wait()
            finally:
                for loop in loops:
                    loop.cancel()
                await asyncio.gather(*loops, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                outcome = await self.run_once()
            except Exception:
                log.exception("transcription worker error; continuing")
                outcome = None
            if outcome is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_SECONDS):
                        await self._wake.wait()

    async def _run(self, job: store.Claimed) -> str:
        """Transcribe under the lease's heartbeat, then seal and commit the transcript."""
        try:
            transcript = await while_leased(
                self._transcribe(job),
                lambda: store.renew(self.pool, job, self.lease),
                self.heartbeat_seconds,
            )
        except LeaseLost:
            return "stale"
        if transcript is None:
            return await self._give_up(job, NO_SOURCE)
        # In a thread: the lemmatiser's first use loads its dictionary (seconds of CPU), and a
        # long call has thousands of words; the event loop keeps serving meanwhile.
        tokens = await asyncio.to_thread(tokens_of, await self.term_key(), transcript)
        sealed = await self.vault.seal(once(transcript.to_bytes()), kind="transcripts")
        keys = await self._commit(job, transcript, sealed, tokens)
        if keys is None:
            await discard(self.vault, sealed.object_key)
            return "stale"
        await delete_after_commit(self.pool, self.vault.store, keys)
        log.info("transcript ready", extra={"recording_id": str(job.recording_id)})
        return "ready"

    async def _transcribe(self, job: store.Claimed) -> Transcript | None:
        """The transcript of the call's rendition; None when the call has none (erased)."""
        source = await self.source_of(self.pool, job.recording_id)
        sealed = None if source is None else await load_sealed(self.pool, source.audio_object_id)
        if source is None or sealed is None:
            return None
        channels = await decode(
            self.vault.open_range(sealed), source.channels, source.channel_layout
        )
        return await self.engine.transcribe(channels, self.language)

    async def _commit(
        self,
        job: store.Claimed,
        transcript: Transcript,
        sealed: SealedObject,
        tokens: list[bytes],
    ) -> list[str] | None:
        """Store the transcript, its terms, and shred an older one; None when the job is no
        longer ours (nothing written)."""
        async with self.pool.acquire() as conn, conn.transaction():
            try:
                held, old = await store.hold(conn, job)
                if not held:
                    return None
                await insert_sealed(conn, sealed)
                await store.finish(
                    conn, job.recording_id, sealed.id, transcript.language, self.engine.name, tokens
                )
                return await shred_headers(conn, [old]) if old is not None else []
            except BaseException:
                await discard(self.vault, sealed.object_key)
                raise

    async def _again(self, job: store.Claimed, exc: BaseException) -> str:
        reason = public_reason(exc)
        if job.failures + 1 >= MAX_ATTEMPTS:
            return await self._give_up(job, f"gave up after {MAX_ATTEMPTS} attempts: {reason}")
        async with self.pool.acquire() as conn, conn.transaction():
            held, _ = await store.hold(conn, job)
            if not held:
                return "stale"
            delay = backoff(
                job.failures + 1, first=timedelta(seconds=10), most=timedelta(minutes=30)
            )
            error = f"attempt {job.failures + 1} failed, will retry: {reason}"
            await store.retry(conn, job.recording_id, error, delay)
        return "retry"

    async def _give_up(self, job: store.Claimed, reason: str) -> str:
        async with self.pool.acquire() as conn, conn.transaction():
            held, _ = await store.hold(conn, job)
            if not held:
                return "stale"
            await store.fail(conn, job.recording_id, reason)
        log.warning("transcription failed", extra={"recording_id": str(job.recording_id)})
        return "failed"


def public_reason(exc: BaseException) -> str:
    """What a person may read about a failure: its kind, never its message."""
    return storage_reason(exc)


async def save_transcript(
    pool: Pool, vault: Vault, recording_id: uuid.UUID, transcript: Transcript, model: str
) -> None:
    """Seal and index a transcript for a recording outside the job queue (an import, the
    tests' and the benchmark's fixtures): the same object, header and tokens a job writes.
    A transcript the recording had is shredded, so none is left that erasure cannot find."""
    async with pool.acquire() as conn:
        key = TermKey(FieldCipher(await load_data_key(conn, vault.keyring, DATA_KEY)))
    tokens = tokens_of(key, transcript)
    sealed = await vault.seal(once(transcript.to_bytes()), kind="transcripts")
    try:
        async with pool.acquire() as conn, conn.transaction():
            old = await store.take(conn, recording_id)
            await insert_sealed(conn, sealed)
            await store.finish(conn, recording_id, sealed.id, transcript.language, model, tokens)
            keys = await shred_headers(conn, [old]) if old is not None else []
    except BaseException:
        await discard(vault, sealed.object_key)
        raise
    await delete_after_commit(pool, vault.store, keys)


def tokens_of(key: TermKey, transcript: Transcript) -> list[bytes]:
    """The index tokens of every word said in the transcript: each word's, and the text of a
    segment the model gave no word timestamps for (shown, so it must be findable too)."""
    said = [word.word for _, word in transcript.words()]
    said += [segment.text for segment in transcript.segments if not segment.words]
    return key.tokens(term for text in set(said) for term in terms(text, transcript.language))
