"""Every route says what it is for and, when it reads a JSON body, declares that body's model.

The OpenAPI document is generated from these declarations, so a route without a docstring
has no summary, and a body read without a model is a body the document cannot describe nor
the shared validator check.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from collections.abc import Callable
from functools import cache
from typing import Final

from aiohttp import web

from api.bodies import model_of
from api.routes import add_api_routes

READERS: Final = {"json_object", "json_body"}
# Bodies read without a model (none now); one that is added here must get a model, then leave.
NOT_YET_MODELLED: Final[set[tuple[str, str]]] = set()


def api_routes() -> list[tuple[str, str, Callable[..., object]]]:
    app = web.Application()
    add_api_routes(app)
    return [
        (route.method, route.resource.canonical, route.handler)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    ]


@cache
def _functions(module: str) -> dict[str, ast.AsyncFunctionDef | ast.FunctionDef]:
    tree = ast.parse(inspect.getsource(sys.modules[module]))
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
    }


def _called(node: ast.AST) -> set[str]:
    return {
        call.func.id
        for call in ast.walk(node)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    }


def reads_json(handler: Callable[..., object]) -> bool:
    """Whether the handler, or a function of its module it calls, reads a JSON body."""
    functions = _functions(handler.__module__)
    seen: set[str] = set()
    pending = list(_called(ast.parse(textwrap.dedent(inspect.getsource(handler)))))
    while pending:
        name = pending.pop()
        if name in READERS:
            return True
        if name in seen or name not in functions:
            continue
        seen.add(name)
        pending.extend(_called(functions[name]))
    return False


def test_every_route_has_a_docstring_for_its_summary() -> None:
    missing = [(m, p) for m, p, handler in api_routes() if not (handler.__doc__ or "").strip()]
    assert missing == []


def test_every_route_that_reads_a_json_body_declares_its_model() -> None:
    missing = {
        (method, path)
        for method, path, handler in api_routes()
        if reads_json(handler) and model_of(handler) is None
    }
    assert missing - NOT_YET_MODELLED == set(), "declare the body with api.bodies.takes"
    assert NOT_YET_MODELLED - missing == set(), "modelled now: remove from NOT_YET_MODELLED"


def test_a_route_reads_the_model_it_declares() -> None:
    """``json_body(request, X)`` in a handler that declared ``takes(Y)`` would describe one
    body and check another."""
    wrong = []
    for method, path, handler in api_routes():
        model = model_of(handler)
        if model is None:
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(handler)))
        read = {
            call.args[1].id
            for call in ast.walk(tree)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "json_body"
            and len(call.args) == 2
            and isinstance(call.args[1], ast.Name)
        }
        named = {n for n in read if isinstance(vars(sys.modules[handler.__module__]).get(n), type)}
        if named - {model.__name__}:
            wrong.append((method, path, sorted(read), model.__name__))
    assert wrong == []
