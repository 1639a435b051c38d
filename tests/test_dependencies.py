"""Every runtime dependency in pyproject.toml is imported by the service's own code.

A declared package that nothing imports is still installed in production, patched and
audited; pydub sat there unused while the pipeline talked to ffmpeg through pipes.
"""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_SERVICE = {"tests", "bench", ".venv", "var", ".git"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    """The runtime dependencies' distribution names, normalised."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        _normal(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in project["dependencies"]
    }


def imported_modules() -> set[str]:
    """The top-level modules that the service's own files import."""
    modules: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if NOT_SERVICE & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules


def test_every_declared_dependency_is_imported() -> None:
    distributions = packages_distributions()
    used = {_normal(d) for m in imported_modules() for d in distributions.get(m, [])}
    assert declared() - used == set()


def our_packages() -> list[str]:
    """The top-level packages callrec installs (pyproject's find-include list)."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return [name.rstrip("*") for name in setuptools["packages"]["find"]["include"]]


def test_no_other_distribution_installs_our_top_level_names() -> None:
    """callrec keeps short top-level names (see README, Layout); this catches a clash.

    A second distribution that also installs, say, `api` would silently shadow ours or be
    shadowed in the same environment; the test fails naming it instead.
    """
    distributions = packages_distributions()
    clashes = {
        name: others
        for name in our_packages()
        if (others := sorted({_normal(d) for d in distributions.get(name, [])} - {"callrec"}))
    }
    assert clashes == {}
