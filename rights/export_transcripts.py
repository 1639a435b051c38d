"""The transcripts in an access copy: each ready one as text and as JSON beside its call.

A transcript is the subject's words (and the agent's) as the machine heard them, so it is
personal data like the audio and goes into the copy whole: ``<call>.transcript.txt`` with a
line per stretch of speech (``[01:02.3] agent: …``) for reading, and ``<call>.transcript.json``
in the API's shape for moving elsewhere. The copy follows the DPO's choice for the call: when
the redacted audio goes out, the transcript goes out with the same spans as ``[redacted]``,
so the other person's words silenced in the sound are not readable in the text.
recordings.json says, per call, whether there is a transcript, which copy it is, and which
files hold it; a pending or failed one is listed with its state and no file.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

from recorder.redaction import cuts_of
from storage.db import Connection
from storage.vault import Vault
from transcripts.document import Span, Transcript
from transcripts.reading import TranscriptGone, open_transcript
from transcripts.store import headers_of

# The keys each recording gets in recordings.json (and the columns of recordings.csv).
TRANSCRIPT_KEYS: Final = (
    "transcript_status", "transcript_export", "transcript_file", "transcript_json_file",
)  # fmt: skip


def clock(seconds: float) -> str:
    """``mm:ss.t`` from the start of the call (minutes go past 59 in a long call)."""
    tenths = round(seconds * 10)
    minutes, rest = divmod(tenths, 600)
    return f"{minutes:02d}:{rest // 10:02d}.{rest % 10}"


def as_text(transcript: Transcript) -> str:
    """One line per segment, in time order: ``[00:01.2] agent: Kiitos soitostanne``."""
    return "".join(
        f"[{clock(s.start)}] {s.channel}: {s.text.strip()}\n" for s in transcript.segments
    )


def as_document(transcript: Transcript) -> bytes:
    """The transcript in the shape ``GET /v1/recordings/{id}/transcript`` answers."""
    document = {"status": "ready", **transcript.as_json()}
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


async def redaction_spans(conn: Connection, recording_id: uuid.UUID) -> list[Span]:
    """The call's redaction spans as the transcript masks them (reasons stay sealed)."""
    return [
        Span(float(c.start_seconds), float(c.end_seconds), c.channel)
        for c in await cuts_of(conn, recording_id)
    ]


@dataclass(frozen=True)
class TranscriptCopy:
    """One call's transcript as the copy holds it: the (masked) document and its files."""

    recording_id: str
    transcript: Transcript
    members: tuple[tuple[str, bytes], ...]  # (member name, bytes): the text, then the JSON


async def transcript_copies(
    conn: Connection, vault: Vault, recordings: list[dict[str, Any]], stems: dict[str, str]
) -> AsyncIterator[TranscriptCopy]:
    """The transcripts of these recordings as the copy holds them, filling each recording's :data:`TRANSCRIPT_KEYS` on the way (``stems``: recording id →
    its member name without the extension). A transcript erased meanwhile is left out, as a
    call whose audio was."""
    headers = await headers_of(conn, [uuid.UUID(r["id"]) for r in recordings])
    for recording in recordings:
        header = headers.get(uuid.UUID(recording["id"]))
        if header is None:
            continue
        recording["transcript_status"] = header.status
        if header.status != "ready":
            continue
        try:
            transcript = await open_transcript(conn, vault, header)
        except TranscriptGone:
            del recording["transcript_status"]
            continue
        redacted = recording.get("export") == "redacted"
        if redacted:
            transcript = transcript.redacted(await redaction_spans(conn, header.recording_id))
        stem = stems[recording["id"]]
        recording["transcript_export"] = "redacted" if redacted else "original"
        recording["transcript_file"] = f"{stem}.transcript.txt"
        recording["transcript_json_file"] = f"{stem}.transcript.json"
        yield TranscriptCopy(
            recording["id"],
            transcript,
            (
                (recording["transcript_file"], as_text(transcript).encode()),
                (recording["transcript_json_file"], as_document(transcript)),
            ),
        )
