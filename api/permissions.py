"""What each route requires, declared on the handler (deny by default).

Every route declares what it needs with :func:`requires` or :func:`public`. A route that
declares nothing is refused for everyone, so forgetting a declaration fails closed. The role
table itself is :mod:`accounts.roles`; object-level checks (which customer, which recording)
live next to the queries that load the objects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from accounts.roles import Permission
from common.errors import Problem

log = logging.getLogger(__name__)


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


_BEFORE_ENROLMENT: set[Callable[..., object]] = set()


def open_before_enrolment(handler: Handler) -> Handler:
    """Declare a handler that a session which must first enrol a second factor may call
    (enrolment itself, who-am-I, logout); every other route refuses such a session."""
    _BEFORE_ENROLMENT.add(handler)
    return handler


def is_open_before_enrolment(handler: Callable[..., object]) -> bool:
    """Whether :func:`open_before_enrolment` declared ``handler``."""
    return handler in _BEFORE_ENROLMENT


def requirement_of(handler: Callable[..., object]) -> Requirement | None:
    """What a handler declared (None: nothing, so it is refused)."""
    return _DECLARED.get(handler)


class Forbidden(Problem):
    """403: authenticated, but the role does not allow this."""

    status = 403
    slug = "forbidden"
    title = "Not allowed for your role"


class EnrolmentRequired(Forbidden):
    """403: the account's role needs two-factor sign-in, and it has none yet."""

    slug = "second-factor-required"
    title = "Enrol two-factor sign-in first"


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
