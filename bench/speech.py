"""Synthetic customer-service calls in Finnish speech, for the transcription benchmark.

Turns of an agent (left channel) and a customer (right), said by ``espeak-ng -v fi`` and
sent as telephony does, 8 kHz µ-law stereo WAV. The lines are made up: no real person's data.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import wave
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from common.ffmpeg import ffmpeg_exe
from transcripts.terms import terms

if TYPE_CHECKING:
    import numpy.typing as npt


LANGUAGE = "fi"
PAUSE_SECONDS = 0.6
# What an agent and a customer say, in turns (synthetic: no real person's data).
AGENT_LINES = (
    "Hyvää päivää, asiakaspalvelu, miten voin auttaa?",
    "Katson tietonne järjestelmästä, hetkinen vain.",
    "Vuokrasopimuksenne päättyy ensi kuun lopussa.",
    "Lasku lähetetään sähköpostiin viikon kuluessa.",
    "Voin siirtää eräpäivää kahdella viikolla eteenpäin.",
    "Kirjaan tämän muistiin ja vahvistan asian tekstiviestillä.",
    "Huoltomies tulee tiistaina aamupäivällä kello kymmenen.",
    "Irtisanomisaika on yksi kuukausi kirjallisesta ilmoituksesta.",
    "Vuokra nousee vuoden alussa kolme prosenttia.",
    "Tarkistan, onko maksunne jo kirjautunut meille.",
    "Voitte maksaa laskun kahdessa erässä ilman lisäkuluja.",
    "Onko teillä vielä muuta kysyttävää?",
    "Kiitos soitostanne ja hyvää päivänjatkoa.",
)
CUSTOMER_LINES = (
    "Soitan vuokrasopimuksesta, joka päättyy pian.",
    "Laskussa on virhe, summa on liian suuri.",
    "Haluaisin muuttaa maksupäivää myöhemmäksi.",
    "Keittiön hana vuotaa ja lattia kastuu koko ajan.",
    "Milloin huoltomies pääsee käymään asunnossa?",
    "Sopiiko tiistai, olen silloin kotona koko päivän.",
    "Voinko maksaa osissa, tämä kuu on vähän tiukka.",
    "Muutan pois toukokuussa ja haluan irtisanoa sopimuksen.",
    "Saunan kiuas ei lämpene ollenkaan.",
    "Pihalla on ollut roskia jo kaksi viikkoa.",
    "Kiitoksia paljon avusta, tämä selvensi asiaa.",
    "Ei ole muuta, kiitos.",
)


@cache
def espeak() -> str:
    """The espeak-ng program (the Debian package the transcription tests use too)."""
    found = shutil.which("espeak-ng")
    if found is None:
        raise SystemExit("bench.transcripts needs espeak-ng (apt-get install espeak-ng)")
    return found


@cache
def spoken(text: str) -> npt.NDArray[np.int16]:
    """``text`` said by espeak-ng's Finnish voice (22 050 Hz mono samples)."""
    wav = subprocess.run(
        [espeak(), "-v", "fi", "--stdout", text], check=True, capture_output=True
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)


@dataclass(frozen=True)
class Dialogue:
    """A synthetic call: its telephony WAV, its length and the words said in it."""

    wav: bytes
    seconds: float
    said: frozenset[str]  # base forms


def dialogue(seconds: float, rng: random.Random) -> Dialogue:
    """Turns of agent (left) and customer (right) until ``seconds``, as 8 kHz µ-law stereo."""
    rate, gap = 22_050, int(PAUSE_SECONDS * 22_050)
    pieces: list[tuple[int, int, npt.NDArray[np.int16]]] = []  # (channel, offset, samples)
    at, turn, lines = 0, 0, []
    while at < seconds * rate:
        text = rng.choice(AGENT_LINES if turn % 2 == 0 else CUSTOMER_LINES)
        samples = spoken(text)
        pieces.append((turn % 2, at, samples))
        lines.append(text)
        at += len(samples) + gap
        turn += 1
    stereo = np.zeros((at, 2), dtype=np.int16)
    for channel, offset, samples in pieces:
        stereo[offset : offset + len(samples), channel] = samples
    wav = subprocess.run(
        [
            *(ffmpeg_exe(), "-v", "error", "-f", "s16le", "-ar", str(rate), "-ac", "2"),
            *("-i", "pipe:0", "-ar", "8000", "-c:a", "pcm_mulaw", "-f", "wav", "pipe:1"),
        ],
        input=stereo.tobytes(),
        check=True,
        capture_output=True,
    ).stdout
    said = frozenset(t for line in lines for t in terms(line, LANGUAGE))
    return Dialogue(wav, at / rate, said)
