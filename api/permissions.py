"""Task-specific roles and the one middleware that enforces them (deny by default).

Every route declares what it needs with :func:`requires` or :func:`public`. A route that
declares nothing is refused for everyone, so forgetting a declaration fails closed. The role
table is ARCHITECTURE.md section 5; object-level checks (which customer, which recording)
live next to the queries that load the objects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from common.errors import Problem

log = logging.getLogger(__name__)


class Permission(StrEnum):
    """One thing a person may do."""

    MANAGE_USERS = "users:manage"
    READ_REGISTER = "register:read"
    WRITE_REGISTER = "register:write"
    LIST_RECORDINGS = "recordings:list"
    LIST_TRAINING_RECORDINGS = "recordings:list-training"
    LINK_RECORDINGS = "recordings:link"
    PLAY_RECORDINGS = "recordings:play"
    DOWNLOAD_RECORDINGS = "recordings:download"
    RELEASE_FOR_TRAINING = "recordings:release"
    CREATE_SUBJECT_REQUESTS = "subject-requests:create"
    MANAGE_SUBJECT_REQUESTS = "subject-requests:manage"
    MANAGE_LEGAL_HOLDS = "legal-holds:manage"
    READ_AUDIT = "audit:read"


ROLES: Final = ("admin", "customer_service", "trainer", "dpo", "housing_advisor")

ROLE_PERMISSIONS: Final[dict[str, frozenset[Permission]]] = {
    "admin": frozenset({Permission.MANAGE_USERS}),
    "customer_service": frozenset(
        {
            Permission.READ_REGISTER,
            Permission.WRITE_REGISTER,
            Permission.LIST_RECORDINGS,
            Permission.LINK_RECORDINGS,
            Permission.PLAY_RECORDINGS,
            Permission.CREATE_SUBJECT_REQUESTS,
        }
    ),
    "trainer": frozenset({Permission.LIST_TRAINING_RECORDINGS, Permission.PLAY_RECORDINGS}),
    "dpo": frozenset(
        {
            Permission.READ_REGISTER,
            Permission.LIST_RECORDINGS,
            Permission.PLAY_RECORDINGS,
            Permission.DOWNLOAD_RECORDINGS,
            Permission.RELEASE_FOR_TRAINING,
            Permission.CREATE_SUBJECT_REQUESTS,
            Permission.MANAGE_SUBJECT_REQUESTS,
            Permission.MANAGE_LEGAL_HOLDS,
            Permission.READ_AUDIT,
        }
    ),
    "housing_advisor": frozenset({Permission.READ_REGISTER}),
}

# Why a recording may be played, per role: the purpose is part of every audit entry, and a
# role may only claim the purposes of its own task.
PLAY_PURPOSES: Final[dict[str, frozenset[str]]] = {
    "customer_service": frozenset({"verify_content"}),
    "trainer": frozenset({"training"}),
    "dpo": frozenset({"subject_request", "legal"}),
}
ALL_PURPOSES: Final = ("verify_content", "training", "subject_request", "legal")


@dataclass(frozen=True)
class Public:
    """Marker: the route authenticates itself (webhook signature, one-time token) or is open."""

    reason: str


@dataclass(frozen=True)
class AnyUser:
    """Marker: any logged-in user, whatever the role (logout, who-am-I)."""


Requirement = frozenset[Permission] | Public | AnyUser
_DECLARED: dict[Callable[..., object], Requirement] = {}


def requires(*permissions: Permission) -> Callable[[Handler], Handler]:
    """Declare the permission a handler needs (any one of several, when more are given).

    A handler open to several permissions narrows what it shows by the caller's own
    permissions (the trainer's view of recordings is masked, for instance).
    """

    def mark(handler: Handler) -> Handler:
        _DECLARED[handler] = frozenset(permissions)
        return handler

    return mark


def public(reason: str) -> Callable[[Handler], Handler]:
    """Declare a handler that needs no staff session, and why."""

    def mark(handler: Handler) -> Handler:
        _DECLARED[handler] = Public(reason)
        return handler

    return mark


def any_user(handler: Handler) -> Handler:
    """Declare a handler open to every logged-in user."""
    _DECLARED[handler] = AnyUser()
    return handler


def requirement_of(handler: Callable[..., object]) -> Requirement | None:
    """What a handler declared (None: nothing, so it is refused)."""
    return _DECLARED.get(handler)


def purposes_of(roles: tuple[str, ...]) -> frozenset[str]:
    """The playback purposes the union of ``roles`` may claim."""
    granted: set[str] = set()
    for role in roles:
        granted |= PLAY_PURPOSES.get(role, frozenset())
    return frozenset(granted)


def permissions_of(roles: list[str]) -> frozenset[Permission]:
    """Everything the union of ``roles`` allows."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


class Forbidden(Problem):
    """403: authenticated, but the role does not allow this."""

    status = 403
    slug = "forbidden"
    title = "Not allowed for your role"


class NotAuthenticated(Problem):
    """401: no valid session."""

    status = 401
    slug = "unauthenticated"
    title = "Log in first"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="callrec"'})


def route_requirement(request: web.Request) -> Requirement | None:
    """The matched route's declaration; None when the route matched nothing (404/405)."""
    handler = getattr(request.match_info, "handler", None)
    if handler is None or request.match_info.http_exception is not None:
        return Public("no route matched; the router answers")
    return requirement_of(handler)
