"""What ``callrec serve`` says on a data directory without an administrator: one line with
the one-time setup link (``accounts.setup``). The token goes to the terminal only, never
through the log, which may be shipped elsewhere; the audit log records that a link was
issued, not the link."""

from __future__ import annotations

import sys

from aiohttp import web

from accounts.setup import issue_setup_token
from api.appkeys import POOL, SETTINGS
from audit.log import SYSTEM, AuditEvent, record

WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - compared against, not bound


def setup_link(host: str, port: int, token: str) -> str:
    """The link to open: a wildcard listen address becomes ``localhost``."""
    shown = "localhost" if host in WILDCARDS else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/#/setup?token={token}"


async def announce_setup(app: web.Application) -> None:
    """On start-up: when no administrator exists, issue a setup token and print its link."""
    token = await issue_setup_token(app[POOL])
    if token is None:
        return
    await record(app[POOL], AuditEvent("setup.link_issued", "ok", SYSTEM))
    settings = app[SETTINGS]
    link = setup_link(settings.host, settings.port, token)
    print(
        f"callrec: no administrator yet: open {link} within an hour to create one",
        file=sys.stderr,
        flush=True,
    )
