"""Slow and unsigned clients cannot starve signed uploads.

Each test runs the real app on a real TCP port and talks to it over raw sockets, so a client
can send its headers and then drip its body a byte at a time (or never send it), as an
attacker would. Settings are small (two slots, a one-second grace) so the attacks play out
in a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from api.appkeys import POOL, STORE, UPLOAD_SLOTS
from callrec.app import create_app
from common.settings import Secret, Settings
from tests.recorder.helpers import metadata, multipart, signed_headers
from tests.s3 import on_s3

AUDIO = b"RIFF" + bytes(range(256)) * 400
WEBHOOK = "/v1/recordings"
TWILIO = "/v1/webhooks/twilio/recording-status"
STRANGER = "127.0.0.1"
NEIGHBOUR = "127.0.0.2"  # Linux routes all of 127/8 to loopback: a second peer address
ANSWER_WITHIN = 5.0
Serve = Callable[[Settings], Awaitable[TestServer]]


@dataclasses.dataclass
class Answer:
    """One HTTP response as the raw socket saw it."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def is_problem(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/problem+json")


class Upload:
    """One request over its own socket: headers first, then the body as the test decides."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.dripping: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls,
        server: TestServer,
        headers: dict[str, str],
        length: int,
        *,
        path: str = WEBHOOK,
        source: str = STRANGER,
    ) -> Upload:
        reader, writer = await asyncio.open_connection(
            server.host, server.port, local_addr=(source, 0)
        )
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {server.host}:{server.port}",
            f"Content-Length: {length}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def drip(self, data: bytes, every: float = 0.1) -> None:
        """Send ``data`` one byte every ``every`` seconds, in the background."""

        async def run() -> None:
            try:
                for index in range(len(data)):
                    await self.send(data[index : index + 1])
                    await asyncio.sleep(every)
            except ConnectionError:
                pass

        self.dripping = asyncio.create_task(run())

    async def answer(self, within: float = ANSWER_WITHIN) -> Answer:
        async with asyncio.timeout(within):
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines if line)
            }
            raw = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return Answer(int(status_line.split()[1]), headers, json.loads(raw) if raw else {})

    async def close(self) -> None:
        if self.dripping is not None:
            self.dripping.cancel()
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        webhook_secret=Secret("test-webhook-secret-0123456789"),
        twilio_auth_token=Secret("twilio-auth-token-0123456789abcdef"),
        max_upload_bytes=1024 * 1024,
        max_concurrent_uploads=2,
        max_uploads_per_peer=2,
        upload_grace_seconds=1.0,
        upload_min_rate_kibps=4,
    )


@pytest.fixture
def opened() -> list[Upload]:
    """Every socket a test opens (``serve`` closes them)."""
    return []


@pytest.fixture
async def serve(opened: list[Upload]) -> AsyncIterator[Serve]:
    """Start the app on a real port; at the end, hang up every client first (an aborted
    upload's connection lingers a while in aiohttp) and then stop the servers."""
    servers: list[TestServer] = []

    async def start(settings: Settings) -> TestServer:
        server = TestServer(create_app(settings, run_worker=False), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return server

    yield start
    for upload in opened:
        await upload.close()
    for server in servers:
        await server.close()


@pytest.fixture
async def server(limited: Settings, serve: Serve) -> TestServer:
    return await serve(limited)


def forged_headers() -> dict[str, str]:
    """What a stranger can send: a fresh timestamp and a well-formed signature of nothing."""
    return {**signed_headers(b""), "X-Callrec-Signature": "v1=" + "0" * 64}


async def exchange(
    server: TestServer, opened: list[Upload], body: bytes, *, source: str = STRANGER, **kw: Any
) -> Answer:
    """A whole signed upload sent at once."""
    headers = kw.pop("headers", None) or signed_headers(body)
    upload = await Upload.start(server, headers, len(body), source=source)
    opened.append(upload)
    await upload.send(body)
    return await upload.answer()


async def hold_slots(
    server: TestServer, opened: list[Upload], count: int, length: int, **headers: str
) -> list[Upload]:
    """``count`` strangers that send their headers and then drip their bodies."""
    holders = []
    for _ in range(count):
        upload = await Upload.start(server, {**forged_headers(), **headers}, length)
        opened.append(upload)
        upload.drip(b"-" * length)
        holders.append(upload)
    await asyncio.sleep(0.3)
    assert server.app[UPLOAD_SLOTS].in_use >= count
    return holders


async def test_dripping_strangers_cannot_keep_a_signed_upload_out(
    server: TestServer, opened: list[Upload]
) -> None:
    body = multipart(metadata(), AUDIO)
    strangers = await hold_slots(server, opened, 2, len(body))
    # the sender comes from another address, so only the pace can free a slot for it
    assert (await exchange(server, opened, body, source=NEIGHBOUR)).status == 503
    started = time.monotonic()
    while (answer := await exchange(server, opened, body, source=NEIGHBOUR)).status == 503:
        assert time.monotonic() - started < 8, "the signed upload never got a slot"
        await asyncio.sleep(0.1)
    assert answer.status == 202, answer.body
    for stranger in strangers:
        refused = await stranger.answer()
        assert (refused.status, refused.is_problem) == (408, True)
        assert "slower than 4 KiB/s" in refused.body["detail"]
    assert server.app[UPLOAD_SLOTS].in_use == 0


def _arabic_indic(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"X-Callrec-Signature": "v1=" + "AG" * 32}, "64 hex digits"),
        ({"X-Callrec-Signature": "v1=abcd"}, "64 hex digits"),
        ({"X-Callrec-Signature": "v1=" + "0" * 64 + ",v2=whatever"}, "64 hex digits"),
        ({"X-Callrec-Signature": ",".join(["v1=" + "0" * 64] * 5)}, "at most 4"),
        ({"X-Callrec-Signature": None}, "missing X-Callrec-Signature"),
        ({"X-Callrec-Timestamp": _arabic_indic(int(time.time()))}, "ASCII digits"),
        ({"X-Callrec-Timestamp": "17²"}, "ASCII digits"),
        ({"X-Callrec-Timestamp": str(int(time.time()) - 301)}, "300 s"),
    ],
)
async def test_bad_signature_headers_are_refused_before_the_body(
    server: TestServer, opened: list[Upload], change: dict[str, str | None], message: str
) -> None:
    body = multipart(metadata(), AUDIO)
    headers = {**signed_headers(body), "X-Callrec-Signature": "v1=" + "0" * 64}
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    upload = await Upload.start(server, headers, len(body))  # the body is never sent
    opened.append(upload)
    answer = await upload.answer(within=2)
    assert (answer.status, answer.is_problem) == (401, True), answer.body
    assert message in answer.body["detail"]
    assert server.app[UPLOAD_SLOTS].in_use == 0


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (None, "missing X-Twilio-Signature"),
        ("not base64!", "base64 HMAC-SHA1"),
        ("é" * 27 + "=", "base64 HMAC-SHA1"),
        ("A" * 40 + "=", "base64 HMAC-SHA1"),
    ],
)
async def test_bad_twilio_signature_headers_are_refused_before_the_form(
    server: TestServer, opened: list[Upload], signature: str | None, message: str
) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    upload = await Upload.start(server, headers, 500, path=TWILIO)  # the form is never sent
    opened.append(upload)
    answer = await upload.answer(within=2)
    assert (answer.status, answer.is_problem) == (401, True), answer.body
    assert message in answer.body["detail"]


