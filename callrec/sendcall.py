"""``callrec send-call``: post a recording to a running service, signed as a telephony system
signs it.

A new operator sees the whole ingest path work without writing a client, and this is the
reference for the v1 signature: the multipart body is built first, then its raw bytes are
signed (which is why ``curl -F`` cannot be used: curl builds the body after signing).
"""

from __future__ import annotations

import json
import mimetypes
import re
import secrets
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import aiohttp

from callrec.app import webhook_secret_path
from common.ffmpeg import ffmpeg_exe
from common.settings import Settings
from recorder.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

_TIME: Final = re.compile(r"time=(\d+):(\d\d):(\d\d(?:\.\d+)?)")
_ANY_ADDRESS: Final = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - read, never bound
CONNECT_SECONDS: Final = 10.0
# What to check when the service refuses a call, by status; the answer's own detail is shown too.
_HINTS: Final = {
    401: "the secret differs from the service's: use the same CALLREC_WEBHOOK_SECRET, or the "
    "same CALLREC_DATA_DIR (its webhook-secret.txt)",
    503: "the service cannot take calls now (see its /readyz)",
}


class SendCallError(Exception):
    """The call cannot be sent, or the service refused it; the message says what to do."""


def default_url(settings: Settings) -> str:
    """The service this machine's settings describe (``CALLREC_HOST``, ``CALLREC_PORT``), so
    that ``send-call`` reaches the ``callrec serve`` started with the same environment."""
    host = "127.0.0.1" if settings.host in _ANY_ADDRESS else settings.host
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


@dataclass(frozen=True)
class CallToSend:
    """What the operator says about the call; unset fields get harmless defaults."""

    audio: Path
    caller: str | None = None
    agent: str = "send-call"
    started_at: str | None = None
    external_id: str | None = None
    duration_seconds: float | None = None

    def metadata(self) -> dict[str, Any]:
        """The webhook's metadata for this call."""
        started = self.started_at or datetime.now().astimezone().isoformat(timespec="seconds")
        measured = audio_seconds(self.audio)  # also refuses a file that is not audio
        duration = self.duration_seconds
        return {
            "external_id": self.external_id or f"send-call-{uuid.uuid4()}",
            "started_at": started,
            "duration_seconds": duration if duration is not None else measured,
            "answered_by": self.agent,
            "caller_number": self.caller,
            "notice_played": True,
        }


def webhook_secret(settings: Settings) -> str:
    """CALLREC_WEBHOOK_SECRET, or the one ``callrec serve`` generated in the data directory."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.reveal()
    path = webhook_secret_path(settings)
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SendCallError(
            f"no webhook secret: set CALLREC_WEBHOOK_SECRET, or CALLREC_DATA_DIR to the "
            f"service's data directory (no {path})"
        ) from None


def audio_seconds(path: Path) -> float:
    """The file's duration, decoded by ffmpeg (what the service will measure too). A file
    ffmpeg cannot decode is refused here, before anything is sent."""
    if not path.is_file():
        raise SendCallError(f"no such file: {path}")
    result = subprocess.run(  # noqa: S603 - our ffmpeg, the operator's own file
        [ffmpeg_exe(), "-hide_banner", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    found = _TIME.findall(result.stderr)
    if result.returncode != 0 or not found:
        raise SendCallError(
            f"{path} is not audio that ffmpeg can decode (WAV, MP3, Ogg, FLAC or WebM); "
            "nothing was sent"
        )
    hours, minutes, seconds = found[-1]
    return round(int(hours) * 3600 + int(minutes) * 60 + float(seconds), 3)


def multipart_body(metadata: dict[str, Any], audio: Path, boundary: str) -> bytes:
    """The raw ``multipart/form-data`` body: a ``metadata`` part and an ``audio`` part."""
    kind = mimetypes.guess_type(audio.name)[0] or "application/octet-stream"
    meta = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n'
        f"Content-Type: application/json\r\n\r\n{json.dumps(metadata)}\r\n"
    )
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="call"\r\n'
        f"Content-Type: {kind}\r\n\r\n"
    )
    return (meta + head).encode() + audio.read_bytes() + f"\r\n--{boundary}--\r\n".encode()


async def send_call(url: str, secret: str, call: CallToSend) -> str:
    """POST the call to ``url``'s webhook; returns the status and the answer's text, or raises
    :class:`SendCallError` when it cannot be delivered or the service refuses it."""
    boundary = "callrec" + secrets.token_hex(12)
    body = multipart_body(call.metadata(), call.audio, boundary)
    timestamp = int(time.time())
    headers = {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret.encode(), timestamp, body),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url.rstrip("/") + "/v1/recordings", data=body, headers=headers) as answer,
        ):
            status, text = answer.status, await answer.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SendCallError(
            f"cannot reach {url} ({type(exc).__name__}); is callrec serve running there? "
            "(--url, or CALLREC_HOST and CALLREC_PORT as the service has them); nothing was sent"
        ) from None
    if status >= 400:
        raise SendCallError(refusal(status, text))
    return f"{status} {text}"


def refusal(status: int, text: str) -> str:
    """The service's refusal in a line: its status, its problem's detail, and what to check."""
    try:
        problem = json.loads(text)
        detail = f"{problem.get('title', '')}: {problem.get('detail', '')}".strip(": ")
    except (ValueError, AttributeError):
        detail = text[:200]
    hint = _HINTS.get(status)
    return f"the service refused the call ({status} {detail})" + (f"; {hint}" if hint else "")
