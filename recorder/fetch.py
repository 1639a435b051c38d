"""Fetch audio from a telephony system's URL (``audio_url`` or Twilio's ``RecordingUrl``).

Only hosts in ``CALLREC_FETCH_ALLOWED_HOSTS`` are contacted, redirects are not followed (a
redirect could lead anywhere), and the size cap and timeouts of uploads apply. The body
streams straight into the encryptor, like an upload. Failures carry one of the fixed texts of
:class:`FetchFailure` (an HTTP status at most): the telephony side is shown them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Final

import aiohttp

from common.settings import Settings
from recorder.metadata import host_allowed, http_host
from storage.vault import SealedObject, Vault

CONNECT_TIMEOUT_SECONDS: Final = 10
READ_TIMEOUT_SECONDS: Final = 60
TOTAL_TIMEOUT_SECONDS: Final = 30 * 60


class FetchFailure(StrEnum):
    """Why the audio could not be fetched; ``{status}`` is the far end's HTTP status."""

    NOT_HTTP = "the audio URL must be an http(s) URL with a valid host and port"
    HOST_NOT_ALLOWED = "the audio URL's host is not in CALLREC_FETCH_ALLOWED_HOSTS"
    STATUS = "the audio URL answered HTTP {status}"
    TOO_LARGE = "the audio is larger than CALLREC_MAX_UPLOAD_BYTES"
    UNREACHABLE = "the audio URL could not be reached"
    TIMEOUT = "fetching the audio timed out"
    TWILIO_CREDENTIALS_MISSING = "CALLREC_TWILIO_AUTH_TOKEN is needed to fetch Twilio recordings"


class FetchError(Exception):
    """The audio could not be fetched (worth retrying: the far end may be briefly down)."""

    def __init__(self, failure: FetchFailure, *, status: int = 0) -> None:
        self.public = failure.format(status=status)
        super().__init__(self.public)


async def fetch_audio(
    url: str, vault: Vault, settings: Settings, *, authorization: str | None = None
) -> SealedObject:
    """Download ``url`` into a new sealed *incoming* object (``authorization``: header value)."""
    try:
        host, port = http_host(url)
    except ValueError:
        raise FetchError(FetchFailure.NOT_HTTP) from None
    if not host_allowed(host, port, settings.fetch_allowed_hosts):
        raise FetchError(FetchFailure.HOST_NOT_ALLOWED)
    timeout = aiohttp.ClientTimeout(
        total=TOTAL_TIMEOUT_SECONDS,
        sock_connect=CONNECT_TIMEOUT_SECONDS,
        sock_read=READ_TIMEOUT_SECONDS,
    )
    limit = settings.max_upload_bytes
    headers = {"Authorization": authorization} if authorization is not None else {}
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers=headers, allow_redirects=False) as response,
        ):
            if response.status != 200:
                raise FetchError(FetchFailure.STATUS, status=response.status)
            if response.content_length is not None and response.content_length > limit:
                raise FetchError(FetchFailure.TOO_LARGE)

            async def body() -> AsyncIterator[bytes]:
                total = 0
                async for chunk in response.content.iter_chunked(256 * 1024):
                    total += len(chunk)
                    if total > limit:
                        raise FetchError(FetchFailure.TOO_LARGE)
                    yield chunk

            return await vault.seal(body(), kind="incoming")
    except aiohttp.ClientError:
        raise FetchError(FetchFailure.UNREACHABLE) from None
    except TimeoutError:
        raise FetchError(FetchFailure.TIMEOUT) from None
