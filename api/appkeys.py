"""Typed keys for everything the application and a request carry (no string keys anywhere)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from aiohttp import web

from accounts.users import User
from api.transcript_search import TermKeys
from common.errors import Problem
from common.metrics import Metrics
from common.settings import Settings
from compliance.organisation import Organisation
from recorder.limits import UploadSlots
from storage.db import Pool
from storage.fieldcrypt import FieldCipher
from storage.keyring import Keyring
from storage.objects import ObjectStore, WriteProbe
from storage.vault import Vault

SETTINGS = web.AppKey("settings", Settings)
POOL: web.AppKey[Pool] = web.AppKey("pool")
STORE: web.AppKey[ObjectStore] = web.AppKey("store")
STORE_PROBE = web.AppKey("store_probe", WriteProbe)
KEYRING = web.AppKey("keyring", Keyring)
VAULT = web.AppKey("vault", Vault)
METRICS = web.AppKey("metrics", Metrics)
UPLOAD_SLOTS = web.AppKey("upload_slots", UploadSlots)
FIELD_CIPHER = web.AppKey("field_cipher", FieldCipher)
# The scheduled jobs and their intervals (callrec.jobs.SCHEDULE), for the compliance evidence.
SCHEDULE: web.AppKey[Mapping[str, timedelta]] = web.AppKey("schedule")
ORGANISATION = web.AppKey("organisation", Organisation)
TERM_KEYS = web.AppKey("term_keys", TermKeys)  # the transcript index's key, unwrapped once
CURRENT_USER = web.RequestKey("current_user", User)  # set by api.session.authorize


def field_cipher(request: web.Request) -> FieldCipher:
    """The cipher of sealed fields (the register's identity codes, two-factor secrets); a
    503 on a node whose keyring holds recipients only and so cannot open them."""
    cipher = request.app.get(FIELD_CIPHER)
    if cipher is None:
        raise Problem(
            "this node has a recipients-only keyring and cannot open the register",
            status=503,
            slug="register-unavailable",
            title="Register unavailable",
        )
    return cipher
