"""The console's files: served by callrec itself, behind a strict Content-Security-Policy."""

from __future__ import annotations

import re

import pytest

from console.routes import ASSETS
from tests.api.sessions import Client


async def test_the_page_and_its_assets_come_from_callrec_with_strict_headers(
    client: Client,
) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert page.content_type == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    html = await page.text()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts
    assert all('src="/console/' in tag for tag in scripts)  # no inline script at all
    assert '<link rel="icon" href="data:,">' in html  # no request for /favicon.ico, no 404
    assert "img-src 'self' data:" in policy  # which the policy admits

    for name, content_type in [("app.js", "text/javascript"), ("app.css", "text/css")]:
        asset = await client.get(f"/console/{name}")
        assert asset.status == 200
        assert asset.content_type == content_type


def test_no_asset_loads_anything_from_elsewhere() -> None:
    xml_namespace = rb"http://www\.w3\.org/[0-9]{4}/[a-z]+"  # an identifier, never fetched
    for name, (body, _type) in ASSETS.items():
        assert not re.search(rb"https?://", re.sub(xml_namespace, b"", body)), name


async def test_the_page_admits_the_players_styles_by_a_fresh_nonce_only(client: Client) -> None:
    nonces = []
    for _ in range(2):
        page = await client.get("/")
        policy = page.headers["Content-Security-Policy"]
        match = re.search(r"style-src 'self' 'nonce-([A-Za-z0-9_-]{16,})'", policy)
        assert match, policy
        assert f'<meta name="style-nonce" content="{match[1]}">' in await page.text()
        assert "script-src 'self';" in policy  # the nonce admits styles, never scripts
        nonces.append(match[1])
    assert nonces[0] != nonces[1]
    api_answer = await client.get("/v1/auth/me")
    assert "nonce" not in api_answer.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name", ["nope.js", "..%2Fpyproject.toml", "routes.py", "__init__.py"])
async def test_only_listed_console_files_are_served(client: Client, name: str) -> None:
    response = await client.get(f"/console/{name}")
    assert response.status == 404
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


async def test_api_answers_carry_the_hardening_headers_too(client: Client) -> None:
    response = await client.get("/v1/auth/me")
    assert response.status == 401
    assert response.headers["X-Content-Type-Options"] == "nosniff"
