"""``GET /v1/compliance/evidence``: the compliance figures, read live, for the data protection
officer (the console's evidence page and ``callrec compliance evidence`` show the same)."""

from __future__ import annotations

from aiohttp import web

from accounts.roles import Permission
from api.appkeys import KEYRING, POOL, SCHEDULE, SETTINGS, STORE
from api.auditing import record_access
from api.permissions import requires
from common.errors import ValidationProblem, field_error
from compliance.evidence import Sources, gather_evidence


def sources_of(app: web.Application) -> Sources:
    """The live database, store, settings, keyring and job schedule of the running app."""
    return Sources(app[POOL], app[STORE], app[SETTINGS], app[KEYRING], app[SCHEDULE])


@requires(Permission.READ_COMPLIANCE)
async def evidence(request: web.Request) -> web.Response:
    """Subject requests answered on time, items past retention without a hold (a dry run of
    the sweep), the audit chain's last verification, key versions and headers on old keys,
    calls without the recording notice, unmatched agents and each scheduled job's last
    success. Counts and dates only; the read is audited."""
    if request.query:
        raise ValidationProblem(
            [field_error(name, "this route takes no query parameters") for name in request.query]
        )
    figures = await gather_evidence(sources_of(request.app))
    await record_access(request, "compliance.evidence")
    return web.json_response(figures)


def add_routes(app: web.Application) -> None:
    """Register the evidence route."""
    app.router.add_get("/v1/compliance/evidence", evidence)
