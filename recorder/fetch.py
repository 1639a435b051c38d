"""Fetch audio from a telephony system's URL (``audio_url`` or Twilio's ``RecordingUrl``).

Only hosts in ``CALLREC_FETCH_ALLOWED_HOSTS`` are contacted, redirects are not followed (a
redirect could lead anywhere), and the size cap and timeouts of uploads apply. The body
streams straight into the encryptor, like an upload.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

import aiohttp

from callrec.settings import Settings
from recorder.metadata import host_allowed, http_host
from storage.vault import SealedObject, Vault

CONNECT_TIMEOUT_SECONDS: Final = 10
READ_TIMEOUT_SECONDS: Final = 60
TOTAL_TIMEOUT_SECONDS: Final = 30 * 60


class FetchError(Exception):
    """The audio could not be fetched (worth retrying: the far end may be briefly down)."""


async def fetch_audio(
    url: str, vault: Vault, settings: Settings, *, authorization: str | None = None
) -> SealedObject:
    """Download ``url`` into a new sealed *incoming* object (``authorization``: header value)."""
    try:
        host, port = http_host(url)
    except ValueError as exc:
        raise FetchError(f"audio URL {exc}") from None
    if not host_allowed(host, port, settings.fetch_allowed_hosts):
        raise FetchError("audio URL host is not in CALLREC_FETCH_ALLOWED_HOSTS")
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
                raise FetchError(f"audio URL answered HTTP {response.status}")
            if response.content_length is not None and response.content_length > limit:
                raise FetchError(f"audio larger than {limit} bytes")

            async def body() -> AsyncIterator[bytes]:
                total = 0
                async for chunk in response.content.iter_chunked(256 * 1024):
                    total += len(chunk)
                    if total > limit:
                        raise FetchError(f"audio larger than {limit} bytes")
                    yield chunk

            return await vault.seal(body(), kind="incoming")
    except aiohttp.ClientError as exc:
        raise FetchError(f"could not fetch audio: {type(exc).__name__}") from None
    except TimeoutError:
        raise FetchError("fetching audio timed out") from None
