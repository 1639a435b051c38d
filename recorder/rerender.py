"""Re-render stereo renditions made before the channels were kept apart.

Renditions of stereo calls used to be coupled Opus stereo, which leaks one channel into the
other (see :data:`recorder.audio.UNCOUPLED`). ``callrec recordings re-render`` re-encodes
each one as two uncoupled streams, seals the result as a new object, points the recording
at it and crypto-shreds the old one in the same transaction, so a crash at any point leaves
either the old rendition or the new one, never both in use and never neither.

What is already coupled is found from the rendition itself (the Opus header's mapping
family), so running again skips what is done: the command is idempotent and resumes where
a stopped run left off. When the original upload was kept (``CALLREC_KEEP_ORIGINAL``) it is
the source, which gives clean channels; otherwise the old rendition is, which stops further
leaks (every later rendition, e.g. a redacted one, starts from this one) but cannot take out
what the coupled encoding already mixed in. Recordings under an active legal hold are left
as they are: their bytes are evidence.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from audit.log import SYSTEM, AuditEvent, record
from recorder.redaction import has_spans, queue_render
from recorder.rendition import render_sealed
from retention.erasure import holds_on
from retention.reaper import delete_payloads_now
from storage.db import Connection, Pool
from storage.vault import SealedObject, Vault, discard, insert_sealed, load_sealed, shred_headers

UNCOUPLED_FAMILY: Final = 255
# OpusHead: magic (8), version (1), channels (1), pre-skip (2), rate (4), gain (2), family (1)
_FAMILY_OFFSET: Final = 18

STEREO_RENDITIONS: Final = """
SELECT r.id, r.audio_object_id, r.incoming_object_id, r.customer_id
FROM recordings r
WHERE r.status = 'ready' AND r.channels = 2 AND r.audio_object_id IS NOT NULL
ORDER BY r.id
"""
# the swap happens only if the recording still points at the rendition that was re-rendered
SWAP_RENDITION: Final = """
UPDATE recordings SET audio_object_id = $3, audio_sha256 = $4
WHERE id = $1 AND audio_object_id = $2 AND status = 'ready'
"""


def mapping_family(opus_head: bytes) -> int | None:
    """The channel mapping family an Ogg/Opus stream's header states, None if there is none."""
    at = opus_head.find(b"OpusHead", 0, 512)
    if at < 0 or at + _FAMILY_OFFSET >= len(opus_head):
        return None
    return opus_head[at + _FAMILY_OFFSET]


@dataclass
class RerenderReport:
    """What a run did, counted by outcome."""

    converted: list[uuid.UUID] = field(default_factory=list)
    already: int = 0
    changed_meanwhile: int = 0


async def _head(vault: Vault, sealed: SealedObject) -> bytes:
    """The rendition's first bytes: its Ogg page with the Opus header."""
    end = min(512, sealed.plaintext_size)
    return b"".join([piece async for piece in vault.open_range(sealed, 0, end)])


async def rerender_stereo(
    pool: Pool,
    vault: Vault,
    *,
    bitrate_kbps: int,
    dry_run: bool = False,
    progress: Callable[[int, int, RerenderReport], None] | None = None,
) -> RerenderReport:
    """Re-encode every coupled stereo rendition uncoupled; with ``dry_run`` only count them."""
    report = RerenderReport()
    rows = await pool.fetch(STEREO_RENDITIONS)
    linked = {row["id"]: row["customer_id"] for row in rows if row["customer_id"] is not None}
    held = await holds_on(pool, [row["id"] for row in rows], linked)  # held calls stay as they are
    rows = [row for row in rows if row["id"] not in held]
    for done, row in enumerate(rows, start=1):
        rendition = await load_sealed(pool, row["audio_object_id"])
        if rendition is None or mapping_family(await _head(vault, rendition)) == UNCOUPLED_FAMILY:
            report.already += 1
        elif dry_run:
            report.converted.append(row["id"])
        else:
            original = row["incoming_object_id"]
            source = None if original is None else await load_sealed(pool, original)
            if await _convert(pool, vault, row["id"], rendition, source or rendition, bitrate_kbps):
                report.converted.append(row["id"])
            else:
                report.changed_meanwhile += 1
        if progress is not None:
            progress(done, len(rows), report)
    return report


async def _convert(
    pool: Pool,
    vault: Vault,
    recording_id: uuid.UUID,
    old: SealedObject,
    source: SealedObject,
    bitrate_kbps: int,
) -> bool:
    """Seal the new rendition and swap it in; False if the recording changed meanwhile.

    The new object is discarded when the swap's transaction certainly rolls back (as the
    worker does); a failure at COMMIT leaves it to the orphan reaper.
    """
    _, new = await render_sealed(vault, source, bitrate_kbps=bitrate_kbps)
    try:
        async with pool.acquire() as conn, conn.transaction():
            try:
                shredded = await _swap(conn, recording_id, old, new)
            except BaseException:
                await discard(vault, new.object_key)
                raise
    except _Changed:
        return False
    with contextlib.suppress(Exception):  # what the store refuses stays queued for the reaper
        await delete_payloads_now(pool, vault.store, shredded)
    return True


async def _swap(
    conn: Connection, recording_id: uuid.UUID, old: SealedObject, new: SealedObject
) -> list[str]:
    """Point the recording at ``new``, shred ``old``, audit; returns the keys to delete."""
    await insert_sealed(conn, new)
    swapped = await conn.execute(SWAP_RENDITION, recording_id, old.id, new.id, new.plaintext_sha256)
    if swapped != "UPDATE 1":
        raise _Changed
    shredded = await shred_headers(conn, [old.id])
    if await has_spans(conn, recording_id):  # the redacted rendition starts from this one
        await queue_render(conn, recording_id)
    await record(
        conn,
        AuditEvent(
            "recording.re_render",
            "ok",
            SYSTEM,
            object_type="recording",
            object_id=str(recording_id),
            details={"mapping_family": UNCOUPLED_FAMILY},
        ),
    )
    return shredded


class _Changed(Exception):
    """The recording was erased or re-rendered by someone else while this one worked."""
