"""Speech to text with faster-whisper (CTranslate2) on a checked local model.

The model is loaded once per process from the directory :mod:`transcripts.model` checked,
with ``local_files_only`` so faster-whisper never turns to a hub. Audio arrives as float32
samples in memory (never a file); each channel of a stereo call is transcribed on its own so
each segment says who spoke. The work runs in threads: CTranslate2 releases the GIL, and
``num_workers`` lets that many transcriptions share the one loaded model. A thread cannot be
cancelled, so a cancelled transcription (a lost lease, a stopping worker) tells its thread to
stop at the next segment instead of running the model to the end of the call for nothing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from transcripts.document import Segment, Transcript, Word
from transcripts.model import CheckedModel

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.float32]
else:
    Samples = Any

SAMPLE_RATE: Final = 16_000
# The decoding options, shared with the benchmark's bare faster-whisper run so the two compare.
OPTIONS: Final[dict[str, Any]] = {
    "word_timestamps": True,
    "vad_filter": True,
    "condition_on_previous_text": False,  # a call's silences otherwise breed repeated lines
    "beam_size": 5,
}


@dataclass(frozen=True)
class Channel:
    """One channel's samples (16 kHz mono float32) and whose voice it carries."""

    role: str  # agent | customer | mono
    samples: Samples


class Engine(Protocol):
    """What the transcription job needs of a speech recogniser."""

    name: str

    async def transcribe(self, channels: Sequence[Channel], language: str) -> Transcript:
        """The transcript of a call from its channels."""
        ...


class WhisperEngine:
    """faster-whisper on one loaded model, shared by ``concurrency`` jobs."""

    def __init__(self, model: CheckedModel, *, concurrency: int = 1, threads: int = 0) -> None:
        from faster_whisper import WhisperModel  # heavy: only where transcription runs

        self.name = model.name
        self._model = WhisperModel(
            str(model.path),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            num_workers=concurrency,
            local_files_only=True,
        )

    async def transcribe(self, channels: Sequence[Channel], language: str) -> Transcript:
        """Transcribe each channel in a worker thread and merge the segments by time."""
        segments: list[Segment] = []
        stop = threading.Event()
        try:
            for channel in channels:
                segments += await asyncio.to_thread(self._channel, channel, language, stop)
        finally:
            stop.set()  # cancelled: the thread still running stops at its next segment
        segments.sort(key=lambda s: (s.start, s.channel))
        return Transcript(language, tuple(segments))

    def _channel(self, channel: Channel, language: str, stop: threading.Event) -> list[Segment]:
        found, _info = self._model.transcribe(channel.samples, language=language, **OPTIONS)
        segments = []
        for s in found:  # a generator: the model decodes each segment as it is asked for
            if stop.is_set():
                break
            words = tuple(Word(_seconds(w.start), _seconds(w.end), w.word) for w in s.words or ())
            segments.append(
                Segment(_seconds(s.start), _seconds(s.end), channel.role, s.text.strip(), words)
            )
        return segments


def _seconds(value: float) -> float:
    """A time as a plain float to the hundredth (faster-whisper gives numpy floats)."""
    return round(float(value), 2)
