"""Hostile input to every route answers 4xx problem+json, never 5xx (issue 15, defect 5).

The routes come from the app's router, so a new route is fuzzed without anyone listing it;
a new JSON route must add a valid body to :data:`BODIES` (a test says so) so that the bad
values also reach the database, where an unknown id or an out-of-range time used to fail.
Every example of the issue is in the corpus below.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from accounts.roles import ROLES
from accounts.users import create_user
from api.appkeys import POOL
from callrec.app import create_app
from common.settings import Settings
from recorder.signature import sign
from recorder.twilio import twilio_signature
from tests.api.sessions import PASSWORD, Client, add_role_users, bearer, token_for
from tests.recorder.helpers import BOUNDARY, SECRET, metadata, multipart
from tests.register.samples import maija
from tests.staff import call_audio, ingest

UNKNOWN_ID: Final = "00000000-0000-4000-8000-00000000dead"
YEAR_ONE_EAST: Final = "0001-01-01T00:00:00+14:00"  # a year-0 instant in UTC
YEAR_MAX_WEST: Final = "9999-12-31T23:59:59-14:00"  # a year-10000 instant in UTC
FAR_FUTURE: Final = "9999-12-30T00:00:00+00:00"  # holdable, but not as a receipt or a call
BEFORE_2000: Final = "1999-12-31T23:59:59+00:00"
DIGITS: Final = "9" * 5000
SUPERSCRIPT_TWO: Final = "\u00b2"  # str.isdigit() says yes, int() says no
TWO_PORTS: Final = "http://127.0.0.1:80:81/call.wav"
TWILIO_TOKEN: Final = "test-twilio-token"
ACCOUNT: Final = "AC" + "1" * 32
CALLBACK: Final = "/v1/webhooks/twilio/recording-status"
ENDING: Final = {("POST", "/v1/auth/logout"), ("DELETE", "/v1/auth/session")}
SIGNED: Final = {("POST", "/v1/recordings"), ("GET", "/v1/recordings/{id}/status")}
NOW: Final = "2026-11-20T10:00:00+02:00"


def cursor(key: object) -> str:
    """A cursor as a client could forge one: base64url of any JSON."""
    raw = key if isinstance(key, bytes) else json.dumps(key).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Values put in place of every leaf of a valid JSON body (and, as text, of form fields).
LEAVES: Final[list[Any]] = [
    "nul\x00here",
    "lone \ud800 surrogate",
    YEAR_ONE_EAST,
    YEAR_MAX_WEST,
    FAR_FUTURE,
    BEFORE_2000,
    "0001-01-01",
    "9999-12-31",
    UNKNOWN_ID,
    DIGITS,
    SUPERSCRIPT_TWO,
    TWO_PORTS,
    0.0001,  # rounds to 0 at the millisecond
    10**30,
    -1,
    1e308,
    None,
    True,
    [],
    {},
]
TEXT_LEAVES: Final = [v for v in LEAVES if isinstance(v, str)] + ["0.0001", "-1", ""]

ODD_CURSORS: Final = [
    cursor([]),
    cursor([None, None]),
    cursor([{"a": 1}, [2]]),
    cursor([10**30]),
    cursor([10**30, UNKNOWN_ID]),
    cursor(["abc"]),
    cursor([YEAR_ONE_EAST, UNKNOWN_ID]),
    cursor([YEAR_MAX_WEST, UNKNOWN_ID]),
    cursor(["x", "y"]),
    cursor([1.5, True]),
    cursor(["nul\x00", "\ud800"]),
    cursor({"a": "b"}),
    cursor(b"[" * 5000),
    cursor(b"\xff\xfe"),
    cursor(b"9" * 5000),
    cursor(b"NaN"),
    "!!!",
    "\u00e9",
    "A" * 5000,
]

# Query parameters with the values that broke them, plus the text every one must survive.
QUERY_VALUES: Final = {
    "limit": [SUPERSCRIPT_TWO, DIGITS, "-1", "0", "1e3", "\u0661"],
    "cursor": ODD_CURSORS,
    "from": [YEAR_ONE_EAST, YEAR_MAX_WEST, "9" * 100, "2026-13-45T99:00:00Z"],
    "to": [YEAR_ONE_EAST, YEAR_MAX_WEST],
    "customer_id": [UNKNOWN_ID, DIGITS],
    "after": ["\uffff"],
    "purpose": [SUPERSCRIPT_TWO],
    "status": [DIGITS],
    "include_released": [SUPERSCRIPT_TWO],
    "unlinked": [SUPERSCRIPT_TWO],
    "answered_by": [DIGITS],
    "object_id": [DIGITS],
}
# NUL, a lone surrogate, bytes that are not UTF-8: refused whatever the name (one check in
# the middleware), so a known name and an unknown one stand for all.
ANY_QUERY_VALUES: Final = {
    name: ["%00", "%ED%A0%80", "%FF", "%C0%80"] for name in ("cursor", "unknown", "%00")
}
PATH_VALUES: Final = ["%00", "%ED%A0%80", "%FF", DIGITS, "%C2%B2", UNKNOWN_ID]

# Raw header lines every route must survive (sent byte for byte: a client would encode them).
HEADERS: Final[list[bytes]] = [
    b"Authorization: Bearer tok\xffen",
    b"Authorization: Bearer \xc3\xa9t\xc3\xa9",
    b"Cookie: callrec_session=\xff\xfe",
    b"X-CSRF-Token: \xff",
    b"Range: bytes=0-" + DIGITS.encode(),
    b"Range: bytes=-" + DIGITS.encode(),
    b"Range: bytes=" + DIGITS.encode() + b"-",
    b"Range: bytes=\xc2\xb2-",
    b"X-Request-Id: " + b"\xff" * 12,
    b"X-Twilio-Signature: \xff\xfe",
    b"X-Callrec-Timestamp: \xc2\xb2",
    b"X-Callrec-Timestamp: 17\xc2\xb2",
    b"X-Callrec-Signature: v1=\xff",
    b"X-Forwarded-Proto: \xff",
    b"Accept: \xff",
    b"Content-Type: application/json; charset=\xff",
    b"Content-Type: multipart/form-data; boundary=" + b"x" * 5000,
]

# Whole bodies every route that takes one must survive.
RAW_BODIES: Final[list[bytes]] = [
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b'{"nul\\u0000key": 1}',
    b'{"a": "\\ud800"}',
    b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8: not UTF-8
    b'{"a": "\xff"}',
    b'{"a": ' + DIGITS.encode() + b"}",
    b'{"a": NaN}',
    b'{"a": 1e999}',
    b"[]",
    b"null",
    b"",
    b"{",
]

# Protocol-level garbage: aiohttp answers these itself, below the middleware.
PROTOCOL: Final[list[bytes]] = [
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20000 + b"\r\n\r\n",
    b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
    b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
    b"G\x00T /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
]


@dataclasses.dataclass
class World:
    """Ids of real objects, so that requests get past "not found" to the database."""

    user: str = ""
    customer: str = ""
    guardian: str = ""
    recording: str = ""
    lease: str = ""
    link: str = ""
    change: str = ""
    hold: str = ""
    subject_request: str = ""
    collection: str = ""
    counter: int = 0

    def unique(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"


def path_ids(w: World, template: str) -> dict[str, str]:
    """A real id for each path parameter of ``template``."""
    first = {
        "/v1/users/": w.user,
        "/v1/recordings/": w.recording,
        "/v1/customers/": w.customer,
        "/v1/leases/": w.lease,
        "/v1/legal-holds/": w.hold,
        "/v1/subject-requests/": w.subject_request,
        "/v1/training/collections/": w.collection,
        "/v1/exports/": "not-a-token",
        "/v1/auth/sessions/": UNKNOWN_ID,
        "/console/": "app.js",
    }
    ids = {}
    for name in re.findall(r"\{([^}]+)\}", template):
        if name == "change_id":
            ids[name] = w.change
        elif name == "link_id":
            ids[name] = w.link
        elif name == "recording_id":
            ids[name] = w.recording
        else:
            ids[name] = next(v for k, v in first.items() if template.startswith(k))
    return ids


def fill(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: ids[m.group(1)], template)


def body_for(w: World, method: str, template: str) -> dict[str, Any] | None:
    """A valid JSON body for each route that takes one (None: the route takes none)."""
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/v1/auth/login"): {"username": "victim", "password": PASSWORD},
        ("POST", "/v1/auth/session"): {"username": "victim", "password": PASSWORD},
        ("POST", "/v1/auth/password"): {"current": "not the password!", "new": PASSWORD + "!"},
        ("POST", "/v1/auth/login/totp"): {"challenge": "not-a-challenge", "code": "123456"},
        ("POST", "/v1/auth/totp/confirm"): {"code": "123456"},
        ("POST", "/v1/setup"): {"token": "not-a-token", "username": "first", "password": PASSWORD},
        ("POST", "/v1/users"): {
            "username": w.unique("user"),
            "password": PASSWORD,
            "roles": ["trainer"],
            "display_name": "New Person",
            "extension": "2001",
        },
        ("PATCH", "/v1/users/{id}"): {"roles": ["trainer"], "disabled": False},
        ("POST", "/v1/recordings"): metadata(
            external_id=w.unique("pbx"),
            customer_id=w.customer,
            audio_url="http://127.0.0.1:9/call.wav",
        ),
        ("POST", "/v1/recordings/search"): {
            "caller_number": "+358401234567",
            "customer_id": w.customer,
            "answered_by": "maija.m",
            "text": "kiitoksia vuokrasopimuksen",
            "unlinked": False,
            "from": "2026-01-01T00:00:00Z",
            "to": NOW,
            "limit": 5,
            "cursor": None,
        },
        ("POST", "/v1/recordings/{id}/customer"): {"customer_id": w.customer},
        ("POST", "/v1/recordings/{id}/training-release"): {"released": False, "reason": "ok"},
        ("POST", "/v1/recordings/{id}/redactions"): {
            "start_seconds": 0,
            "end_seconds": 1,
            "channel": "both",
            "reason": "a neighbour's name",
        },
        ("PUT", "/v1/subject-requests/{id}/recordings/{recording_id}/export"): {
            "export": "original",
            "reason": "nothing of others in it",
        },
        ("POST", "/v1/recordings/{id}/annotations"): {"at_seconds": 1.5, "text": "good opening"},
        ("POST", "/v1/training/collections"): {"name": w.unique("course")},
        ("POST", "/v1/training/collections/{id}/items"): {"recording_id": w.recording},
        ("POST", "/v1/customers"): maija(
            customer_number=w.unique("B"),
            henkilotunnus=None,
            relationship_start="2020-01-01",
            turvakielto_start="2021-01-01",
        ),
        ("POST", "/v1/customers/search"): {"q": "Mäki", "limit": 5},
        ("PATCH", "/v1/customers/{id}"): {
            "first_name": "Maija",
            "relationship_start": "2020-01-01",
            "assigned_advisor": "housing-advisor",
        },
        ("POST", "/v1/customers/{id}/contacts"): {
            "channel": "phone",
            "direction": "inbound",
            "topic": "rent",
            "note": "called about rent",
            "at": NOW,
            "recording_id": w.recording,
        },
        ("POST", "/v1/customers/{id}/disclosures"): {
            "recipient": "Perintä Oy",
            "recipient_kind": "debt_collection",
            "legal_basis": "lease agreement",
            "data_disclosed": "name",
            "at": NOW,
        },
        ("POST", "/v1/customers/{id}/marketing"): {
            "kind": "surveys",
            "allowed": False,
            "given_via": "phone",
            "at": NOW,
        },
        ("POST", "/v1/leases"): {
            "lease_number": w.unique("V"),
            "property": "Toinen linja 14",
            "apartment": "B 12",
            "start_date": "2024-03-01",
            "end_date": "2030-03-01",
            "parties": [
                {"customer_id": w.customer, "role": "tenant"},
                {"customer_id": w.guardian, "role": "co_tenant"},
            ],
            "household": [{"name": "Aino", "birth_date": "2015-04-01"}],
        },
        ("PATCH", "/v1/leases/{id}"): {"end_date": "2030-01-01", "terminated_on": "2029-10-01"},
        ("POST", "/v1/customers/{id}/guardianships"): {
            "guardian_id": w.guardian,
            "kind": "edunvalvonta",
            "start_date": "2025-01-01",
            "end_date": "2030-01-01",
        },
        ("PATCH", "/v1/customers/{id}/guardianships/{link_id}"): {"end_date": "2031-01-01"},
        ("POST", "/v1/legal-holds"): {"reason": "court case", "customer_id": w.customer},
        ("DELETE", "/v1/legal-holds/{id}"): {"reason": "case closed"},
        ("POST", "/v1/subject-requests"): {
            "kind": "access",
            "subject": {"customer_id": w.customer},
            "channel": "phone",
            "received_at": NOW,
        },
        ("POST", "/v1/subject-requests/{id}/verify"): {"method": "passport"},
        ("POST", "/v1/subject-requests/{id}/deny"): {"reason": "unfounded"},
        ("POST", "/v1/subject-requests/{id}/extend"): {
            "until": "2027-01-10T00:00:00+00:00",
            "reason": "many recordings",
        },
    }
    return bodies.get((method, template))


def leaf_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, dict):
        for key, member in value.items():
            yield from leaf_paths(member, (*path, key))
    elif isinstance(value, list) and value:
        for index, member in enumerate(value):
            yield from leaf_paths(member, (*path, index))
    else:
        yield path


def replaced(value: Any, path: tuple[str | int, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)  # type: ignore[index]
    return copy


@dataclasses.dataclass
class Answer:
    status: int
    content_type: str


class Prober:
    """Sends requests byte for byte and notes every answer that breaks the rule."""

    def __init__(self, client: Client, token: str) -> None:
        self.client, self.token = client, token
        self.failures: list[str] = []
        self.sent = 0
        self.statuses: dict[int, int] = {}

    async def raw(self, request: bytes, what: str) -> None:
        """One request on its own connection; the answer is read up to the status line and
        the headers (a server may close after a protocol error)."""
        assert self.client.server.port is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", self.client.server.port)
        try:
            writer.write(request)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self.failures.append(f"{what}: connection dropped ({type(exc).__name__})")
            return
        finally:
            writer.close()
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        content_type = next(
            (
                line.split(":", 1)[1].strip()
                for line in lines
                if line.lower().startswith("content-type:")
            ),
            "",
        )
        self.note(Answer(status, content_type), what)

    async def send(
        self,
        method: str,
        target: str,
        *,
        headers: list[bytes] | None = None,
        body: bytes | None = None,
        content_type: bytes = b"application/json",
        authenticated: bool = True,
        what: str = "",
    ) -> None:
        headers = headers or []
        target = quote(target, safe="/?=&%:,;", errors="surrogatepass")
        lines = [f"{method} {target} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
        if authenticated and not any(h.lower().startswith(b"authorization") for h in headers):
            lines.append(f"Authorization: Bearer {self.token}".encode())
        if body is not None:
            lines.append(b"Content-Length: " + str(len(body)).encode())
            if not any(h.lower().startswith(b"content-type") for h in headers):
                lines.append(b"Content-Type: " + content_type)
        lines.extend(headers)
        request = b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
        shown = [h[:60] for h in headers if not h.startswith(b"X-Callrec-")]
        await self.raw(request, what or f"{method} {target[:100]} {shown} {(body or b'')[:80]!r}")

    def note(self, answer: Answer, what: str) -> None:
        self.sent += 1
        self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1
        if answer.status >= 500:
            self.failures.append(f"{what} -> {answer.status}")
        elif answer.status >= 400 and answer.content_type != "application/problem+json":
            self.failures.append(f"{what} -> {answer.status} as {answer.content_type!r}")


def signed(body: bytes) -> list[bytes]:
    """Webhook signature headers over ``body``."""
    timestamp = int(time.time())
    return [
        f"X-Callrec-Timestamp: {timestamp}".encode(),
        f"X-Callrec-Signature: {sign(SECRET.encode(), timestamp, body)}".encode(),
    ]


@pytest.fixture
async def api(staff_settings: Settings) -> AsyncIterator[Client]:
    """The staff app (webhook and Twilio on), with no cookie jar: each request stands alone."""
    settings = dataclasses.replace(staff_settings, fetch_allowed_hosts=("127.0.0.1",))
    server = TestServer(create_app(settings, run_worker=False), host="127.0.0.1")
    async with TestClient(server, cookie_jar=aiohttp.DummyCookieJar()) as client:
        await add_role_users(client)
        yield client


async def build_world(api: Client, token: str, audio: bytes) -> World:
    headers = bearer(token)
    w = World()
    pool = api.app[POOL]
    w.user = str(await pool.fetchval("SELECT id FROM users WHERE username = 'trainer'"))
    await create_user(pool, "victim", PASSWORD, ["trainer"])

    async def post(url: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
        response = await api.request(method, url, json=body, headers=headers)
        assert response.status in (200, 201), (url, await response.text())
        return dict(await response.json())

    w.customer = (await post("/v1/customers", maija()))["id"]
    w.guardian = (
        await post(
            "/v1/customers",
            maija(customer_number="A-2", first_name="Pekka", henkilotunnus="010195+433X"),
        )
    )["id"]
    # A ready recording, so that playback gets as far as the Range header.
    w.recording = await ingest(api, audio, external_id="pbx-world")
    await post(f"/v1/customers/{w.customer}", {"first_name": "Maija-Liisa"}, "PATCH")
    history = await (await api.get(f"/v1/customers/{w.customer}/history", headers=headers)).json()
    w.change = history["items"][0]["id"]
    lease = body_for(w, "POST", "/v1/leases")
    assert lease is not None
    w.lease = (await post("/v1/leases", lease))["id"]
    w.link = (
        await post(
            f"/v1/customers/{w.customer}/guardianships",
            {"guardian_id": w.guardian, "kind": "edunvalvonta", "start_date": "2025-01-01"},
        )
    )["id"]
    w.hold = (await post("/v1/legal-holds", {"reason": "court", "customer_id": w.customer}))["id"]
    subject = {"kind": "access", "subject": {"customer_id": w.customer}, "channel": "phone"}
    w.subject_request = (await post("/v1/subject-requests", subject))["id"]
    w.collection = (await post("/v1/training/collections", {"name": "rent arrears"}))["id"]
    return w


def routes(api: Client) -> list[tuple[str, str]]:
    """Every (method, template) of the app, the session-ending ones last."""
    found = {
        (route.method, route.resource.canonical)
        for route in api.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    return sorted(found, key=lambda r: (r in ENDING, r))


async def probe_route(p: Prober, w: World, method: str, template: str) -> None:
    """The whole corpus against one route."""
    ids = path_ids(w, template)
    url = fill(template, ids)
    if template.endswith(("/audio", "/download")):
        url += "?purpose=subject_request"  # so that the Range header is reached
    sign_it = (method, template) in SIGNED

    base = body_for(w, method, template)
    valid = None if base is None else json.dumps(base).encode()

    async def send(target: str, body: bytes | None = valid, **kw: Any) -> None:
        extra = signed(body or b"") if sign_it else []
        await p.send(method, target, body=body, headers=[*extra, *kw.pop("headers", [])], **kw)

    for name in ids:
        for value in PATH_VALUES:
            await send(fill(template, ids | {name: value}))
    join = "&" if "?" in url else "?"
    for name, values in [*QUERY_VALUES.items(), *ANY_QUERY_VALUES.items()]:
        for value in values:
            await send(f"{url}{join}{name}={quote(value, safe='%', errors='surrogatepass')}")
    for header in HEADERS:
        await send(url, headers=[header], authenticated=not header.startswith(b"Authorization"))
    if method in ("GET", "HEAD"):
        return
    for raw in RAW_BODIES:
        await send(url, raw)
        await send(url, raw, authenticated=False)
    if base is None:
        return
    for path in leaf_paths(base):
        for value in LEAVES:
            # A fresh body each time: new unique names, so no request is a mere duplicate.
            body = json.dumps(replaced(body_for(w, method, template), path, value)).encode()
            what = f"{method} {url} with {'.'.join(map(str, path))}={str(value)[:40]!r}"
            await send(url, body, what=what)
            if (method, template) == ("POST", "/v1/recordings"):
                part = multipart(body, b"RIFF not really audio")
                content_type = f"multipart/form-data; boundary={BOUNDARY}".encode()
                await send(url, part, content_type=content_type, what=f"{what} (multipart)")


async def probe_twilio(p: Prober) -> None:
    """Twilio's signed form callback, each field and query parameter made bad in turn."""
    form = {
        "AccountSid": ACCOUNT,
        "RecordingSid": "RE" + "2" * 32,
        "RecordingUrl": "http://127.0.0.1:9/rec.wav",
        "RecordingStatus": "completed",
        "RecordingDuration": "2",
        "RecordingChannels": "2",
        "RecordingStartTime": "Mon, 23 Nov 2026 08:15:00 +0000",
    }
    query = {"answered_by": "maija.m", "caller_number": "+358401234567", "notice_played": "true"}
    dates = ["Mon, 1 Jan 0001 00:00:00 +1400", "Mon, 1 Jan 99999999999999999999 00:00:00 +0000"]
    dates += ["Mon, 23 Nov 2026 08:15:00 +9999", "Fri, 31 Dec 9999 23:59:59 -1400"]
    cases = [(f, v, True) for f in form for v in TEXT_LEAVES]
    cases += [("RecordingStartTime", v, True) for v in dates]
    cases += [(q, v, False) for q in query for v in TEXT_LEAVES]
    for name, value, in_form in cases:
        fields = form | {name: value} if in_form else form
        params = query if in_form else query | {name: value}
        qs = "&".join(f"{k}={quote(v, safe='', errors='surrogatepass')}" for k, v in params.items())
        target = f"{CALLBACK}?{qs}"
        try:
            url = str(p.client.make_url(target))
            signature = twilio_signature(TWILIO_TOKEN, url, fields)
        except UnicodeEncodeError:
            signature = "x"
        body = "&".join(
            f"{k}={quote(v, safe='', errors='surrogatepass')}" for k, v in fields.items()
        ).encode()
        await p.send(
            "POST",
            target,
            body=body,
            content_type=b"application/x-www-form-urlencoded",
            headers=[f"X-Twilio-Signature: {signature}".encode()],
            authenticated=False,
            what=f"twilio {name}={value[:40]!r}",
        )


