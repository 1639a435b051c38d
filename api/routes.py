"""Every API route, registered in one place: the app serves them and the OpenAPI document is
generated from the same router, so the two cannot list different routes."""

from __future__ import annotations

from aiohttp import web

from api import (
    account_admin,
    audit_routes,
    compliance,
    customers,
    evidence,
    health,
    holds,
    leases,
    login,
    oidc,
    openapi,
    own_account,
    playback,
    recordings,
    redactions,
    review,
    second_factor,
    setup,
    subject_requests,
    training,
    transcripts,
    twilio,
    users,
    webhook,
)


def add_api_routes(app: web.Application) -> None:
    """Register the API's routes (fixed ``/v1/recordings/…`` paths before ``{id}``)."""
    health.add_routes(app)
    login.add_routes(app)
    oidc.add_routes(app)
    own_account.add_routes(app)
    setup.add_routes(app)
    second_factor.add_routes(app)
    users.add_routes(app)
    account_admin.add_routes(app)
    webhook.add_routes(app)
    twilio.add_routes(app)
    review.add_routes(app)
    recordings.add_routes(app)
    playback.add_routes(app)
    transcripts.add_routes(app)
    training.add_routes(app)
    redactions.add_routes(app)
    audit_routes.add_routes(app)
    customers.add_routes(app)
    leases.add_routes(app)
    holds.add_routes(app)
    subject_requests.add_routes(app)
    evidence.add_routes(app)
    compliance.add_routes(app)
    openapi.add_routes(app)
