"""Every route as every role (and anonymous): allowed exactly where the role table says."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from api.permissions import ROLE_PERMISSIONS, AnyUser, Permission, Public, requirement_of
from callrec.app import create_app
from common.settings import Settings
from tests.api.sessions import Client, add_role_users, headers_for

DUMMY_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(settings, run_worker=False))) as client:
        await add_role_users(client)
        yield client


ENDING = {("POST", "/v1/auth/logout"), ("DELETE", "/v1/auth/session")}  # logouts


def staff_routes(client: Client) -> list[tuple[str, str, frozenset[Permission] | AnyUser]]:
    routes = []
    for route in client.app.router.routes():
        requirement = requirement_of(route.handler)
        if route.method == "HEAD" or route.resource is None or isinstance(requirement, Public):
            continue
        assert requirement is not None, route.resource.canonical
        path = re.sub(r"\{[^}]+\}", DUMMY_ID, route.resource.canonical)
        routes.append((route.method, path, requirement))
    return sorted(routes, key=lambda r: (r[0], r[1]) in ENDING)  # they end the sessions: last


async def test_every_staff_route_allows_exactly_the_roles_in_the_table(api: Client) -> None:
    routes = staff_routes(api)
    assert len(routes) >= 6
    headers = {role: await headers_for(api, role.replace("_", "-")) for role in ROLE_PERMISSIONS}
    for method, path, requirement in routes:
        anonymous = await api.request(method, path, json={})
        assert anonymous.status == 401, (method, path)
        for role, role_headers in headers.items():
            if (method, path) in ENDING:  # the previous logout ended the session
                role_headers = await headers_for(api, role.replace("_", "-"))
            response = await api.request(method, path, json={}, headers=role_headers)
            allowed = isinstance(requirement, AnyUser) or bool(requirement & ROLE_PERMISSIONS[role])
            if allowed:
                assert response.status not in (401, 403), (method, path, role, response.status)
            else:
                assert response.status == 403, (method, path, role, response.status)
                body = await response.json()
                assert body["type"].endswith("/forbidden")
