"""Logging in as a given role in tests."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from accounts.roles import ROLE_PERMISSIONS
from accounts.users import create_user
from api.appkeys import POOL

PASSWORD = "correct horse battery"
Client = TestClient[web.Request, web.Application]


async def add_role_users(client: Client) -> None:
    """One account per role, named after the role (customer-service, dpo, …)."""
    for role in ROLE_PERMISSIONS:
        await create_user(client.app[POOL], role.replace("_", "-"), PASSWORD, [role])


async def token_for(client: Client, username: str, password: str = PASSWORD) -> str:
    """Log in and return the bearer token."""
    response = await client.post(
        "/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status == 200, await response.text()
    return str((await response.json())["token"])


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


async def headers_for(client: Client, username: str) -> dict[str, str]:
    """Log in as ``username`` and return ready headers."""
    return bearer(await token_for(client, username))
