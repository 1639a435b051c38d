"""A sealed object through the audio pipeline into a new sealed Opus rendition.

Ingest renders the upload, the redaction job the original rendition with spans silenced;
both decrypt straight into ffmpeg and encrypt its output straight back into the vault, and
neither may leave a half-written object behind when the pipeline fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from recorder.audio import AudioReport, process_audio
from storage.vault import SealedObject, Vault, discard


async def render_sealed(
    vault: Vault,
    source: SealedObject,
    *,
    bitrate_kbps: int,
    max_seconds: float | None = None,
    audio_filter: str | None = None,
) -> tuple[AudioReport, SealedObject]:
    """The pipeline's report and the new sealed rendition (its header row not yet stored)."""
    rendition: SealedObject | None = None

    async def store(stream: AsyncIterator[bytes]) -> SealedObject:
        nonlocal rendition
        rendition = await vault.seal(stream, kind="recordings")
        return rendition

    try:
        return await process_audio(
            vault.open_range(source),
            store,
            bitrate_kbps=bitrate_kbps,
            max_seconds=max_seconds,
            audio_filter=audio_filter,
        )
    except BaseException:
        if rendition is not None:
            await discard(vault, rendition.object_key)
        raise
