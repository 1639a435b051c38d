"""A real OpenID provider for the single sign-on tests (panva's oidc-provider, run by Node),
and a sign-in driven through it the way a browser does it: follow the redirects, post the
provider's login form.

One provider process serves a whole test module (it starts in about half a second); its
users live in a JSON file the tests rewrite to change someone's groups. The npm packages
come from ``package-lock.json`` (``npm ci``) when ``node_modules`` is missing; ``make test``
installs them the same way.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from callrec.app import create_app
from common.settings import Secret, Settings

HERE: Final = Path(__file__).parent
CLIENT_ID: Final = "callrec"
ROLE_MAP: Final = (("staff-cs", "customer_service"), ("staff-training", "trainer"))
PASSWORD: Final = "provider password"
_FORM: Final = re.compile(r'<form method="post" action="([^"]+)"')

Client = TestClient[aiohttp.web.Request, aiohttp.web.Application]


@dataclass
class Idp:
    """The running provider: its issuer, the client's secret, and its users' file."""

    issuer: str
    client_secret: str
    users_file: Path

    def set_user(self, username: str, groups: list[str], name: str = "Maija Meikäläinen") -> None:
        """Add or change a user at the provider (read again at each sign-in)."""
        users = json.loads(self.users_file.read_text())
        users[username] = {"password": PASSWORD, "name": name, "groups": groups}
        self.users_file.write_text(json.dumps(users))

    def settings(self, base: Settings, **changes: Any) -> Settings:
        """``base`` with single sign-on through this provider."""
        return dataclasses.replace(
            base,
            oidc_issuer=self.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=Secret(self.client_secret),
            oidc_role_map=ROLE_MAP,
            oidc_name="Test IdP",
            **changes,
        )


def _node_modules() -> None:
    if (HERE / "node_modules" / "oidc-provider").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "npm is missing: install Node.js 20 or later (the SSO tests run a real provider)"
        )
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Idp]:
    """The provider process, one per test module."""
    _node_modules()
    users_file = tmp_path_factory.mktemp("idp") / "users.json"
    users_file.write_text("{}")
    secret = secrets.token_urlsafe(24)
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "PORT": "0",
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": secret,
        "REDIRECT_URI": "http://127.0.0.1/v1/auth/oidc/callback",
        "USERS_FILE": str(users_file),
    }
    node = shutil.which("node") or "node"
    process = subprocess.Popen(
        [node, str(HERE / "provider.js")],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening "), f"the provider did not start: {line!r}"
        yield Idp(line.split()[1], secret, users_file)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def sso_client(idp: Idp, settings: Settings) -> AsyncIterator[Client]:
    """callrec on a real port with single sign-on through the test provider."""
    app = create_app(idp.settings(settings), run_worker=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def browser() -> aiohttp.ClientSession:
    """A cookie jar of its own, like a fresh browser (IP hosts keep cookies, as browsers do)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(
    session: aiohttp.ClientSession,
    base_url: str,
    username: str,
    *,
    tamper: bool = False,
) -> aiohttp.ClientResponse:
    """Start at callrec's SSO login, post the provider's form, and follow the redirects
    back; the last answer (``tamper``: with the state changed on the way out)."""
    start = await session.get(f"{base_url}/v1/auth/oidc/login", allow_redirects=False)
    assert start.status == 302, await start.text()
    location = start.headers["Location"]
    if tamper:
        location = re.sub(r"state=[^&]+", "state=forged-by-someone-else", location)
    form_page = await session.get(location)
    assert form_page.status == 200, await form_page.text()
    match = _FORM.search(await form_page.text())
    assert match is not None, "the provider's login form"
    action = str(form_page.url.join(URL(match.group(1))))
    return await session.post(action, data={"login": username, "password": PASSWORD})
