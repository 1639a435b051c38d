"""Finnish speech for tests that need a real transcript: espeak-ng's voice in calls laid out
the way a PBX records them, and the real model, built once per run.

The phrases are ones the packaged whisper-base hears right from espeak-ng at this speed
(measured: "Kiitoksia paljon" and "Haluan muuttaa osoitteen" come back word for word, at
8 and 16 kHz, after the Opus rendition; "irtisanoa vuokrasopimuksen" does not). Each party
speaks in a stretch of its own, so a word's time tells which stretch, and channel, it
came from. Import the fixtures into a conftest to use them (tests/conftest.py does).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

import numpy as np
import pytest

from common.ffmpeg import ffmpeg_exe
from transcripts.model import CheckedModel, assemble_packaged

if TYPE_CHECKING:
    from transcripts.engine import WhisperEngine

AGENT_SAYS: Final = "Kiitoksia paljon"
CUSTOMER_SAYS: Final = "Haluan muuttaa osoitteen"
NOT_SAID: Final = ("vuokrasopimus", "irtisanoa", "lasku")  # words no test call says
RATE: Final = 16_000
WORDS_PER_MINUTE: Final = 150
AGENT_AT: Final = 0.5  # seconds into the call
CUSTOMER_AT: Final = 3.5


@dataclass(frozen=True)
class Stretch:
    """Who said what, and from when to when in the call (seconds)."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class SpokenCall:
    """A call as the telephony system sends it, and what was said in it when."""

    wav: bytes
    seconds: float
    channel_layout: str
    said: dict[str, Stretch]  # by channel: agent, customer or mono


@cache
def speak(text: str) -> bytes:
    """``text`` said by espeak-ng's Finnish voice, as 16 kHz mono signed 16-bit samples."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("the transcript tests need espeak-ng: apt-get install espeak-ng")
    voice = subprocess.run(
        ["espeak-ng", "-v", "fi", "-s", str(WORDS_PER_MINUTE), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    to_samples = ["-ac", "1", "-ar", str(RATE), "-f", "s16le", "pipe:1"]
    return subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", "pipe:0", *to_samples],
        input=voice,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout


def _wav(samples: np.ndarray) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(samples.shape[1])
        file.setsampwidth(2)
        file.setframerate(RATE)
        file.writeframes(samples.tobytes())
    return out.getvalue()


def _place(track: np.ndarray, text: str, at: float) -> Stretch:
    voice = np.frombuffer(speak(text), dtype=np.int16)
    first = int(at * RATE)
    track[first : first + len(voice)] = voice
    return Stretch(text, at, at + len(voice) / RATE)


def stereo_call(
    channel_layout: str = "agent-left",
    *,
    agent: str = AGENT_SAYS,
    customer: str = CUSTOMER_SAYS,
    seconds: float = 7.0,
) -> SpokenCall:
    """A stereo WAV: the agent speaks first on their side, the customer later on theirs."""
    samples = np.zeros((int(seconds * RATE), 2), dtype=np.int16)
    left, right = (0, 1) if channel_layout == "agent-left" else (1, 0)
    said = {
        "agent": _place(samples[:, left], agent, AGENT_AT),
        "customer": _place(samples[:, right], customer, CUSTOMER_AT),
    }
    return SpokenCall(_wav(samples), seconds, channel_layout, said)


def mono_call(text: str = AGENT_SAYS, *, seconds: float = 3.0) -> SpokenCall:
    """A mono WAV with one stretch of speech."""
    samples = np.zeros((int(seconds * RATE), 1), dtype=np.int16)
    said = {"mono": _place(samples[:, 0], text, AGENT_AT)}
    return SpokenCall(_wav(samples), seconds, "mono", said)


@pytest.fixture(scope="session")
def whisper_model(tmp_path_factory: pytest.TempPathFactory) -> CheckedModel:
    """The packaged whisper-base joined into a model directory once per run (145 MB)."""
    return assemble_packaged(tmp_path_factory.mktemp("whisper-base") / "model")


@pytest.fixture(scope="session")
def whisper_engine(whisper_model: CheckedModel) -> WhisperEngine:
    """The model loaded once per run, shared by every test that transcribes."""
    from transcripts.engine import WhisperEngine

    return WhisperEngine(whisper_model)
