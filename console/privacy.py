"""``GET /privacy``: the privacy notices of both registers as one page for the public.

Plain HTML that needs no script (the notice must reach everyone, also a screen reader or a
printer), in the language asked with ``?lang=`` or else the browser's (Finnish first).
Each console page links here from its footer.
"""

from __future__ import annotations

from aiohttp import web

from api.appkeys import SETTINGS
from api.compliance import html_response, live_facts, requested_language
from api.permissions import public
from compliance.notice import build_notice
from compliance.organisation import REGISTERS
from compliance.render import html_page
from rights.wording import Language


def _link(language: Language) -> str:
    return f"/privacy?lang={language}"


@public("the privacy notices are published for everyone; they hold no personal data")
async def privacy_page(request: web.Request) -> web.Response:
    """``GET /privacy``: both registers' privacy notices (``?lang=fi|sv|en``)."""
    language = requested_language(request)
    facts = await live_facts(request)
    notices = [build_notice(register, facts, language) for register in REGISTERS]
    zone = request.app[SETTINGS].timezone
    return html_response(html_page(notices, language, zone, _link), language)


def add_routes(app: web.Application) -> None:
    """Register the public privacy page."""
    app.router.add_get("/privacy", privacy_page)
