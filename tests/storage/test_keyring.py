"""The keyring file: creation, rotation, recipients-only mode and clear errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from storage.keyring import Keyring, KeyringError


def test_create_writes_private_age_identity_file(tmp_path: Path) -> None:
    path = tmp_path / "k" / "keyring.txt"
    keyring = Keyring.create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "# version: 1" in text
    assert keyring.current.identity is not None
    assert keyring.current.identity.encode() in text
    assert Keyring.load(path).current.recipient == keyring.current.recipient


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "keyring.txt"
    Keyring.create(path)
    with pytest.raises(KeyringError, match="refusing to overwrite"):
        Keyring.create(path)


def test_rotate_adds_new_current_version(tmp_path: Path) -> None:
    path = tmp_path / "keyring.txt"
    keyring = Keyring.create(path)
    first = keyring.current
    second = keyring.rotate(path)
    assert second.version == 2
    loaded = Keyring.load(path)
    assert loaded.current.recipient == second.recipient
    assert set(loaded.entries) == {1, 2}
    assert loaded.entries[1].recipient == first.recipient
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert next(i.recipient for i in loaded.identities(preferred=1)) == first.recipient


def test_missing_keyring_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="callrec keys init"):
        Keyring.load(tmp_path / "none.txt")


def test_garbage_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "keyring.txt"
    path.write_text("# comment\nnot a key\n")
    with pytest.raises(KeyringError, match="line 2"):
        Keyring.load(path)
    path.write_text("# nothing\n")
    with pytest.raises(KeyringError, match="no keys"):
        Keyring.load(path)
