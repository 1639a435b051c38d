"""What a recording's transcript is at: one word for the transcript route and the detail.

``ready``, ``failed`` and ``pending`` come from the transcript's header row. Without one:
``off`` when transcription is off (``CALLREC_TRANSCRIBE``); ``pending`` for a call still
being processed (it is queued once ready); ``none`` for a processed call that has no
transcript: it was recorded while transcription was off, or its transcript was removed.
A job queued before transcription was turned off runs no more, so it says ``off`` too.
"""

from __future__ import annotations

from typing import Final, Literal

from recorder.catalog import Recording
from transcripts.store import Header

TranscriptState = Literal["none", "off", "pending", "ready", "failed"]
STATES: Final = ("none", "off", "pending", "ready", "failed")
PROCESSING: Final = ("received", "processing")


def transcript_state(
    header: Header | None, recording: Recording, *, transcribe: bool
) -> TranscriptState:
    """The state of ``recording``'s transcript, given its header and whether transcription
    is on."""
    if header is not None and header.status == "ready":
        return "ready"
    if header is not None and header.status == "failed":
        return "failed"
    if not transcribe:
        return "off"
    if header is not None or recording.status in PROCESSING:
        return "pending"
    return "none"
