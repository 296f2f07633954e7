"""DESIGN.md's layer table ("Layout") as code: every leadlens import, read with ast, runs one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# The table of DESIGN.md, row for row. A layer may always import itself (metrics.flow may import
# metrics.review); "sources.*" is any one source subpackage (sources/git/, sources/github/, ...),
# "sources" the part every source shares (sources/__init__.py, base.py, http.py).
ANYTHING = "anything"
# Base modules, and leadlens/__init__.py.
BASE_MODULES = {"errors", "conventions", "attribution", "model", "config", "patterns"}
SOURCES_SHARED = {"base", "http"}
LAYERS: dict[str, set[str]] = {
    "base": set(),  # each other only
    "sources": {"base", "store"},
    "sources.*": {"base", "store", "sources"},  # never another source
    "store": {"base"},
    "derive": {"base", "store"},
    "timeline": {"base"},
    "engines": {"base", "store"},
    "metrics": {"base", "store", "derive", "timeline", "engines"},
    "analysis": {"base", "timeline", "metrics", "engines"},
    "policy": {"base", "metrics", "analysis", "engines"},
    "report": {"base", "analysis", "metrics", "timeline", "engines"},
    "pipeline": {"base", "sources", "sources.*", "derive", "store", "analysis"},
    "cli": {ANYTHING},
    "server": {ANYTHING},
    "__main__": {ANYTHING},  # it just calls cli.main
}

# `import duckdb` belongs to the store, derive and the engine seam. DUCKDB_DEBT is what still
# carries it today; the Spark work shrinks it, and a module that is paid off must leave the list.
DUCKDB_HOME = ("leadlens/store/", "leadlens/derive/", "leadlens/engines.py")
DUCKDB_DEBT = {
    "leadlens/metrics/ai.py",
    "leadlens/metrics/dora.py",
    "leadlens/metrics/review.py",
}


def module_name(path: str) -> str:
    """'leadlens/store/db.py' -> 'leadlens.store.db'; a package's __init__.py is the package."""
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def tree() -> dict[str, str]:
    """Every module under src/leadlens: path relative to src -> source text."""
    return {p.relative_to(SRC).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted((SRC / "leadlens").rglob("*.py"))}


MODULES = frozenset(module_name(path) for path in tree())


def layer_of(module: str) -> str | None:
    """The layer (a row of LAYERS, or 'sources.<name>') of a dotted leadlens module; None if unknown."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in BASE_MODULES:
        return "base"
    if parts[0] == "sources":
        return "sources" if len(parts) == 1 or parts[1] in SOURCES_SHARED else f"sources.{parts[1]}"
    return parts[0] if parts[0] in LAYERS else None


def row(layer: str) -> str:
    return "sources.*" if layer.startswith("sources.") else layer


def leadlens_imports(path: str, source: str, modules: frozenset[str]) -> list[tuple[int, str]]:
    """(line, module) for every import of leadlens anywhere in the file: in functions, under
    TYPE_CHECKING, relative ones resolved against the importer's package."""
    package = module_name(path).split(".")
    if not path.endswith("__init__.py"):
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parent = node.module or ""
            if node.level:  # `from ..metrics import flow` in leadlens/store/x.py: leadlens.metrics
                anchor = package[:len(package) - node.level + 1]
                parent = ".".join([*anchor, node.module] if node.module else anchor)
            # `from leadlens import pipeline` imports a module; `from leadlens import __version__` a name
            found += [(node.lineno, f"{parent}.{a.name}" if f"{parent}.{a.name}" in modules else parent)
                      for a in node.names]
    return [(line, name) for line, name in found if name == "leadlens" or name.startswith("leadlens.")]


def unknown(path: str, module: str, line: int | None = None) -> str:
    where = f"{path}:{line}" if line else path
    return (f"{where}: {module} is in no layer: add it to LAYERS in tests/test_layers.py "
            "and to the layer table in DESIGN.md")


def arrow_violations(path: str, source: str, modules: frozenset[str] = MODULES) -> list[str]:
    """One readable line per import of `source` (a module at `path`) that the layer table forbids."""
    importer = layer_of(module_name(path))
    if importer is None:
        return [unknown(path, module_name(path))]
    problems = []
    for line, target in leadlens_imports(path, source, modules):
        imported = layer_of(target)
        if imported is None:
            problems.append(unknown(path, target, line))
            continue
        allowed = LAYERS[row(importer)]
        if imported == importer or ANYTHING in allowed or row(imported) in allowed:
            continue
        may = ", ".join(sorted(allowed)) or "nothing outside itself"
        problems.append(f"{path}:{line}: {importer} -> {imported} (imports {target}) runs against "
                        f"DESIGN.md's table: {row(importer)} may import {may}")
    return problems


