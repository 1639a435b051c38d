"""The OpenAPI 3.1 description, generated from the router and served at ``GET /v1/openapi.json``.

Each operation comes from its route: the method and path template, the permission the
handler declares (and so the roles holding it, from :mod:`accounts.roles`), the handler's
docstring and its request model's JSON schema. What the code cannot say (answer shapes,
query parameters, the webhook's headers and multipart body, Range) is kept below as small
per-route extras. A route missing here is impossible; a role text that differs from the code
likewise.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any, Final

from aiohttp import web
from pydantic.json_schema import models_json_schema

from accounts.roles import ALL_PURPOSES, ROLE_PERMISSIONS, ROLES
from api.bodies import model_of
from api.permissions import AnyUser, Public, public, requirement_of
from api.transcript_state import STATES
from common.models import Body
from compliance.organisation import REGISTERS
from register.validation import LANGUAGES
from transcripts.document import CHANNELS

JSON: Final = "application/json"
PROBLEM: Final = "application/problem+json"
Schema = dict[str, Any]
REF: Final = "#/components/schemas/{model}"
_ROUTE_PREFIX: Final = re.compile(r"^``[A-Z]+ [^`]*``(\s*\([^)]*\))?[:;,]?\s*")


def _ref(name: str) -> Schema:
    return {"$ref": REF.format(model=name)}


def _json(schema: Schema) -> Schema:
    return {"content": {JSON: {"schema": schema}}}


def _object(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


STRING: Final[Schema] = {"type": "string"}
UUID: Final[Schema] = {"type": "string", "format": "uuid"}
TIME: Final[Schema] = {"type": "string", "format": "date-time"}
DATE: Final[Schema] = {"type": "string", "format": "date"}
NULLABLE_UUID: Final[Schema] = {"type": ["string", "null"], "format": "uuid"}
NULLABLE_STRING: Final[Schema] = {"type": ["string", "null"]}
SECONDS: Final[Schema] = {"type": "number", "description": "seconds from the call's start"}
CHANNEL: Final[Schema] = {"enum": list(CHANNELS)}
NOT_IDS: Final = {"token": STRING, "name": STRING}  # path parameters that are no UUID
PAGING: Final = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    {"name": "cursor", "in": "query", "schema": STRING, "description": "`next` of the last page"},
]
RANGE: Final[Schema] = {"name": "Range", "in": "header", "schema": STRING}
PURPOSE_PARAM: Final[Schema] = {
    "name": "purpose",
    "in": "query",
    "required": True,
    "schema": {"type": "string", "enum": list(ALL_PURPOSES)},
    "description": "Why you play the recording; must belong to your role's task.",
}
SIGNATURE_HEADERS: Final = [
    {
        "name": "X-Callrec-Timestamp",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
        "description": "unix seconds in ASCII digits, at most 300 s off the server clock",
    },
    {
        "name": "X-Callrec-Signature",
        "in": "header",
        "required": True,
        "schema": {
            "type": "string",
            "pattern": "^v1=[0-9a-fA-F]{64}( *, *v1=[0-9a-fA-F]{64}){0,3}$",
        },
        "description": 'v1=<64 hex digits: HMAC-SHA256(secret, "<timestamp>." + raw body)>; '
        "up to 4, comma-separated, while a secret is rotated",
    },
]
PROBLEMS: Final[Schema] = {
    "description": "what to fix, as RFC 9457 problem details",
    "content": {PROBLEM: {"schema": _ref("Problem")}},
}
UNAVAILABLE: Final[Schema] = {
    "description": "the database or the object store is unavailable (database-unavailable,"
    " storage-unavailable), or the service is busy: retry after Retry-After seconds",
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    "content": {PROBLEM: {"schema": _ref("Problem")}},
}
INTEGRITY_ERROR: Final[Schema] = {
    "description": "integrity-error: the stored file failed its check; nothing was sent "
    "and the attempt is audited as failed (past the first 64 KiB: the connection is cut)",
    "content": {PROBLEM: {"schema": _ref("Problem")}},
}


def _page(item: str) -> Schema:
    return _object(
        ["items", "next"], items={"type": "array", "items": _ref(item)}, next=NULLABLE_STRING
    )


def _ranged(what: str, media: str, refusals: str) -> Schema:
    """The answers of a sealed object served with HTTP Range."""
    binary = {"content": {media: {"schema": {"type": "string", "format": "binary"}}}}
    return {
        "200": {"description": f"the whole {what}", **binary},
        "206": {"description": "the asked range", **binary},
        "4XX": {**PROBLEMS, "description": f"what to fix ({refusals})"},
        "502": INTEGRITY_ERROR,
    }


def _transcript_read(ok: Schema) -> Schema:
    """The answers of a route that opens sealed transcripts."""
    return {
        "200": {"description": "success", **_json(ok)},
        "4XX": PROBLEMS,
        "502": INTEGRITY_ERROR,
        "503": {
            **UNAVAILABLE,
            "description": UNAVAILABLE["description"]
            + "; transcripts-unavailable: this node's keyring holds recipients only",
        },
    }


_METADATA: Final = _object(
    ["external_id", "started_at", "duration_seconds", "answered_by", "direction"],
    external_id=STRING,
    started_at=TIME,
    duration_seconds={"type": "number"},
    answered_by=STRING,
    caller_number=NULLABLE_STRING,
    direction={"enum": ["inbound", "outbound"]},
    service_line=NULLABLE_STRING,
    channel_layout={"enum": ["mono", "agent-left", "agent-right"]},
    notice_played={"type": "boolean"},
    customer_id=NULLABLE_UUID,
    audio_url=STRING,
)
# An account with two-factor sign-in gets this instead of a session: finish the login with
# POST /v1/auth/login/totp.
_SECOND_FACTOR: Final = _object(
    ["second_factor", "challenge"], second_factor={"enum": ["totp"]}, challenge=STRING
)
_REGISTER_READ_NOTE: Final = "housing_advisor: assigned customers only"
_LOGS: Final = ("contacts", "disclosures", "marketing")
_RECORDING_FILTERS: Final = [
    {"name": "customer_id", "in": "query", "schema": UUID},
    {"name": "answered_by", "in": "query", "schema": STRING},
    {"name": "unlinked", "in": "query", "schema": {"enum": ["true", "false"]}},
    {"name": "from", "in": "query", "schema": TIME},
    {"name": "to", "in": "query", "schema": TIME},
    *PAGING,
]

# What the code does not declare, per route. Keys: ``status`` (of success), ``ok`` (its
# JSON schema), ``params`` (query and header parameters), ``body`` (a request body that has
# no model: the webhook's, Twilio's, and the parsers not yet converted), ``responses``
# (replacing the standard ones), ``note`` (said after the roles; may name only those roles).
_EVIDENCE: Final = (
    "generated_at", "subject_requests", "retention", "audit_chain", "keys", "calls",
    "scheduled_jobs",
)  # fmt: skip
EXTRAS: Final[dict[tuple[str, str], Schema]] = {
    ("GET", "/v1/openapi.json"): {"ok": {"type": "object"}},
    ("POST", "/v1/recordings"): {
        "status": "202",
        "ok": _object(["id", "status"], id=UUID, status=STRING),
        "params": SIGNATURE_HEADERS,
        "body": {
            "content": {
                "multipart/form-data": {
                    "schema": _object(
                        ["metadata", "audio"],
                        metadata=STRING,
                        audio={"type": "string", "format": "binary"},
                    )
                },
                JSON: {"schema": _METADATA},
            }
        },
    },
    ("GET", "/v1/recordings/{id}/status"): {
        "ok": _object(["id", "status"], id=UUID, status=STRING, error=NULLABLE_STRING),
        "params": SIGNATURE_HEADERS,
    },
    ("POST", "/v1/webhooks/twilio/recording-status"): {
        "status": "202",
        "params": [
            {
                "name": "X-Twilio-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9+/]{27}=$"},
            }
        ],
        "body": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": _object(
                        ["RecordingSid", "RecordingUrl"],
                        RecordingSid=STRING,
                        RecordingUrl=STRING,
                        RecordingDuration=STRING,
                        CallSid=STRING,
                    )
                }
            }
        },
    },
    ("POST", "/v1/auth/login"): {
        "ok": {
            "oneOf": [
                _object(["token", "expires_at"], token=STRING, expires_at=TIME),
                _SECOND_FACTOR,
            ]
        },
    },
    ("POST", "/v1/auth/session"): {
        "ok": {
            "oneOf": [
                _object(["expires_at", "csrf_token"], expires_at=TIME, csrf_token=STRING),
                _SECOND_FACTOR,
            ]
        },
        "note": "send the returned csrf_token as X-CSRF-Token with every state-changing request",
    },
    ("GET", "/v1/auth/oidc"): {
        "ok": _object(
            ["enabled"],
            enabled={"type": "boolean"},
            name=STRING,
            login_url=STRING,
            local_passwords={"type": "boolean"},
        ),
    },
    ("GET", "/v1/auth/oidc/login"): {
        "status": "302",
        "note": "a browser navigation: Location is the identity provider; 404 when single "
        "sign-on is not configured",
    },
    ("GET", "/v1/auth/oidc/callback"): {
        "status": "302",
        "params": [
            {"name": name, "in": "query", "schema": STRING}
            for name in ("code", "state", "iss", "error")
        ],
        "note": "the provider's redirect back: sets the session cookie and redirects to /; a "
        "browser (Accept: text/html) that fails goes to /#/sso/<problem type>",
    },
    ("POST", "/v1/auth/login/totp"): {
        "note": "answers as the first step would have: a bearer token after /v1/auth/login, "
        "the cookie and csrf_token after /v1/auth/session; the challenge lasts 5 minutes and "
        "one attempt",
    },
    ("POST", "/v1/auth/totp"): {
        "ok": _object(
            ["secret", "otpauth_uri", "qr_svg"], secret=STRING, otpauth_uri=STRING, qr_svg=STRING
        ),
        "note": "open to a session that must enrol first; 409 when already enrolled",
    },
    ("POST", "/v1/auth/totp/confirm"): {
        "ok": _object(["recovery_codes"], recovery_codes={"type": "array", "items": STRING}),
        "note": "the ten recovery codes are shown this once; 409 without a started enrolment",
    },
    ("GET", "/v1/auth/me"): {
        "ok": _object(
            ["id", "username", "roles", "permissions", "csrf_token"],
            id=UUID,
            username=STRING,
            roles={"type": "array", "items": STRING},
            permissions={"type": "array", "items": STRING},
            csrf_token=STRING,
            second_factor={"type": "string", "enum": ["enrolled", "required", "optional"]},
        ),
    },
    ("GET", "/v1/users"): {
        "params": [{"name": "after", "in": "query", "schema": STRING}, PAGING[0]]
    },
    ("POST", "/v1/users"): {"status": "201"},
    ("DELETE", "/v1/users/{id}/totp"): {
        "ok": _object(["status"], status=STRING),
        "note": "404 when the account has no two-factor sign-in",
    },
    ("GET", "/v1/recordings"): {
        "ok": _page("RecordingSummary"),
        "params": _RECORDING_FILTERS,
        "note": "trainer: released calls only, time filters only",
    },
    ("POST", "/v1/recordings/search"): {"responses": _transcript_read(_page("RecordingSummary"))},
    ("GET", "/v1/recordings/notice-missing"): {"params": PAGING},
    ("GET", "/v1/recordings/{id}"): {"note": "trainer: released calls only, masked"},
    ("GET", "/v1/recordings/{id}/waveform"): {"note": "trainer: released calls only"},
    ("GET", "/v1/recordings/{id}/audio"): {
        "params": [PURPOSE_PARAM, RANGE],
        "responses": _ranged("recording", "audio/ogg", "416: the range starts past the end"),
        "note": "customer_service plays to verify_content, trainer for training (released "
        "calls only), dpo for subject_request and legal",
    },
    ("GET", "/v1/recordings/{id}/transcript"): {
        "responses": _transcript_read(_ref("Transcript")),
        "params": [PURPOSE_PARAM],
        "note": "purposes as for playback: customer_service to verify_content, trainer for "
        "training (released calls only, redaction spans as [redacted]; 409 while the redacted "
        "rendition is pending), dpo for subject_request and legal",
    },
    ("GET", "/v1/recordings/{id}/download"): {
        "params": [PURPOSE_PARAM, RANGE],
        "responses": _ranged("recording", "audio/ogg", "416: the range starts past the end"),
    },
    ("GET", "/v1/customers"): {
        "params": PAGING,
        "note": "housing_advisor: their own customers only",
    },
    ("POST", "/v1/customers"): {"status": "201"},
    ("POST", "/v1/customers/search"): {"note": "housing_advisor: not by henkilötunnus"},
    ("GET", "/v1/customers/{id}"): {"note": _REGISTER_READ_NOTE},
    ("GET", "/v1/customers/{id}/history"): {"note": f"{_REGISTER_READ_NOTE}, no identity codes"},
    **{
        ("GET", f"/v1/customers/{{id}}/{log}"): {"params": PAGING, "note": _REGISTER_READ_NOTE}
        for log in _LOGS
    },
    **{("POST", f"/v1/customers/{{id}}/{log}"): {"status": "201"} for log in _LOGS},
    ("POST", "/v1/leases"): {"status": "201"},
    ("GET", "/v1/customers/{id}/leases"): {"note": _REGISTER_READ_NOTE},
    ("GET", "/v1/customers/{id}/guardianships"): {"note": _REGISTER_READ_NOTE},
    ("POST", "/v1/customers/{id}/guardianships"): {"status": "201"},
    ("POST", "/v1/legal-holds"): {"status": "201"},
    ("GET", "/v1/legal-holds"): {
        "params": [
            {"name": "include_released", "in": "query", "schema": {"enum": ["true", "false"]}},
            *PAGING,
        ],
    },
    ("POST", "/v1/subject-requests"): {"status": "201"},
    ("GET", "/v1/subject-requests"): {
        "params": [{"name": "status", "in": "query", "schema": STRING}, *PAGING],
    },
    ("POST", "/v1/subject-requests/{id}/fulfil"): {"status": "202"},
    ("POST", "/v1/subject-requests/{id}/reissue"): {
        "ok": _object(
            ["download_url", "download_expires_at"], download_url=STRING, download_expires_at=TIME
        ),
        "note": "the old link answers 410 from now on",
    },
    ("GET", "/v1/exports/{token}"): {
        "params": [RANGE],
        "responses": _ranged(
            "export",
            "application/zip",
            "404: unknown link; 410: already downloaded in full, expired, or replaced by a "
            "new copy; 416: the range starts past the end",
        ),
    },
    ("GET", "/v1/compliance/privacy-notice"): {
        "params": [
            {
                "name": "register",
                "in": "query",
                "required": True,
                "schema": {"enum": list(REGISTERS)},
            },
            {
                "name": "lang",
                "in": "query",
                "schema": {"enum": list(LANGUAGES)},
                "description": "default: from Accept-Language, Finnish first",
            },
            {
                "name": "format",
                "in": "query",
                "schema": {"enum": ["html", "md", "json"]},
                "description": "default json",
            },
        ],
        "responses": {
            "200": {
                "description": "the notice; facts the organisation profile lacks are marked "
                "and listed in to_be_completed",
                "content": {
                    JSON: {"schema": {"type": "object"}},
                    "text/html": {"schema": STRING},
                    "text/markdown": {"schema": STRING},
                },
            },
            "4XX": PROBLEMS,
            "503": UNAVAILABLE,
        },
    },
    ("GET", "/v1/compliance/record-of-processing"): {
        "params": [
            {
                "name": "format",
                "in": "query",
                "schema": {"enum": ["json", "csv"]},
                "description": "default json",
            },
            {
                "name": "lang",
                "in": "query",
                "schema": {"enum": list(LANGUAGES)},
                "description": "default en",
            },
        ],
        "responses": {
            "200": {
                "description": "the GDPR Art. 30(1) record of both registers",
                "content": {JSON: {"schema": {"type": "object"}}, "text/csv": {"schema": STRING}},
            },
            "4XX": PROBLEMS,
            "503": UNAVAILABLE,
        },
    },
    ("GET", "/v1/audit"): {
        "ok": _page("AuditEntry"),
        "params": [
            *(
                {"name": name, "in": "query", "schema": STRING}
                for name in ("actor", "action", "object_type", "object_id", "outcome")
            ),
            {"name": "from", "in": "query", "schema": TIME},
            {"name": "to", "in": "query", "schema": TIME},
            *PAGING,
        ],
    },
    ("GET", "/v1/compliance/evidence"): {
        "ok": _object(
            [*_EVIDENCE],
            generated_at=TIME,
            **{part: {"type": "object"} for part in _EVIDENCE[1:-1]},
            scheduled_jobs={"type": "array", "items": {"type": "object"}},
        ),
        "note": "counts and dates only; any query parameter is a 422",
    },
}


def _roles_holding(permissions: frozenset[Any]) -> list[str]:
    return [role for role in ROLES if ROLE_PERMISSIONS[role] & permissions]


def _who(handler: Callable[..., object], note: str | None) -> Schema:
    """Who may call: security and the words of the description, from the declaration."""
    requirement = requirement_of(handler)
    if isinstance(requirement, Public):
        return {"security": [], "description": f"No staff session: {requirement.reason}."}
    if isinstance(requirement, AnyUser) or requirement is None:
        return {"description": "Any logged-in user."}
    roles = ", ".join(_roles_holding(requirement))
    said = f"Roles: {roles}." + (f" ({note})" if note else "")
    return {"description": said, "x-permissions": sorted(p.value for p in requirement)}


def _summary(handler: Callable[..., object]) -> tuple[str, str]:
    """The docstring's first paragraph (the summary) and the rest."""
    doc = inspect.getdoc(handler) or ""
    first, _, rest = doc.partition("\n\n")
    summary = _ROUTE_PREFIX.sub("", " ".join(first.split()))  # the path is said already
    return summary[:1].upper() + summary[1:], rest.strip()


