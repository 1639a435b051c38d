"""The compliance documents over HTTP: privacy notices (public) and the Art. 30 record (dpo).

Both are generated per request from the live settings, the role table, the disclosure log
and the organisation profile, so what they say is what the service does right now.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeVar

from aiohttp import web

from accounts.roles import Permission
from api.appkeys import ORGANISATION, POOL, SETTINGS
from api.permissions import public, requires
from common.errors import ValidationProblem, field_error
from compliance.content import Facts, gather
from compliance.notice import build_notice
from compliance.organisation import REGISTERS
from compliance.record import record_csv, record_of_processing
from compliance.render import CONTENT_SECURITY_POLICY, as_json, html_page, markdown
from rights.wording import LANGUAGES, Language

T = TypeVar("T", bound=str)
NOTICE_FORMATS: Final = ("html", "md", "json")
RECORD_FORMATS: Final = ("json", "csv")


def choice(query: Mapping[str, str], name: str, choices: tuple[T, ...], default: T | None) -> T:
    """The query parameter ``name``, one of ``choices``; 422 naming it when it is not."""
    raw = query.get(name)
    if raw is None and default is not None:
        return default
    for option in choices:
        if raw == option:
            return option
    wanted = "missing; give" if raw is None else "must be"
    raise ValidationProblem([field_error(name, f"{wanted} one of {', '.join(choices)}")])


def preferred_language(header: str | None) -> Language:
    """The language ``Accept-Language`` prefers most among ours; Finnish on ties or none."""
    best: tuple[float, int] = (0.0, 0)
    chosen: Language = "fi"
    for part in (header or "").split(","):
        tag, *params = part.strip().split(";")
        q = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        for rank, language in enumerate(LANGUAGES):  # fi, sv, en: the earlier wins a tie
            if primary == language and 0.0 < q <= 1.0 and (q, -rank) > best:
                best, chosen = (q, -rank), language
    return chosen


def requested_language(request: web.Request) -> Language:
    """``?lang=``, else the browser's preference (Finnish first)."""
    preferred = preferred_language(request.headers.get("Accept-Language"))
    return choice(request.query, "lang", LANGUAGES, preferred)


async def live_facts(request: web.Request) -> Facts:
    """The facts as they are now: settings, profile, disclosure log."""
    app = request.app
    return await gather(app[POOL], app[SETTINGS], app[ORGANISATION])


def html_response(body: str, language: Language) -> web.Response:
    """A notice page: its own policy (the inline stylesheet by hash, no script at all)."""
    return web.Response(
        text=body,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Content-Language": language,
            "Vary": "Accept-Language",
            "Cache-Control": "no-cache",
        },
    )


@public("the privacy notice is published for everyone; it holds no personal data")
async def privacy_notice(request: web.Request) -> web.Response:
    """``GET /v1/compliance/privacy-notice``: one register's privacy notice
    (``register=call_recordings|customers``, ``lang=fi|sv|en``, ``format=html|md|json``)."""
    register = choice(request.query, "register", REGISTERS, None)
    language = requested_language(request)
    output = choice(request.query, "format", NOTICE_FORMATS, "json")
    notice = build_notice(register, await live_facts(request), language)
    zone = request.app[SETTINGS].timezone
    if output == "json":
        return web.json_response(as_json(notice), headers={"Content-Language": language})
    if output == "md":
        return web.Response(
            text=markdown(notice, zone),
            content_type="text/markdown",
            charset="utf-8",
            headers={"Content-Language": language},
        )

    def link(other: Language) -> str:
        return f"?register={register}&format=html&lang={other}"

    return html_response(html_page([notice], language, zone, link), language)


@requires(Permission.READ_COMPLIANCE)
async def record_of_processing_route(request: web.Request) -> web.Response:
    """``GET /v1/compliance/record-of-processing``: the GDPR Art. 30(1) record of both
    registers (``format=json|csv``; ``lang=en|fi|sv``, default English)."""
    output = choice(request.query, "format", RECORD_FORMATS, "json")
    language = choice(request.query, "lang", LANGUAGES, "en")
    record = record_of_processing(await live_facts(request), language)
    if output == "json":
        return web.json_response(record)
    return web.Response(
        text=record_csv(record),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="record-of-processing.csv"'},
    )


def add_routes(app: web.Application) -> None:
    """Register the compliance routes."""
    app.router.add_get("/v1/compliance/privacy-notice", privacy_notice)
    app.router.add_get("/v1/compliance/record-of-processing", record_of_processing_route)
