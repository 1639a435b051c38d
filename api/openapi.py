"""The OpenAPI 3.1 description of every route, served at ``GET /v1/openapi.json``.

Written by hand next to the routes rather than generated from them: what a client needs
(purposes, who may call, why identifiers travel in bodies) is prose a generator cannot
know. A test fails when a registered route is missing here, and schemathesis fuzzes the
running app against this document.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from accounts.roles import ALL_PURPOSES, ROLES
from api.permissions import public
from register.consents import KINDS as MARKETING_KINDS
from register.contact_log import CHANNELS, DIRECTIONS, TOPICS
from register.disclosures import RECIPIENT_KINDS
from register.guardianship import KINDS as GUARDIAN_KINDS
from register.leases import PARTY_ROLES
from register.validation import CUSTOMER_ROLES, LANGUAGES, PHONE_TYPES, STATUSES
from rights.requests import KINDS as REQUEST_KINDS
from rights.requests import REQUEST_CHANNELS

JSON: Final = "application/json"
PROBLEM: Final = "application/problem+json"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema) -> Schema:
    return {"content": {JSON: {"schema": schema}}}


def _object(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


STRING: Final[Schema] = {"type": "string"}
UUID: Final[Schema] = {"type": "string", "format": "uuid"}
TIME: Final[Schema] = {"type": "string", "format": "date-time"}
NULLABLE_UUID: Final[Schema] = {"type": ["string", "null"], "format": "uuid"}
NULLABLE_STRING: Final[Schema] = {"type": ["string", "null"]}
ID_PARAM: Final[Schema] = {"name": "id", "in": "path", "required": True, "schema": UUID}
PAGING: Final = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    {"name": "cursor", "in": "query", "schema": STRING, "description": "`next` of the last page"},
]
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


def _sealed(operation: Schema) -> Schema:
    """An operation that streams a sealed object, which may fail its integrity check."""
    integrity_error = {
        "description": "integrity-error: the stored file failed its check; nothing was sent "
        "and the attempt is audited as failed (past the first 64 KiB: the connection is cut)",
        "content": {PROBLEM: {"schema": _ref("Problem")}},
    }
    return {**operation, "responses": {**operation["responses"], "502": integrity_error}}


UNAVAILABLE: Final[Schema] = {
    "description": "the database or the object store is unavailable (database-unavailable,"
    " storage-unavailable), or the service is busy: retry after Retry-After seconds",
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    "content": {PROBLEM: {"schema": _ref("Problem")}},
}


def _op(
    summary: str,
    *,
    tag: str,
    ok: Schema | None = None,
    status: str = "200",
    params: list[Schema] | None = None,
    body: Schema | None = None,
    who: str | None = None,
    open_to_all: bool = False,
) -> Schema:
    """One operation; ``who`` names the roles (bearer auth) unless ``open_to_all``."""
    operation: Schema = {
        "summary": summary,
        "tags": [tag],
        "responses": {
            status: {"description": "success", **(_json(ok) if ok is not None else {})},
            "4XX": {
                "description": "what to fix, as RFC 9457 problem details",
                "content": {PROBLEM: {"schema": _ref("Problem")}},
            },
            "503": UNAVAILABLE,
        },
    }
    if who is not None:
        operation["description"] = f"Roles: {who}."
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": True, **body}
    if open_to_all:
        operation["security"] = []
    return operation


def _page(item: str) -> Schema:
    return _object(
        ["items", "next"],
        items={"type": "array", "items": _ref(item)},
        next=NULLABLE_STRING,
    )


def _customer_log(list_summary: str, add_summary: str, entry: Schema) -> Schema:
    """A per-customer log: paged GET for readers of the register, POST for customer service."""
    return {
        "get": _op(
            list_summary,
            tag="register",
            who="customer_service, dpo, housing_advisor (assigned only)",
            params=[ID_PARAM, *PAGING],
        ),
        "post": _op(
            add_summary,
            tag="register",
            status="201",
            who="customer_service",
            params=[ID_PARAM],
            body=_json(entry),
        ),
    }


def _paths() -> Schema:
    recording_filters = [
        {"name": "customer_id", "in": "query", "schema": UUID},
        {"name": "answered_by", "in": "query", "schema": STRING},
        {"name": "unlinked", "in": "query", "schema": {"enum": ["true", "false"]}},
        {"name": "from", "in": "query", "schema": TIME},
        {"name": "to", "in": "query", "schema": TIME},
        *PAGING,
    ]
    audio_params = [ID_PARAM, PURPOSE_PARAM, {"name": "Range", "in": "header", "schema": STRING}]
    audio = {"content": {"audio/ogg": {"schema": {"type": "string", "format": "binary"}}}}
    export = {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}
    metadata = _object(
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
    return {
        "/healthz": {"get": _op("Liveness", tag="operations", open_to_all=True)},
        "/readyz": {
            "get": _op("Readiness: database and object store", tag="operations", open_to_all=True)
        },
        "/metrics": {
            "get": _op("Prometheus metrics (no personal data)", tag="operations", open_to_all=True)
        },
        "/v1/openapi.json": {
            "get": _op("This document", tag="operations", open_to_all=True, ok={"type": "object"})
        },
        "/v1/recordings": {
            "post": _op(
                "Telephony webhook: deliver a finished call (signed, idempotent)",
                tag="telephony",
                status="202",
                ok=_object(["id", "status"], id=UUID, status=STRING),
                params=SIGNATURE_HEADERS,
                open_to_all=True,
                body={
                    "content": {
                        "multipart/form-data": {
                            "schema": _object(
                                ["metadata", "audio"],
                                metadata=STRING,
                                audio={"type": "string", "format": "binary"},
                            )
                        },
                        JSON: {"schema": metadata},
                    }
                },
            ),
            "get": _op(
                "List recordings (ids and dates); trainers get released calls only",
                tag="recordings",
                ok=_page("RecordingSummary"),
                params=recording_filters,
                who="customer_service, dpo; trainer (released only, time filters only)",
            ),
        },
        "/v1/recordings/{id}/status": {
            "get": _op(
                "Ingest status for the telephony system (signed like the webhook)",
                tag="telephony",
                ok=_object(["id", "status"], id=UUID, status=STRING, error=NULLABLE_STRING),
                params=[ID_PARAM, *SIGNATURE_HEADERS],
                open_to_all=True,
            )
        },
        "/v1/webhooks/twilio/recording-status": {
            "post": _op(
                "Twilio recording-status callback (X-Twilio-Signature)",
                tag="telephony",
                status="202",
                params=[
                    {
                        "name": "X-Twilio-Signature",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9+/]{27}=$"},
                    }
                ],
                open_to_all=True,
                body={
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
            )
        },
        "/v1/auth/login": {
            "post": _op(
                "Log in: a bearer token that expires",
                tag="accounts",
                ok=_object(["token", "expires_at"], token=STRING, expires_at=TIME),
                body=_json(_object(["username", "password"], username=STRING, password=STRING)),
                open_to_all=True,
            )
        },
        "/v1/auth/logout": {"post": _op("Revoke this session", tag="accounts", who="any")},
        "/v1/auth/session": {
            "post": _op(
                "Console login: the session in an HttpOnly SameSite=Strict cookie; send the"
                " returned csrf_token as X-CSRF-Token with every state-changing request",
                tag="accounts",
                ok=_object(["expires_at", "csrf_token"], expires_at=TIME, csrf_token=STRING),
                body=_json(_object(["username", "password"], username=STRING, password=STRING)),
                open_to_all=True,
            ),
            "delete": _op(
                "Console logout: revoke the session, drop the cookie", tag="accounts", who="any"
            ),
        },
        "/v1/auth/me": {
            "get": _op(
                "Who is logged in, with roles and permissions",
                tag="accounts",
                who="any",
                ok=_object(
                    ["id", "username", "roles", "permissions", "csrf_token"],
                    id=UUID,
                    username=STRING,
                    roles={"type": "array", "items": STRING},
                    permissions={"type": "array", "items": STRING},
                    csrf_token=STRING,
                ),
            )
        },
        "/v1/users/{id}": {
            "patch": _op(
                "Change an account's roles or switch it off (not one's own)",
                tag="accounts",
                who="admin",
                params=[ID_PARAM],
                body=_json(
                    _object(
                        [],
                        roles={"type": "array", "items": {"enum": list(ROLES)}, "minItems": 1},
                        disabled={"type": "boolean"},
                    )
                ),
            )
        },
        "/v1/users": {
            "get": _op(
                "Staff accounts in username order",
                tag="accounts",
                who="admin",
                params=[{"name": "after", "in": "query", "schema": STRING}, PAGING[0]],
            ),
            "post": _op(
                "Create a staff account",
                tag="accounts",
                status="201",
                who="admin",
                body=_json(
                    _object(
                        ["username", "password", "roles"],
                        username=STRING,
                        password={"type": "string", "minLength": 12},
                        roles={"type": "array", "items": {"enum": list(ROLES)}},
                        extension=NULLABLE_STRING,
                        display_name=NULLABLE_STRING,
                    )
                ),
            ),
        },
        "/v1/recordings/search": {
            "post": _op(
                "Search recordings; caller numbers travel here, never in URLs",
                tag="recordings",
                who="customer_service, dpo",
                ok=_page("RecordingSummary"),
                body=_json(
                    _object(
                        [],
                        caller_number=STRING,
                        customer_id=UUID,
                        answered_by=STRING,
                        unlinked={"type": "boolean"},
                        **{"from": TIME, "to": TIME},
                        cursor=STRING,
                        limit={"type": "integer", "minimum": 1, "maximum": 200},
                    )
                ),
            )
        },
        "/v1/recordings/unmatched-agents": {
            "get": _op("answered_by values that match no account", tag="review", who="admin")
        },
        "/v1/recordings/notice-missing": {
            "get": _op(
                "Calls recorded although the notice was not played",
                tag="review",
                who="dpo",
                params=PAGING,
            )
        },
        "/v1/recordings/{id}": {
            "get": _op(
                "One recording; the caller identity is masked for trainers",
                tag="recordings",
                who="customer_service, dpo; trainer (released only, masked)",
                params=[ID_PARAM],
            )
        },
        "/v1/recordings/{id}/customer": {
            "post": _op(
                "Link the call to a customer by hand",
                tag="review",
                who="customer_service",
                params=[ID_PARAM],
                body=_json(_object(["customer_id"], customer_id=UUID)),
            )
        },
        "/v1/recordings/{id}/audio": {
            "get": _sealed(
                {
                    **_op(
                        "Play: Opus in Ogg with HTTP Range (206) for seeking; audited",
                        tag="playback",
                        who="customer_service (verify_content), trainer (training, released "
                        "only), dpo (subject_request, legal)",
                        params=audio_params,
                    ),
                    "responses": {
                        "200": {"description": "the whole recording", **audio},
                        "206": {"description": "the asked range", **audio},
                        "4XX": {
                            "description": "what to fix (416: the range starts past the end)",
                            "content": {PROBLEM: {"schema": _ref("Problem")}},
                        },
                    },
                }
            )
        },
        "/v1/recordings/{id}/download": {
            "get": _sealed(
                _op(
                    "Download the file as an attachment; audited apart from plays",
                    tag="playback",
                    who="dpo",
                    params=audio_params,
                )
            )
        },
        "/v1/recordings/{id}/waveform": {
            "get": _op(
                "Peaks per channel (about 10 per second) for the player",
                tag="playback",
                who="customer_service, dpo; trainer (released only)",
                params=[ID_PARAM],
            )
        },
        "/v1/recordings/{id}/training-release": {
            "post": _op(
                "Release a recording for training, or withdraw it, with a reason",
                tag="recordings",
                who="dpo",
                params=[ID_PARAM],
                body=_json(
                    _object(
                        ["reason"],
                        released={"type": "boolean"},
                        reason={"type": "string", "minLength": 1, "maxLength": 2000},
                    )
                ),
            )
        },
        "/v1/customers": {
            "get": _op(
                "Customers by last name (advisors: their own only)",
                tag="register",
                who="customer_service, dpo, housing_advisor",
                params=PAGING,
            ),
            "post": _op(
                "Create a customer with contacts",
                tag="register",
                status="201",
                who="customer_service",
                body=_json(_ref("CustomerInput")),
            ),
        },
        "/v1/customers/search": {
            "post": _op(
                "Search by name prefix, phone, customer number or henkilötunnus",
                tag="register",
                who="customer_service, dpo, housing_advisor (not by henkilötunnus)",
                body=_json(
                    _object(
                        ["q"],
                        q={"type": "string", "minLength": 1, "maxLength": 200},
                        limit={"type": "integer", "minimum": 1, "maximum": 200},
                    )
                ),
            )
        },
        "/v1/customers/{id}": {
            "get": _op(
                "One customer with current_leases and the marketing choice in force per kind; "
                "turvakielto masks contact data and lease addresses for advisors, also where "
                "they are shared with a protected person (a shared lease or home: the list, or "
                "each shared item, reads 'masked')",
                tag="register",
                who="customer_service, dpo, housing_advisor (assigned only)",
                params=[ID_PARAM],
            ),
            "patch": _op(
                "Change the fields sent; every change is kept in the history",
                tag="register",
                who="customer_service",
                params=[ID_PARAM],
                body=_json({**_ref("CustomerInput")}),
            ),
        },
        "/v1/customers/{id}/history": {
            "get": _op(
                "Rectification history: field, old and new value, who, when",
                tag="register",
                who="customer_service, dpo, housing_advisor (assigned only, no identity codes)",
                params=[ID_PARAM],
            )
        },
        "/v1/customers/{id}/history/{change_id}/undo": {
            "post": _op(
                "Undo one change: the field gets its earlier value back (kept in history)",
                tag="register",
                who="customer_service",
                params=[
                    ID_PARAM,
                    {"name": "change_id", "in": "path", "required": True, "schema": UUID},
                ],
            )
        },
        "/v1/customers/{id}/contacts": _customer_log(
            "The contact log, newest first",
            "Log a contact",
            _object(
                ["channel", "direction", "topic", "note"],
                channel={"enum": list(CHANNELS)},
                direction={"enum": list(DIRECTIONS)},
                topic={"enum": list(TOPICS)},
                note={"type": "string", "minLength": 1, "maxLength": 4000},
                recording_id=UUID,
                at=TIME,
            ),
        ),
        "/v1/customers/{id}/disclosures": _customer_log(
            "The disclosure log: what went to whom, on what legal basis",
            "Record a disclosure",
            _object(
                ["recipient", "recipient_kind", "legal_basis", "data_disclosed"],
                recipient=STRING,
                recipient_kind={"enum": list(RECIPIENT_KINDS)},
                legal_basis=STRING,
                data_disclosed=STRING,
                at=TIME,
            ),
        ),
        "/v1/customers/{id}/marketing": _customer_log(
            "Marketing consents and bans, newest first; `current` marks the one in force",
            "Record a consent (allowed: true) or a ban (false)",
            _object(
                ["kind", "allowed", "given_via"],
                kind={"enum": list(MARKETING_KINDS)},
                allowed={"type": "boolean"},
                given_via={"enum": list(CHANNELS)},
                at=TIME,
            ),
        ),
        "/v1/leases": {
            "post": _op(
                "Create a lease with its parties and household",
                tag="register",
                status="201",
                who="customer_service",
                body=_json(
                    _object(
                        ["lease_number", "property", "apartment", "start_date", "parties"],
                        lease_number=STRING,
                        property=STRING,
                        apartment=STRING,
                        start_date={"type": "string", "format": "date"},
                        end_date={"type": "string", "format": "date"},
                        terminated_on={"type": "string", "format": "date"},
                        parties={
                            "type": "array",
                            "items": _object(
                                ["customer_id", "role"],
                                customer_id=UUID,
                                role={"enum": list(PARTY_ROLES)},
                            ),
                        },
                        household={
                            "type": "array",
                            "items": _object(
                                ["name"],
                                name=STRING,
                                birth_date={"type": "string", "format": "date"},
                            ),
                        },
                    )
                ),
            )
        },
        "/v1/leases/{id}": {
            "patch": _op(
                "End or terminate a lease (null clears a date)",
                tag="register",
                who="customer_service",
                params=[ID_PARAM],
                body=_json(
                    {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": False,
                        "properties": {
                            "end_date": {"type": ["string", "null"], "format": "date"},
                            "terminated_on": {"type": ["string", "null"], "format": "date"},
                        },
                    }
                ),
            )
        },
        "/v1/customers/{id}/leases": {
            "get": _op(
                "The customer's leases with parties and household (for viewers without the "
                "task, property, apartment, household and a protected party's name read "
                "'masked' when a party, or someone living with a party, is under turvakielto)",
                tag="register",
                who="customer_service, dpo, housing_advisor (assigned only)",
                params=[ID_PARAM],
            )
        },
        "/v1/customers/{id}/guardianships": {
            "get": _op(
                "Guardianship links where the customer is guardian or ward",
                tag="register",
                who="customer_service, dpo, housing_advisor (assigned only)",
                params=[ID_PARAM],
            ),
            "post": _op(
                "Link a guardian (edunvalvonta, or the guardian who signed for a minor)",
                tag="register",
                status="201",
                who="customer_service",
                params=[ID_PARAM],
                body=_json(
                    _object(
                        ["guardian_id", "kind"],
                        guardian_id=UUID,
                        kind={"enum": list(GUARDIAN_KINDS)},
                        start_date={"type": "string", "format": "date"},
                        end_date={"type": "string", "format": "date"},
                    )
                ),
            ),
        },
        "/v1/customers/{id}/guardianships/{link_id}": {
            "patch": _op(
                "End a guardianship link",
                tag="register",
                who="customer_service",
                params=[
                    ID_PARAM,
                    {"name": "link_id", "in": "path", "required": True, "schema": UUID},
                ],
                body=_json(_object(["end_date"], end_date={"type": "string", "format": "date"})),
            )
        },
        "/v1/legal-holds": {
            "post": _op(
                "Place a legal hold on recordings or on a customer (blocks erasure and retention)",
                tag="rights",
                status="201",
                who="dpo",
                body=_json(
                    {
                        "type": "object",
                        "required": ["reason"],
                        "properties": {
                            "reason": STRING,
                            "recording_ids": {"type": "array", "items": UUID, "minItems": 1},
                            "customer_id": UUID,
                        },
                    }
                ),
            ),
            "get": _op(
                "Legal holds, newest first (active only unless include_released=true)",
                tag="rights",
                who="dpo",
                params=[
                    {
                        "name": "include_released",
                        "in": "query",
                        "schema": {"enum": ["true", "false"]},
                    },
                    *PAGING,
                ],
            ),
        },
        "/v1/legal-holds/{id}": {
            "delete": _op(
                "Release a legal hold (optional JSON body {reason}); it stays listed as released",
                tag="rights",
                who="dpo",
                params=[ID_PARAM],
            )
        },
        "/v1/subject-requests": {
            "post": _op(
                "Register a data-subject request (due in 14 days; legal deadline one month)",
                tag="rights",
                status="201",
                who="customer_service, dpo",
                body=_json(
                    {
                        "type": "object",
                        "required": ["kind", "subject", "channel"],
                        "properties": {
                            "kind": {"enum": list(REQUEST_KINDS)},
                            "subject": {
                                "type": "object",
                                "minProperties": 1,
                                "maxProperties": 1,
                                "properties": {
                                    "customer_id": UUID,
                                    "staff_username": STRING,
                                    "phone_number": STRING,
                                },
                            },
                            "channel": {"enum": list(REQUEST_CHANNELS)},
                            "received_at": TIME,
                        },
                    }
                ),
            ),
            "get": _op(
                "The request queue by due date, soonest first; `overdue` marks late ones",
                tag="rights",
                who="dpo",
                params=[{"name": "status", "in": "query", "schema": STRING}, *PAGING],
            ),
        },
        "/v1/subject-requests/{id}": {
            "get": _op(
                "One request: status, due dates, progress, erasure report and, once an access "
                "export is ready, its download_url (the same at every read; reading changes "
                "nothing) until one complete download or expiry, downloaded_at (the last "
                "complete download) and copy_kept_until (a new copy may be issued until then)",
                tag="rights",
                who="dpo",
                params=[ID_PARAM],
            )
        },
        **{
            f"/v1/subject-requests/{{id}}/{step}": {
                "post": _op(
                    summary,
                    tag="rights",
                    status="202" if step == "fulfil" else "200",
                    who="dpo",
                    params=[ID_PARAM],
                    body=_json(body) if body is not None else None,
                )
            }
            for step, summary, body in (
                (
                    "verify",
                    "Record how the subject's identity was verified",
                    _object(["method"], method=STRING),
                ),
                ("fulfil", "Start the export or erasure (needs verified identity)", None),
                ("deny", "Deny the request with a reason", _object(["reason"], reason=STRING)),
                (
                    "extend",
                    "Extend the deadline (at most two months past the legal one)",
                    _object(["until", "reason"], until=TIME, reason=STRING),
                ),
                (
                    "reissue",
                    "Issue a new copy of a completed access export while it is kept: answers "
                    "{download_url, download_expires_at}; the old link answers 410 from now on",
                    None,
                ),
            )
        },
        "/v1/exports/{token}": {
            "get": _sealed(
                {
                    **_op(
                        "Download an access export (ZIP); the token is the credential. Works until "
                        "one complete download (a response that carried the last byte reached the "
                        "client) or expiry; a cut download resumes with Range; every use is audited",
                        tag="rights",
                        open_to_all=True,
                        params=[
                            {"name": "token", "in": "path", "required": True, "schema": STRING},
                            {"name": "Range", "in": "header", "schema": STRING},
                        ],
                    ),
                    "responses": {
                        "200": {"description": "the whole export", **export},
                        "206": {"description": "the asked range, to resume", **export},
                        "4XX": {
                            "description": "404: unknown link; 410: already downloaded in full, "
                            "expired, or replaced by a new copy; 416: the range starts past the end",
                            "content": {PROBLEM: {"schema": _ref("Problem")}},
                        },
                    },
                }
            )
        },
        "/v1/audit": {
            "get": _op(
                "The audit log, newest first",
                tag="audit",
                who="dpo",
                ok=_page("AuditEntry"),
                params=[
                    *(
                        {"name": name, "in": "query", "schema": STRING}
                        for name in ("actor", "action", "object_type", "object_id", "outcome")
                    ),
                    {"name": "from", "in": "query", "schema": TIME},
                    {"name": "to", "in": "query", "schema": TIME},
                    *PAGING,
                ],
            )
        },
    }


def _components() -> Schema:
    return {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
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
            "CustomerInput": _object(
                ["customer_number", "first_name", "last_name", "roles"],
                customer_number={"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"},
                first_name=STRING,
                last_name=STRING,
                henkilotunnus={"type": "string", "description": "validated, stored encrypted"},
                travel_document=STRING,
                roles={"type": "array", "items": {"enum": list(CUSTOMER_ROLES)}},
                language={"enum": list(LANGUAGES)},
                status={"enum": list(STATUSES)},
                relationship_start={"type": "string", "format": "date"},
                turvakielto={"type": "boolean"},
                turvakielto_start={"type": "string", "format": "date"},
                turvakielto_end={"type": "string", "format": "date"},
                phones={
                    "type": "array",
                    "items": _object(
                        ["number"],
                        number=STRING,
                        type={"enum": list(PHONE_TYPES)},
                    ),
                },
                emails={"type": "array", "items": STRING},
                addresses={
                    "type": "array",
                    "items": _object(
                        ["street", "postal_code", "city"],
                        street=STRING,
                        postal_code=STRING,
                        city=STRING,
                        country=STRING,
                    ),
                },
                assigned_advisor=STRING,
            )
            | {
                "additionalProperties": False,
                "description": "null clears an optional field; the required ones, language, "
                "status and turvakielto cannot be cleared",
            },
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
        },
    }


def document() -> Schema:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callrec",
            "version": "1",
            "description": "Call recordings and customer register. Errors are RFC 9457 "
            "problem details. Personal identifiers travel in request bodies, never in URLs.",
        },
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": _components(),
    }


@public("the API description holds no data")
async def openapi_route(request: web.Request) -> web.Response:
    """``GET /v1/openapi.json``."""
    return web.json_response(document())


def add_routes(app: web.Application) -> None:
    """Register the description route."""
    app.router.add_get("/v1/openapi.json", openapi_route)