def imports_duckdb(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        if any(name == "duckdb" or name.startswith("duckdb.") for name in names):
            return True
    return False


def test_every_import_runs_the_way_the_layer_table_draws() -> None:
    problems = [p for path, source in tree().items() for p in arrow_violations(path, source)]
    assert not problems, "\n".join(problems)


def test_duckdb_is_imported_only_where_the_allow_list_says() -> None:
    importers = {path for path, source in tree().items() if imports_duckdb(source)}
    stray = sorted(p for p in importers - DUCKDB_DEBT if not p.startswith(DUCKDB_HOME))
    assert not stray, f"import duckdb belongs in {', '.join(DUCKDB_HOME)}; found in {stray}"
    paid = sorted(DUCKDB_DEBT - importers)
    assert not paid, f"{paid} no longer import duckdb: remove them from DUCKDB_DEBT in tests/test_layers.py"


@pytest.mark.parametrize(("path", "source", "arrow"), [
    ("leadlens/store/x.py", "import leadlens.metrics.flow", "store -> metrics"),
    ("leadlens/store/x.py", "from ..metrics import flow", "store -> metrics"),
    ("leadlens/store/x.py", "from .. import pipeline", "store -> pipeline"),
    ("leadlens/sources/git/x.py", "from leadlens.sources.github.mapping import f",
     "sources.git -> sources.github"),
    ("leadlens/sources/github/x.py", "from ..git import client", "sources.github -> sources.git"),
    ("leadlens/sources/base.py", "from leadlens.sources.git import GitSource", "sources -> sources.git"),
    ("leadlens/errors.py", "from leadlens.store import Store", "base -> store"),
    ("leadlens/analysis/x.py", "def f():\n    from leadlens.store.db import Store", "analysis -> store"),
    ("leadlens/timeline.py", "if TYPE_CHECKING:\n    from leadlens.metrics.flow import Flow",
     "timeline -> metrics"),
    ("leadlens/metrics/x.py", "from leadlens.report.model import Report", "metrics -> report"),
])
def test_a_back_arrow_is_reported_with_file_line_and_arrow(path: str, source: str, arrow: str) -> None:
    (problem,) = arrow_violations(path, "import os\n" + source)
    line = source.count("\n") + 2  # the forbidden import is the snippet's last line
    assert problem.startswith(f"{path}:{line}: {arrow} (imports leadlens.")


@pytest.mark.parametrize(("path", "source"), [
    ("leadlens/metrics/flow.py", "from leadlens.metrics.review import activity"),
    ("leadlens/metrics/x.py", "from . import flow\nfrom ..engines import batches"),
    ("leadlens/sources/git/x.py", "from . import parse\nfrom ..base import Progress\nimport leadlens.store"),
    ("leadlens/sources/__init__.py", "from .base import Source\nfrom leadlens import config"),
    ("leadlens/report/x.py", "from leadlens import __version__"),
    ("leadlens/pipeline.py", "from leadlens.sources.github.ingest import GithubReplay"),
    ("leadlens/cli/x.py", "from leadlens.sources.git import GitSource\nfrom leadlens.report import html"),
    ("leadlens/store/x.py", "import os\nfrom collections import abc"),
])
def test_arrows_the_table_draws_pass(path: str, source: str) -> None:
    assert arrow_violations(path, source) == []


def test_a_module_in_no_layer_is_named_with_where_to_add_it() -> None:
    (problem,) = arrow_violations("leadlens/newthing/x.py", "")
    assert "leadlens.newthing.x is in no layer" in problem and "DESIGN.md" in problem
    (problem,) = arrow_violations("leadlens/metrics/x.py", "import leadlens.newthing")
    assert problem.startswith("leadlens/metrics/x.py:1: leadlens.newthing is in no layer")


@pytest.mark.parametrize(("source", "expected"), [
    ("import duckdb", True), ("from duckdb import DuckDBPyConnection", True),
    ("def f():\n    import duckdb.typing", True), ("import ibis", False), ("from .duckdb import x", False),
])
def test_duckdb_imports_are_found(source: str, expected: bool) -> None:
    assert imports_duckdb(source) is expected
