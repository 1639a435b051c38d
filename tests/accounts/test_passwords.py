"""Password hashing: the dummy hash used for unknown usernames costs a full scrypt run."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

import accounts.passwords
from accounts.passwords import DUMMY_HASH, LOG2_N, P, R, hash_password, verify_password


def test_verifying_against_the_dummy_hash_runs_scrypt_with_the_current_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, int, int]] = []
    real = Scrypt

    class Spy:
        def __init__(self, **kwargs: Any) -> None:
            self._kdf = real(**kwargs)
            self._cost = (kwargs["n"], kwargs["r"], kwargs["p"])

        def verify(self, key: bytes, expected: bytes) -> None:
            calls.append(self._cost)  # scrypt runs here, then compares
            self._kdf.verify(key, expected)

    monkeypatch.setattr(accounts.passwords, "Scrypt", Spy)
    assert not verify_password("any password at all", DUMMY_HASH)
    assert calls == [(2**LOG2_N, R, P)]


def test_the_dummy_hash_has_the_shape_of_a_real_one() -> None:
    real = hash_password("correct horse battery")
    assert [len(f) for f in DUMMY_HASH.split("$")] == [len(f) for f in real.split("$")]
    assert DUMMY_HASH.split("$")[:4] == real.split("$")[:4]