def _path_params(path: str) -> list[Schema]:
    return [
        {"name": name, "in": "path", "required": True, "schema": NOT_IDS.get(name, UUID)}
        for name in re.findall(r"\{([^}]+)\}", path)
    ]


def _request_body(model: type[Body] | None, extra: Schema) -> Schema | None:
    if model is not None:
        required = any(field.is_required() for field in model.model_fields.values())
        return {"required": required, **_json(_ref(model.__name__))}
    if "body" in extra:
        return {"required": True, **extra["body"]}
    return None


def _operation(method: str, path: str, handler: Callable[..., object]) -> Schema:
    extra = EXTRAS.get((method, path), {})
    summary, more = _summary(handler)
    ok = extra.get("ok")
    operation: Schema = {
        "summary": summary,
        "tags": [handler.__module__.rpartition(".")[2]],
        "responses": extra.get("responses")
        or {
            extra.get("status", "200"): {
                "description": "success",
                **(_json(ok) if ok is not None else {}),
            },
            "4XX": PROBLEMS,
            "503": UNAVAILABLE,
        },
        **_who(handler, extra.get("note")),
    }
    if more:
        operation["description"] += "\n\n" + more
    params = _path_params(path) + list(extra.get("params", []))
    if params:
        operation["parameters"] = params
    body = _request_body(model_of(handler), extra)
    if body is not None:
        operation["requestBody"] = body
    return operation


