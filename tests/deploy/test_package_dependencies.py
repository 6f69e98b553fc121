"""Every image installs one package and pulse-common with their declared dependencies (each
Dockerfile: `pip install --constraint requirements.lock ./libs ./services/<name>`), so every module a
package ships may import only the standard library, its own package, pulse-common, and what their
pyproject.toml files declare (with those packages' own dependencies). An import outside that set is
a command that fails in the image."""

from __future__ import annotations

import ast
import importlib.metadata as md
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "pulse_common": REPO / "libs",
    "pulse_producer": REPO / "services" / "producer",
    "pulse_enricher": REPO / "services" / "enricher",
    "pulse_indexer": REPO / "services" / "indexer",
    "pulse_dashboard": REPO / "services" / "dashboard",
}
FIRST_PARTY = {"pulse-common": "pulse_common", "pulse-producer": "pulse_producer",
               "pulse-enricher": "pulse_enricher", "pulse-indexer": "pulse_indexer",
               "pulse-dashboard": "pulse_dashboard"}


# pulse-common's modules that need one of its extras (pyproject.toml [project.optional-dependencies]).
LIBS_MODULES_NEEDING_EXTRAS = {"pulse_common.kcl": "kcl", "pulse_common.kcl_batch": "kcl"}


def project(project_dir: Path) -> dict:
    return tomllib.loads((project_dir / "pyproject.toml").read_text())["project"]


def declared(project_dir: Path) -> list[Requirement]:
    return [Requirement(text) for text in project(project_dir).get("dependencies", [])]


def libs_extra(extra: str) -> list[Requirement]:
    return [Requirement(text) for text in project(PACKAGES["pulse_common"])["optional-dependencies"][extra]]


def installed_closure(requirements: list[Requirement]) -> set[str]:
    """The distributions pip installs for these requirements (their dependencies, extras included)."""
    visited: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonicalize_name(r.name), frozenset(r.extras)) for r in requirements]
    while todo:
        name, extras = todo.pop()
        if name in FIRST_PARTY or (name, extras) in visited:
            continue
        visited.add((name, extras))
        for text in md.requires(name) or []:
            req = Requirement(text)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in environments):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return {name for name, _extras in visited}


def imported_top_levels(package_dir: Path) -> dict[str, set[str]]:
    """Top-level module name -> the files importing it (absolute imports, anywhere in the file)."""
    found: dict[str, set[str]] = {}
    for path in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(REPO)))
                if name in LIBS_MODULES_NEEDING_EXTRAS:
                    found.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return found


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_import_of_a_package_is_installed_in_its_image(package):
    project_dir = PACKAGES[package]
    requirements = declared(project_dir)
    if package == "pulse_common":
        requirements += [r for extra in set(LIBS_MODULES_NEEDING_EXTRAS.values()) for r in libs_extra(extra)]
    else:
        requirements += declared(PACKAGES["pulse_common"])
    allowed_dists = installed_closure(requirements)
    modules_to_dists = md.packages_distributions()
    problems = []
    for module, files in sorted(imported_top_levels(project_dir / "src" / package).items()):
        if module in LIBS_MODULES_NEEDING_EXTRAS:
            extra = LIBS_MODULES_NEEDING_EXTRAS[module]
            if not {canonicalize_name(r.name) for r in libs_extra(extra)} <= allowed_dists:
                problems.append(f"{module} needs pulse-common[{extra}]: imported by {sorted(files)}")
            continue
        if module in sys.stdlib_module_names or module in {package, "pulse_common"}:
            continue
        if module.startswith("pulse_"):
            problems.append(f"{module} (another Pulse package) imported by {sorted(files)}")
            continue
        dists = {canonicalize_name(d) for d in modules_to_dists.get(module, [])}
        if not dists & allowed_dists:
            what = ", ".join(sorted(dists)) or "not installed"
            problems.append(f"{module} ({what}) imported by {sorted(files)}")
    assert not problems, f"{package}: imports its image does not install:\n" + "\n".join(problems)
