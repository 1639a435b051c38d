"""Enrolling two-factor sign-in in tests, with codes computed by pyotp."""

from __future__ import annotations

import time

import pyotp

from tests.api.sessions import Client


def next_code(secret: str) -> str:
    """The code of the next time step: accepted (drift of one step), and newer than the
    step the confirmation used, so it is no replay."""
    return pyotp.TOTP(secret).at(time.time() + 30)


async def enrol(api: Client, headers: dict[str, str]) -> tuple[str, list[str]]:
    """Enrol as the session of ``headers``: the secret and the recovery codes."""
    started = await api.post("/v1/auth/totp", headers=headers)
    assert started.status == 200, await started.text()
    secret = str((await started.json())["secret"])
    code = pyotp.TOTP(secret).now()
    confirmed = await api.post("/v1/auth/totp/confirm", json={"code": code}, headers=headers)
    assert confirmed.status == 200, await confirmed.text()
    return secret, list((await confirmed.json())["recovery_codes"])
