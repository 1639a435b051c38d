"""Serve the console and give every response the browser-hardening headers.

The console is a few static files (no build step, no CDN: every byte comes from callrec)
that call the JSON API with the cookie session. Files are served from an allowlist read
at start-up, so no request path ever reaches the filesystem. The Content-Security-Policy
allows scripts, styles, media and connections from callrec's own origin only and no
inline script at all, which is what makes an injected ``<script>`` inert.

The one exception is a style nonce on the page itself: the waveform player (wavesurfer.js,
vendored from npm, see ``static/wavesurfer.LICENSE.txt``) draws inside a shadow root whose
``<style>`` element the browser would otherwise refuse. The nonce is fresh per page load and
admits styles only, never scripts.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Final

from aiohttp import web

from api.permissions import public
from console import privacy, vocabulary

STATIC: Final = Path(__file__).parent / "static"
TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
ASSETS: Final = {  # read once: a handful of small files, served from memory
    **{
        path.name: (path.read_bytes(), TYPES[path.suffix])
        for path in sorted(STATIC.iterdir())
        if path.suffix in TYPES
    },
    "vocabulary.js": (vocabulary.module(), TYPES[".js"]),  # generated, not a file
}
STYLE_NONCE_SLOT: Final = b"{{style-nonce}}"


def content_security_policy(style_nonce: str | None = None) -> str:
    """The policy; ``style_nonce`` admits the player's shadow-root stylesheet on the page."""
    styles = "style-src 'self'" + (f" 'nonce-{style_nonce}'" if style_nonce else "")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            styles,
            "img-src 'self' data:",
            "media-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


HARDENING: Final = {
    "Content-Security-Policy": content_security_policy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _file(name: str) -> web.Response:
    if name not in ASSETS:
        raise web.HTTPNotFound(text="no such console file")
    body, content_type = ASSETS[name]
    return web.Response(
        body=body, headers={"Content-Type": content_type, "Cache-Control": "no-cache"}
    )


@public("the console's page; it holds no data until the user logs in")
async def page(request: web.Request) -> web.Response:
    """``GET /``: the console (login, then the pages the user's role allows)."""
    nonce = secrets.token_urlsafe(18)
    body, content_type = ASSETS["index.html"]
    return web.Response(
        body=body.replace(STYLE_NONCE_SLOT, nonce.encode()),
        headers={
            "Content-Type": content_type,
            "Cache-Control": "no-store",
            "Content-Security-Policy": content_security_policy(nonce),
        },
    )


@public("console scripts and styles; no data")
async def asset(request: web.Request) -> web.Response:
    """``GET /console/{name}``: one file of the console."""
    return _file(request.match_info["name"])


async def harden(request: web.Request, response: web.StreamResponse) -> None:
    """Add the hardening headers to every response, errors included."""
    for name, value in HARDENING.items():
        response.headers.setdefault(name, value)


def add_routes(app: web.Application) -> None:
    """Register the console's routes and the hardening signal."""
    app.router.add_get("/", page)
    app.router.add_get("/console/{name}", asset)
    privacy.add_routes(app)
    app.on_response_prepare.append(harden)
