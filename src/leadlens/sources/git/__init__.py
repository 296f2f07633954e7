"""The git source: a local clone's history (commits, files, refs, tags, line history).

The ingest (and the store and DuckDB under it) loads when one of its names is first used, so
that ``leadlens gate``, which needs only ``sources.git.diff``, starts without them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadlens.sources.git.ingest import GitSource, IngestReport, RepoOutcome, ingest_git

__all__ = ["GitSource", "IngestReport", "RepoOutcome", "ingest_git"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("leadlens.sources.git.ingest"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
