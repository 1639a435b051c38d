"""The model directory is checked before it is loaded, and never fetched from a hub; the
command line installs the packaged one and refuses a transcribe-only worker with
transcription off."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from callrec import cli
from common.settings import Settings
from transcripts.model import PINNED, CheckedModel, ModelError, check_model

MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"


def model_copy(model: CheckedModel, target: Path, *, weights: bytes | None = None) -> Path:
    """The model's small files copied to ``target``, with a link to the real weights or,
    given ``weights``, weights of the test's own (a model nobody pinned)."""
    target.mkdir()
    for item in model.path.iterdir():
        if item.name != "model.bin":
            shutil.copyfile(item, target / item.name)
        elif weights is None:
            (target / item.name).symlink_to(item)
        else:
            (target / item.name).write_bytes(weights)
    return target


def test_the_packaged_model_is_the_pinned_one(whisper_model: CheckedModel) -> None:
    assert PINNED == {MODEL_SHA256: "whisper-base-ct2"}
    assert (whisper_model.name, whisper_model.sha256) == ("whisper-base-ct2", MODEL_SHA256)
    assert check_model(whisper_model.path) == whisper_model


def test_no_directory_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="needs CALLREC_TRANSCRIBE_MODEL") as unset:
        check_model(None)
    assert "install-model" in str(unset.value)
    with pytest.raises(ModelError, match=r"is not a directory$"):
        check_model(tmp_path / "missing")


def test_a_model_name_is_refused_never_downloaded() -> None:
    with pytest.raises(ModelError, match="never downloaded from a hub: give a directory"):
        check_model(Path("base"))


def test_a_directory_lacking_files_names_them(whisper_model: CheckedModel, tmp_path: Path) -> None:
    partial = model_copy(whisper_model, tmp_path / "partial")
    (partial / "tokenizer.json").unlink()
    (partial / "vocabulary.json").unlink()
    with pytest.raises(ModelError) as lacking:
        check_model(partial)
    assert "lacks tokenizer.json, vocabulary.json or vocabulary.txt" in str(lacking.value)


def test_unpinned_weights_need_the_operators_own_pin(
    whisper_model: CheckedModel, tmp_path: Path
) -> None:
    weights = b"weights someone converted themselves"
    own = model_copy(whisper_model, tmp_path / "own", weights=weights)
    sha256 = hashlib.sha256(weights).hexdigest()
    with pytest.raises(ModelError) as unknown:
        check_model(own)
    assert f"(SHA-256 {sha256}) are not a model this release is tested with" in str(unknown.value)
    assert "CALLREC_TRANSCRIBE_MODEL_SHA256" in str(unknown.value)
    with pytest.raises(ModelError, match="are not a model"):
        check_model(own, operator_sha256="0" * 64)  # a pin for other weights

    settings = Settings.from_env(
        {"CALLREC_TRANSCRIBE_MODEL": str(own), "CALLREC_TRANSCRIBE_MODEL_SHA256": sha256.upper()}
    )
    checked = check_model(
        settings.transcribe_model, operator_sha256=settings.transcribe_model_sha256
    )
    assert (checked.name, checked.sha256) == (f"operator:{sha256[:12]}", sha256)


@pytest.fixture
def quiet_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line run in this process: its logging set-up would take over pytest's."""
    for name in list(os.environ):
        if name.startswith("CALLREC_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(cli, "setup_logging", lambda *_args, **_kwargs: None)


@pytest.mark.usefixtures("quiet_cli")
def test_install_model_makes_a_checked_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "models" / "whisper-base"
    assert cli.main(["transcripts", "install-model", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"whisper-base-ct2 ready in {target} (SHA-256 {MODEL_SHA256})" in out
    assert f"CALLREC_TRANSCRIBE_MODEL={target}" in out
    assert check_model(target).sha256 == MODEL_SHA256
    assert sorted(p.name for p in target.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.json",
    ]


@pytest.mark.usefixtures("quiet_cli")
def test_a_transcribe_worker_with_transcription_off_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALLREC_TRANSCRIBE", "off")
    assert cli.main(["worker", "--jobs", "transcribe"]) == 2
    assert capsys.readouterr().err == "callrec: --jobs transcribe needs CALLREC_TRANSCRIBE=on\n"


@pytest.mark.usefixtures("quiet_cli")
def test_a_worker_with_a_bad_model_does_not_start(
    database_url: str,
    whisper_model: CheckedModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The model is checked when the worker starts, before any job is taken, and the
    command says which setting to fix."""
    own = model_copy(whisper_model, tmp_path / "own", weights=b"not the pinned weights")
    for name, value in {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "TRANSCRIBE": "on",
        "TRANSCRIBE_MODEL": str(own),
    }.items():
        monkeypatch.setenv(f"CALLREC_{name}", value)
    assert cli.main(["worker", "--jobs", "transcribe"]) == 2
    # the command's own line (a logging handler left on an earlier test's closed stream may
    # print a "Logging error" of its own into this capture)
    [err] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("callrec: ")]
    assert err.startswith("callrec: CALLREC_TRANSCRIBE_MODEL: the weights in ")
    assert "set CALLREC_TRANSCRIBE_MODEL_SHA256 to that hash" in err
