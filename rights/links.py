"""Download links of access exports: recomputed, never stored; valid until one complete download.

A link's token is HMAC-SHA256 of the export's id under a key kept for this one purpose (derived
from the ``export-links`` data key, which is wrapped to the keyring like every other key). So
the officer can read the request as often as needed and always sees the same link, yet the
token is stored nowhere: the database holds only its SHA-256, for the lookup, and a copy of the
database without the keyring yields no link. The token is the credential; it never goes into a
log line or the audit log.

"One use" means one complete download: the link is spent when a response that carried the
export's last byte was written out in full (a 200 with the whole file, or the 206 that ends a
resumed download, whose start the link's earlier answers reached). A download cut short
spends nothing and resumes with ``Range``; reading the end first (a ZIP reader's directory,
a download manager's last part) spends nothing either. Until then the link serves any range;
every answer is audited. Either way it expires with the export: the retention sweep's
``exports`` category (:func:`expiry_category`) shreds it.

While the export is kept, the officer may issue a new copy (:func:`reissue`: the subject lost
the link, or needs the file again): the same sealed archive moves to a new export row, so
the new link is a new token and the old one answers 410 "replaced"; the retention period
still runs from the first copy. The request shows when a copy was last downloaded
(:func:`export_state`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from retention.erasure import (
    Decision,
    ErasureEngine,
    ErasureReport,
    Why,
    delete_payloads,
    leave_tombstones,
)
from retention.sweep import Category
from storage.db import Connection, Pool, due_page
from storage.fieldcrypt import derive_key, load_data_key, token_digest
from storage.keyring import Keyring
from storage.vault import shred_headers

LINK_KEY_NAME: Final = "export-links"
TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, base64url without padding
_LINK_KEYS: Final[weakref.WeakKeyDictionary[Keyring, bytes]] = weakref.WeakKeyDictionary()

INSERT_EXPORT: Final = """
INSERT INTO exports (id, request_id, sealed_object_id, token_sha256, size, files, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
SELECT_CURRENT: Final = """
SELECT id, token_sha256, expires_at FROM exports
WHERE request_id = $1 AND downloaded_at IS NULL AND expires_at > now()
  AND sealed_object_id IS NOT NULL
ORDER BY created_at DESC LIMIT 1
"""
# Exports made before links were derived hold a random digest that matches no link.
ADOPT_DIGEST: Final = "UPDATE exports SET token_sha256 = $2 WHERE id = $1"
SELECT_BY_DIGEST: Final = """
SELECT id, request_id, sealed_object_id, downloaded_at IS NOT NULL AS spent,
       expires_at <= now() AS expired, created_at,
       EXISTS (SELECT 1 FROM exports later
               WHERE later.request_id = e.request_id AND later.created_at > e.created_at)
       AS replaced
FROM exports e WHERE token_sha256 = $1
"""
# The request's kept export gives its archive to a new row (new id, so a new link).
MOVE_TO_NEW_COPY: Final = """
UPDATE exports e SET sealed_object_id = NULL FROM exports old
WHERE e.id = old.id AND e.id = (
    SELECT id FROM exports WHERE request_id = $1 AND sealed_object_id IS NOT NULL
      AND expires_at > now()
    ORDER BY created_at DESC LIMIT 1 FOR UPDATE)
RETURNING old.sealed_object_id, old.size, old.files, old.expires_at
"""
EXPORT_STATE: Final = """
SELECT max(downloaded_at) AS downloaded_at,
       max(expires_at) FILTER (WHERE sealed_object_id IS NOT NULL AND expires_at > now())
           AS copy_kept_until
FROM exports WHERE request_id = $1
"""
SPEND: Final = """
UPDATE exports SET downloaded_at = now() WHERE id = $1 AND downloaded_at IS NULL RETURNING id
"""
EXPIRED_LINK: Final = Why("retention:exports")
EXPIRED: Final = """
SELECT id FROM exports WHERE expires_at < $1 AND sealed_object_id IS NOT NULL AND id > $2
ORDER BY id LIMIT $3
"""
EXPIRE: Final = """
UPDATE exports e SET sealed_object_id = NULL FROM exports old
WHERE e.id = $1 AND old.id = e.id RETURNING old.sealed_object_id
"""


@dataclass(frozen=True)
class ExportLink:
    """The download link of a ready export, as the officer sees it."""

    token: str
    expires_at: datetime

    @property
    def path(self) -> str:
        """Where the subject downloads the export."""
        return f"/v1/exports/{self.token}"


@dataclass(frozen=True)
class LinkedExport:
    """The export a link names, and whether the link still works."""

    id: uuid.UUID
    request_id: uuid.UUID
    sealed_object_id: uuid.UUID | None
    spent: bool
    expired: bool
    created_at: datetime
    replaced: bool = False

    @property
    def refusal(self) -> str | None:
        """Why the link no longer works (``replaced``, ``downloaded``, ``expired``), or None."""
        if self.replaced:
            return "replaced"
        if self.spent:
            return "downloaded"
        if self.expired or self.sealed_object_id is None:
            return "expired"
        return None


async def link_key(conn: Connection, keyring: Keyring) -> bytes:
    """The key that links are derived with (its data key is created on first use), unwrapped
    once per keyring, so once per process, like the register's field key at start-up.

    Rotating the keyring rewraps the data key's header to the new key version but never
    changes the data key, so a cached key stays right across rotation and rewrap; call this
    outside a transaction that may roll back, so a key created on first use is the one kept.
    """
    key = _LINK_KEYS.get(keyring)
    if key is None:
        data_key = await load_data_key(conn, keyring, LINK_KEY_NAME)
        key = _LINK_KEYS[keyring] = derive_key(data_key, b"callrec export link")
    return key


def link_token(key: bytes, export_id: uuid.UUID) -> str:
    """The token of the export's link: the same every time, unguessable without the key."""
    mac = hmac.new(key, export_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


async def insert_export(
    conn: Connection,
    key: bytes,
    request_id: uuid.UUID,
    sealed_object_id: uuid.UUID,
    size: int,
    files: int,
    expires_at: datetime,
) -> uuid.UUID:
    """Record a sealed export and the digest of its link; the new export's id."""
    export_id = uuid.uuid4()
    digest = token_digest(link_token(key, export_id))
    await conn.execute(
        INSERT_EXPORT, export_id, request_id, sealed_object_id, digest, size, files, expires_at
    )
    return export_id


async def current_link(
    conn: Connection, keyring: Keyring, request_id: uuid.UUID
) -> ExportLink | None:
    """The request's working link, or None (no export, downloaded or expired); reading it
    changes nothing."""
    row = await conn.fetchrow(SELECT_CURRENT, request_id)
    if row is None:
        return None
    token = link_token(await link_key(conn, keyring), row["id"])
    digest = token_digest(token)
    if not hmac.compare_digest(bytes(row["token_sha256"]), digest):
        await conn.execute(ADOPT_DIGEST, row["id"], digest)
    return ExportLink(token, row["expires_at"])


async def find_export(conn: Connection | Pool, token: str) -> LinkedExport | None:
    """The export ``token`` links to, or None: an unknown token and a malformed one look alike,
    and the lookup is by digest, so its time says nothing about how close a guess was."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    row = await conn.fetchrow(SELECT_BY_DIGEST, token_digest(token))
    return None if row is None else LinkedExport(**dict(row))


async def spend(conn: Connection | Pool, export_id: uuid.UUID) -> bool:
    """Mark the link used after a complete download; False if it already was."""
    return await conn.fetchval(SPEND, export_id) is not None


async def reissue(conn: Connection, keyring: Keyring, request_id: uuid.UUID) -> ExportLink | None:
    """A new link to the request's kept export, the old link dead from now on; None when no
    copy is kept (never made, or expired and shredded)."""
    key = await link_key(conn, keyring)
    async with conn.transaction():
        row = await conn.fetchrow(MOVE_TO_NEW_COPY, request_id)
        if row is None:
            return None
        export_id = await insert_export(
            conn,
            key,
            request_id,
            row["sealed_object_id"],
            row["size"],
            row["files"],
            row["expires_at"],
        )
    return ExportLink(link_token(key, export_id), row["expires_at"])


async def export_state(conn: Connection, request_id: uuid.UUID) -> dict[str, str | None]:
    """When a copy was last downloaded in full, and until when a copy is kept (so may be
    issued again); ISO 8601, or None."""
    row = await conn.fetchrow(EXPORT_STATE, request_id)
    assert row is not None  # an aggregate always answers one row
    return {key: None if at is None else at.isoformat() for key, at in dict(row).items()}


def expiry_category(pool: Pool, engine: ErasureEngine) -> Category:
    """The retention sweep's ``exports`` category: an export whose link has expired is
    shredded (``expires_at`` carries the period; the request keeps its report)."""

    async def expire(ids: list[uuid.UUID]) -> ErasureReport:
        report = ErasureReport()
        keys: list[str] = []
        for export_id in ids:
            report.decisions.append(Decision("export", export_id, "erased", "retention:exports"))
            if engine.dry_run:
                continue
            async with pool.acquire() as conn, conn.transaction():
                object_id = await conn.fetchval(EXPIRE, export_id)
                if object_id is not None:
                    keys += await shred_headers(conn, [object_id])
                await leave_tombstones(conn, "export", EXPIRED_LINK, [export_id], [1])
        await delete_payloads(pool, engine.store, keys, report)
        return report

    return Category("exports", 0, due_page(pool, EXPIRED), expire)
