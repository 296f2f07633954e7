"""The git source: a local clone's history (commits, files, refs, tags, line history)."""

from leadlens.sources.git.ingest import IngestReport, RepoOutcome, ingest_git

__all__ = ["IngestReport", "RepoOutcome", "ingest_git"]