async def test_a_dripping_twilio_callback_is_cut_at_its_deadline(
    limited: Settings, opened: list[Upload], serve: Serve
) -> None:
    """The form is small: it must arrive within the grace plus 16 KiB at the minimum rate."""
    server = await serve(dataclasses.replace(limited, upload_min_rate_kibps=64))  # 1.25 s
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": "A" * 27 + "=",
    }
    upload = await Upload.start(server, headers, 500, path=TWILIO)
    opened.append(upload)
    upload.drip(b"a" * 500)
    answer = await upload.answer(within=4)
    assert (answer.status, answer.is_problem) == (408, True), answer.body


async def test_one_peer_holds_only_its_share_of_the_slots(
    limited: Settings, opened: list[Upload], serve: Serve
) -> None:
    roomy = dataclasses.replace(
        limited, max_concurrent_uploads=3, max_uploads_per_peer=2, upload_grace_seconds=30
    )
    server = await serve(roomy)
    body = multipart(metadata(), AUDIO)
    strangers = await hold_slots(server, opened, 2, len(body))
    third = await exchange(server, opened, body)
    assert (third.status, third.is_problem) == (429, True), third.body
    assert third.headers["retry-after"] == "5"
    assert "CALLREC_MAX_UPLOADS_PER_PEER" in third.body["detail"]
    assert (await exchange(server, opened, body, source=NEIGHBOUR)).status == 202
    for stranger in strangers:
        await stranger.close()
    await asyncio.sleep(0.3)
    assert server.app[UPLOAD_SLOTS].in_use == 0  # a dropped connection gives its slot back