def _api_routes(router: web.UrlDispatcher) -> list[tuple[str, str, Callable[..., object]]]:
    """The API's routes (not the console's pages, which are not JSON)."""
    return [
        (route.method, route.resource.canonical, route.handler)
        for route in router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and route.handler.__module__.startswith("api.")
    ]


def _model_schemas(models: set[type[Body]]) -> Schema:
    """Each model's JSON schema (and those it nests) as components."""
    ordered = sorted(models, key=lambda m: m.__name__)
    _, top = models_json_schema([(m, "validation") for m in ordered], ref_template=REF)
    return dict(top.get("$defs", {}))


def _paths(routes: list[tuple[str, str, Callable[..., object]]]) -> Schema:
    paths: Schema = {}
    for method, path, handler in routes:
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, handler)
    return paths


def document(router: web.UrlDispatcher | None = None) -> Schema:
    """The whole OpenAPI 3.1 document of ``router`` (by default, the API's own routes)."""
    if router is None:
        # Imported here: api.routes registers this module's route, so it imports us.
        from api.routes import add_api_routes

        app = web.Application()
        add_api_routes(app)
        router = app.router
    routes = _api_routes(router)
    models = {m for _, _, handler in routes if (m := model_of(handler)) is not None}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callrec",
            "version": "1",
            "description": "Call recordings and customer register. Errors are RFC 9457 "
            "problem details. Personal identifiers travel in request bodies, never in URLs.",
        },
        "security": [{"bearer": []}],
        "paths": _paths(routes),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**_RESPONSE_SCHEMAS, **_model_schemas(models)},
        },
    }


