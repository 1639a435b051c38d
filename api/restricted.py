"""A session with a one-time password may do nothing but change it (and see who it is,
and log out): every other route answers 403 ``password-change-required``.

Routes open to such a session say so with :func:`while_password_change`; all others are
closed to it, so a new route is closed by default.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from accounts.users import User
from common.errors import Problem

_OPEN: set[Callable[..., object]] = set()


class PasswordChangeRequired(Problem):
    """403: the account has a one-time password from an administrator's reset."""

    status = 403
    slug = "password-change-required"
    title = "Change your password first"


def while_password_change(handler: Handler) -> Handler:
    """Declare a route that a session with a one-time password may still use."""
    _OPEN.add(handler)
    return handler


def check_password_change(request: web.Request, user: User) -> None:
    """Refuse the request when the user must change a one-time password and the route is
    not one of the few open meanwhile."""
    if not user.must_change_password:
        return
    handler = getattr(request.match_info, "handler", None)
    if handler not in _OPEN:
        raise PasswordChangeRequired(
            "this account has a one-time password: set your own with "
            'POST /v1/auth/password {"current", "new"} before anything else'
        )