async def test_behind_a_trusted_proxy_each_forwarded_client_is_a_peer(
    limited: Settings, opened: list[Upload], serve: Serve
) -> None:
    proxied = dataclasses.replace(
        limited,
        max_concurrent_uploads=3,
        max_uploads_per_peer=1,
        upload_grace_seconds=30,
        trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),),
    )
    server = await serve(proxied)
    body = multipart(metadata(), AUDIO)
    await hold_slots(server, opened, 1, len(body), **{"X-Forwarded-For": "198.51.100.7"})
    spoofed = {**signed_headers(body), "X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
    assert (await exchange(server, opened, body, headers=spoofed)).status == 429
    other = {**signed_headers(body), "X-Forwarded-For": "198.51.100.8"}
    assert (await exchange(server, opened, body, headers=other)).status == 202
    # a peer that is not a trusted proxy counts as itself, whatever it forwards
    second = multipart(metadata(external_id="pbx-second"), AUDIO)
    untrusted = {**signed_headers(second), "X-Forwarded-For": "198.51.100.7"}
    answer = await exchange(server, opened, second, headers=untrusted, source=NEIGHBOUR)
    assert answer.status == 202
    # an IPv6 client counts as its /64: the next address in it is the same subscriber
    await hold_slots(server, opened, 1, len(body), **{"X-Forwarded-For": "2001:db8::1"})
    sibling = {**signed_headers(body), "X-Forwarded-For": "2001:db8::2"}
    assert (await exchange(server, opened, body, headers=sibling)).status == 429


@pytest.mark.parametrize("backend", ["fs", "s3"])
async def test_an_aborted_slow_upload_leaves_nothing_behind(
    limited: Settings,
    opened: list[Upload],
    serve: Serve,
    backend: str,
    s3_endpoint: tuple[str, str, str],
) -> None:
    server = await serve(on_s3(limited, s3_endpoint) if backend == "s3" else limited)
    body = multipart(metadata(), AUDIO)
    upload = await Upload.start(server, signed_headers(body), len(body))
    opened.append(upload)
    await upload.send(body[:1200])  # past the metadata: the audio is being sealed
    upload.drip(body[1200:])
    answer = await upload.answer()
    assert (answer.status, answer.is_problem) == (408, True), answer.body
    assert server.app[UPLOAD_SLOTS].in_use == 0
    pool = server.app[POOL]
    assert await pool.fetchval("SELECT count(*) FROM recordings") == 0
    assert await pool.fetchval("SELECT count(*) FROM sealed_objects") == 0
    assert [o async for o in server.app[STORE].list()] == []


async def test_a_sender_that_signed_lately_gets_a_slot_strangers_cannot_take(
    limited: Settings, serve: Serve, opened: list[Upload]
) -> None:
    """Strangers at the minimum rate from several addresses could hold every slot for hours;
    the quarter kept for proven senders lets the telephony system in at once."""
    server = await serve(dataclasses.replace(limited, max_concurrent_uploads=4))
    first = multipart(metadata(external_id="pbx-1"), AUDIO)
    assert (await exchange(server, opened, first, source=NEIGHBOUR)).status == 202
    forged = {**signed_headers(first), "X-Callrec-Signature": "v1=" + "0" * 64}
    refused = await exchange(server, opened, first, source="127.0.0.4", headers=forged)
    assert refused.status == 401  # a wrong signature proves nothing: .4 stays a stranger
    body = multipart(metadata(external_id="pbx-2"), AUDIO)
    await hold_slots(server, opened, 2, len(body))  # two from STRANGER, its share
    third = await Upload.start(server, forged_headers(), len(body), source="127.0.0.3")
    opened.append(third)
    third.drip(b"-" * len(body))
    await asyncio.sleep(0.3)
    assert (await exchange(server, opened, body, source="127.0.0.4")).status == 503
    assert (await exchange(server, opened, body, source=NEIGHBOUR)).status == 202