_RESPONSE_SCHEMAS: Final[Schema] = {
    "Problem": _object(
        ["type", "title", "status", "detail"],
        type=STRING,
        title=STRING,
        status={"type": "integer"},
        detail=STRING,
        errors={
            "type": "array",
            "items": _object(["field", "message"], field=STRING, message=STRING),
        },
    ),
    "RecordingSummary": _object(
        ["id", "started_at", "duration_seconds", "status", "released_for_training"],
        id=UUID,
        started_at=TIME,
        duration_seconds={"type": "number"},
        status={"enum": ["received", "processing", "ready", "failed"]},
        released_for_training={"type": "boolean"},
        customer_id=NULLABLE_UUID,
        answered_by={**NULLABLE_STRING, "description": "in the search's answer only"},
        caller_number={**NULLABLE_STRING, "description": "in the search's answer only"},
        matches={
            "type": "array",
            "items": _ref("TranscriptMatch"),
            "description": "in the answer of a search with text only: where its words were said",
        },
    ),
    "TranscriptMatch": _object(
        ["start", "end", "channel", "word"],
        start=SECONDS,
        end=SECONDS,
        channel=CHANNEL,
        word={**STRING, "description": "the word as said"},
    ),
    "Transcript": _object(
        ["status", "language", "segments"],
        status={
            "enum": list(STATES),
            "description": "none: processed without a transcript (recorded while transcription "
            "was off); off: transcription is off and the call has none",
        },
        language=NULLABLE_STRING,
        error={**STRING, "description": "when failed: why, in public words"},
        segments={
            "type": "array",
            "items": _object(
                ["start", "end", "channel", "text", "words"],
                start=SECONDS,
                end=SECONDS,
                channel=CHANNEL,
                text=STRING,
                words={
                    "type": "array",
                    "items": _object(
                        ["start", "end", "word"], start=SECONDS, end=SECONDS, word=STRING
                    ),
                },
            ),
        },
    ),
    "AuditEntry": _object(
        ["seq", "at", "action", "outcome", "hash"],
        seq={"type": "integer"},
        at=TIME,
        actor=NULLABLE_STRING,
        actor_id=NULLABLE_UUID,
        action=STRING,
        object_type=NULLABLE_STRING,
        object_id=NULLABLE_STRING,
        purpose=NULLABLE_STRING,
        outcome=STRING,
        request_id=NULLABLE_STRING,
        details={"type": "object"},
        hash=STRING,
    ),
}


_DOCUMENT: Final = web.AppKey("openapi_document", str)


@public("the API description holds no data")
async def openapi_route(request: web.Request) -> web.Response:
    """This document: every route, who may call it and what it takes, generated from the code."""
    return web.Response(text=request.app[_DOCUMENT], content_type="application/json")


def add_routes(app: web.Application) -> None:
    """Register the description route; the document is built once, at start-up, when the
    router holds every route and can change no more."""
    app.router.add_get("/v1/openapi.json", openapi_route)

    async def build(app: web.Application) -> None:
        app[_DOCUMENT] = json.dumps(document(app.router))

    app.on_startup.append(build)