def test_every_json_route_has_a_valid_body_in_the_corpus() -> None:
    """So that a new route's bad values are also tried past validation, on the database."""
    from api.openapi import document

    w = World(*(UNKNOWN_ID,) * 9)
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                assert body_for(w, method.upper(), path) is not None, (method, path)


async def test_no_route_answers_5xx_to_hostile_input(api: Client, audio_dir: Path) -> None:
    await create_user(api.app[POOL], "prober", PASSWORD, list(ROLES))
    token = await token_for(api, "prober")
    world = await build_world(api, token, call_audio(audio_dir, 3.0))
    prober = Prober(api, token)
    for method, template in routes(api):
        await probe_route(prober, world, method, template)
    await probe_twilio(prober)
    for request in PROTOCOL:
        await prober.raw(request, f"protocol {request[:40]!r}")
    assert prober.failures == [], f"{len(prober.failures)} of {prober.sent}: {prober.failures[:40]}"
    assert prober.sent > 5000  # it really ran
    assert sum(n for status, n in prober.statuses.items() if status < 300) > 100


async def test_aiohttp_protocol_errors_are_problem_json_too(
    api: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Malformed HTTP never reaches the middleware: aiohttp answers it itself (and its log
    line would quote the request, so only the kind of error is logged)."""
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    for request, words in [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20000 + b"\r\n\r\n", "too long"),
        (b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n", "not valid"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nCaller: +358401234567\x01\r\n\r\n", "not valid"),
    ]:
        reader, writer = await asyncio.open_connection("127.0.0.1", api.server.port)
        writer.write(request)
        answer = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0].split()[1] == b"400"
        assert b"Content-Type: application/problem+json" in head
        problem = json.loads(body)
        assert problem["status"] == 400
        assert words in problem["detail"]
        assert "aaaa" not in problem["detail"]
    assert "358401234567" not in caplog.text
