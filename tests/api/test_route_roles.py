"""Every route as every role, against a table written out by hand.

The expectations are typed here from ARCHITECTURE.md section 5 and the README's route
tables, not read from the permission table the middleware uses: a route declared with the
wrong permission fails here, and so does a route that nobody put in the table. Only the
HTTP surface is used, so the test holds whatever module the route lives in.

Columns: anonymous, admin, customer_service, trainer, dpo, housing_advisor. ``Y``: the
role gets past access control (any answer but 401/403: an unknown id is a 404, an empty
body a 422); ``N``: 403 forbidden; ``U``: 401 (no session, or no webhook signature).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from tests.api.sessions import Client, headers_for

Y: Final = "allowed"
N: Final = 403
U: Final = 401
Expected = tuple[str | int, str | int, str | int, str | int, str | int, str | int]
ROLES: Final = ("admin", "customer_service", "trainer", "dpo", "housing_advisor")
DUMMY_ID: Final = "00000000-0000-4000-8000-000000000000"

EVERYONE: Final[Expected] = (Y, Y, Y, Y, Y, Y)
SIGNED: Final[Expected] = (U, U, U, U, U, U)  # a staff session is no webhook signature
ANY_USER: Final[Expected] = (U, Y, Y, Y, Y, Y)
ADMIN: Final[Expected] = (U, Y, N, N, N, N)
DPO: Final[Expected] = (U, N, N, N, Y, N)
CUSTOMER_SERVICE: Final[Expected] = (U, N, Y, N, N, N)
STAFF: Final[Expected] = (U, N, Y, N, Y, N)  # customer service and the DPO
CALLS: Final[Expected] = (U, N, Y, Y, Y, N)  # and trainers, released calls only
REGISTER_READ: Final[Expected] = (U, N, Y, N, Y, Y)  # advisors: their customers, masked
TRAINING: Final[Expected] = (U, N, N, Y, Y, N)  # trainers (released calls only) and the DPO

#                                                      anon admin cs trainer dpo advisor
ROUTE_ROLES: Final[dict[tuple[str, str], Expected]] = {
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/metrics"): EVERYONE,
    ("GET", "/v1/openapi.json"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/console/{name}"): EVERYONE,
    ("GET", "/privacy"): EVERYONE,  # the privacy notices are published for everyone
    ("GET", "/v1/compliance/privacy-notice"): EVERYONE,
    ("GET", "/v1/compliance/record-of-processing"): DPO,
    ("GET", "/v1/exports/{token}"): EVERYONE,  # the token is the credential
    ("POST", "/v1/recordings"): SIGNED,
    ("GET", "/v1/recordings/{id}/status"): SIGNED,
    ("POST", "/v1/webhooks/twilio/recording-status"): SIGNED,
    ("POST", "/v1/auth/login"): EVERYONE,
    ("POST", "/v1/auth/session"): EVERYONE,
    ("GET", "/v1/auth/oidc"): EVERYONE,  # whether the console offers single sign-on
    ("GET", "/v1/auth/oidc/login"): EVERYONE,  # the identity provider authenticates
    ("GET", "/v1/auth/oidc/callback"): EVERYONE,  # state, code and ID token authenticate
    ("GET", "/v1/auth/me"): ANY_USER,
    ("POST", "/v1/auth/logout"): ANY_USER,
    ("DELETE", "/v1/auth/session"): ANY_USER,
    ("POST", "/v1/auth/password"): ANY_USER,
    ("GET", "/v1/auth/sessions"): ANY_USER,
    ("DELETE", "/v1/auth/sessions/{id}"): ANY_USER,  # one's own only: others' ids are 404
    ("POST", "/v1/auth/login/totp"): EVERYONE,  # the challenge is the credential
    ("POST", "/v1/auth/totp"): ANY_USER,  # everyone may enrol a second factor
    ("POST", "/v1/auth/totp/confirm"): ANY_USER,
    ("POST", "/v1/setup"): EVERYONE,  # the setup link's token is the credential
    ("GET", "/v1/users"): ADMIN,
    ("POST", "/v1/users"): ADMIN,
    ("PATCH", "/v1/users/{id}"): ADMIN,
    ("POST", "/v1/users/{id}/password-reset"): ADMIN,
    ("DELETE", "/v1/users/{id}/sessions"): ADMIN,
    ("DELETE", "/v1/users/{id}/totp"): ADMIN,
    ("GET", "/v1/recordings/unmatched-agents"): ADMIN,
    ("GET", "/v1/recordings"): CALLS,
    ("GET", "/v1/recordings/{id}"): CALLS,
    ("GET", "/v1/recordings/{id}/audio"): CALLS,
    ("GET", "/v1/recordings/{id}/waveform"): CALLS,
    ("GET", "/v1/recordings/{id}/transcript"): CALLS,  # as its audio, per purpose
    ("POST", "/v1/recordings/search"): STAFF,
    ("POST", "/v1/recordings/{id}/customer"): CUSTOMER_SERVICE,
    ("GET", "/v1/recordings/{id}/download"): DPO,
    ("POST", "/v1/recordings/{id}/training-release"): DPO,
    ("POST", "/v1/recordings/{id}/redactions"): DPO,
    ("GET", "/v1/recordings/{id}/redactions"): DPO,
    ("DELETE", "/v1/recordings/{id}/redactions/{redaction_id}"): DPO,
    ("GET", "/v1/recordings/notice-missing"): DPO,
    ("POST", "/v1/recordings/{id}/annotations"): TRAINING,
    ("GET", "/v1/recordings/{id}/annotations"): TRAINING,
    ("POST", "/v1/training/collections"): TRAINING,
    ("GET", "/v1/training/collections"): TRAINING,
    ("GET", "/v1/training/collections/{id}"): TRAINING,
    ("POST", "/v1/training/collections/{id}/items"): TRAINING,
    ("DELETE", "/v1/training/collections/{id}/items/{recording_id}"): TRAINING,
    ("GET", "/v1/audit"): DPO,
    ("GET", "/v1/compliance/evidence"): DPO,
    ("GET", "/v1/customers"): REGISTER_READ,
    ("POST", "/v1/customers/search"): REGISTER_READ,
    ("GET", "/v1/customers/{id}"): REGISTER_READ,
    ("GET", "/v1/customers/{id}/history"): REGISTER_READ,  # advisors: no identity codes
    ("GET", "/v1/customers/{id}/contacts"): REGISTER_READ,
    ("GET", "/v1/customers/{id}/disclosures"): REGISTER_READ,
    ("GET", "/v1/customers/{id}/marketing"): REGISTER_READ,
    ("GET", "/v1/customers/{id}/leases"): REGISTER_READ,
    ("GET", "/v1/customers/{id}/guardianships"): REGISTER_READ,
    ("POST", "/v1/customers"): CUSTOMER_SERVICE,
    ("PATCH", "/v1/customers/{id}"): CUSTOMER_SERVICE,
    ("POST", "/v1/customers/{id}/history/{change_id}/undo"): CUSTOMER_SERVICE,
    ("POST", "/v1/customers/{id}/contacts"): CUSTOMER_SERVICE,
    ("POST", "/v1/customers/{id}/disclosures"): CUSTOMER_SERVICE,
    ("POST", "/v1/customers/{id}/marketing"): CUSTOMER_SERVICE,
    ("POST", "/v1/customers/{id}/guardianships"): CUSTOMER_SERVICE,
    ("PATCH", "/v1/customers/{id}/guardianships/{link_id}"): CUSTOMER_SERVICE,
    ("POST", "/v1/leases"): CUSTOMER_SERVICE,
    ("PATCH", "/v1/leases/{id}"): CUSTOMER_SERVICE,
    ("POST", "/v1/legal-holds"): DPO,
    ("GET", "/v1/legal-holds"): DPO,
    ("DELETE", "/v1/legal-holds/{id}"): DPO,
    ("POST", "/v1/subject-requests"): STAFF,
    ("GET", "/v1/subject-requests"): DPO,
    ("GET", "/v1/subject-requests/{id}"): DPO,
    ("POST", "/v1/subject-requests/{id}/verify"): DPO,
    ("POST", "/v1/subject-requests/{id}/fulfil"): DPO,
    ("POST", "/v1/subject-requests/{id}/deny"): DPO,
    ("POST", "/v1/subject-requests/{id}/extend"): DPO,
    ("POST", "/v1/subject-requests/{id}/reissue"): DPO,
    ("PUT", "/v1/subject-requests/{id}/recordings/{recording_id}/export"): DPO,
}
ENDING: Final = {("POST", "/v1/auth/logout"), ("DELETE", "/v1/auth/session")}  # last


def app_routes(api: Client) -> set[tuple[str, str]]:
    """The router's routes as (method, path template); HEAD rides along with GET."""
    return {
        (route.method, route.resource.canonical)
        for route in api.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def test_the_table_names_every_route_of_the_app_and_no_other(staff_api: Client) -> None:
    """A new route fails here until someone decides, by hand, who may call it."""
    routes = app_routes(staff_api)
    assert routes - ROUTE_ROLES.keys() == set(), "add these routes to ROUTE_ROLES"
    assert ROUTE_ROLES.keys() - routes == set(), "these routes no longer exist"


def _order(route: tuple[str, str]) -> bool:
    return route in ENDING  # the logouts end the sessions, so they come last


async def _outcome(api: Client, method: str, path: str, headers: dict[str, str]) -> str | int:
    response = await api.request(method, path, json={}, headers=headers)
    if response.status == N:
        assert (await response.json())["type"].endswith("/forbidden"), (method, path)
    return response.status if response.status in (U, N) else Y


async def test_every_route_answers_each_role_as_the_table_says(staff_api: Client) -> None:
    headers = {role: await headers_for(staff_api, role.replace("_", "-")) for role in ROLES}
    wrong = []
    for method, template in sorted(ROUTE_ROLES, key=_order):
        path = re.sub(r"\{[^}]+\}", DUMMY_ID, template)
        if (method, template) in ENDING:  # the previous logout ended the sessions
            headers = {role: await headers_for(staff_api, role.replace("_", "-")) for role in ROLES}
        outcomes = [await _outcome(staff_api, method, path, {})]
        outcomes += [await _outcome(staff_api, method, path, headers[role]) for role in ROLES]
        if tuple(outcomes) != ROUTE_ROLES[(method, template)]:
            wrong.append((method, template, outcomes))
    assert wrong == []


def _roles_named(operation: dict[str, Any]) -> set[str]:
    """The roles the operation's own words name (not its bodies, which may list roles)."""
    said = {k: v for k, v in operation.items() if k in ("summary", "description") or k[:2] == "x-"}
    text = json.dumps(said)
    return {role for role in ROLES if re.search(rf"\b{role}\b", text)}


async def test_the_openapi_document_names_the_roles_of_the_table(staff_api: Client) -> None:
    """The API description tells integrators who may call each route; it must not differ."""
    document = await (await staff_api.get("/v1/openapi.json")).json()
    wrong: list[tuple[object, ...]] = []
    for (method, template), expected in ROUTE_ROLES.items():
        operation = document["paths"].get(template, {}).get(method.lower())
        if operation is None:  # the console's pages are not part of the API
            if template.startswith("/v1/"):
                wrong.append((method, template, "missing from the document"))
            continue
        allowed = {role for role, outcome in zip(ROLES, expected[1:], strict=True) if outcome == Y}
        if allowed in (set(), set(ROLES)) or expected[0] == Y:
            continue  # open routes and routes of every user name no role
        if _roles_named(operation) != allowed:
            wrong.append((method, template, sorted(_roles_named(operation)), sorted(allowed)))
    assert wrong == []
