"""The git source: a local clone's history (commits, files, refs, tags, line history)."""

from leadlens.sources.git.ingest import GitSource, IngestReport, RepoOutcome, ingest_git

__all__ = ["GitSource", "IngestReport", "RepoOutcome", "ingest_git"]
