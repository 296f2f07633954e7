"""Orchestration the CLI and the server share: a source's run, then the derive step; AI share.

Sources, the derive step and analyses stay plain functions that know nothing of each other; this
module is where they meet (STYLE.md, orchestration in one place).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from leadlens import derive
from leadlens.analysis.share import AiShare, share_of
from leadlens.attribution import Rules
from leadlens.config import Settings
from leadlens.derive.forge import clone_warnings, joined_changes
from leadlens.sources.base import QUIET, Progress, RunSummary, Source
from leadlens.sources.git import GitSource, IngestReport
from leadlens.sources.git.blame import blame_ranges, share_ranges
from leadlens.sources.git.client import open_repo
from leadlens.store import Store

__all__ = ["ai_share", "ingest", "ingest_git", "replay_github"]


def ingest(store: Store, source: Source, settings: Settings, progress: Progress = QUIET, *,
           derive_after: bool = True) -> RunSummary:
    """Run ``source`` into ``store``, then (unless ``derive_after`` is false) the derive step over
    every repository whose derived data is stale (those the run changed, and any other)."""
    summary = source.ingest(store, settings, progress)
    _after(store, source, summary, settings, derive_after)
    return summary


def ingest_git(store: Store, paths: Sequence[Path | str], *, settings: Settings | None = None,
               name: str | None = None, branch: str | None = None, line_history: bool = False,
               jobs: int | None = None, progress: Progress = QUIET,
               derive_after: bool = True) -> IngestReport:
    """``ingest`` for local clones, with the git run's per-repository outcomes."""
    settings = settings or Settings()
    source = GitSource(paths, name=name, branch=branch, line_history=line_history, jobs=jobs)
    report = source.ingest(store, settings, progress)
    _after(store, source, report, settings, derive_after)
    return report


def replay_github(store: Store, directory: Path, *, settings: Settings | None = None,
                  rename: Callable[[str], str] | None = None,
                  derive_after: bool = True) -> RunSummary:
    """``ingest`` of recorded GitHub API objects (``DIR/*.jsonl``), offline."""
    from leadlens.sources.github.ingest import GithubReplay  # httpx only when GitHub is asked for

    return ingest(store, GithubReplay(directory, rename), settings or Settings(),
                  derive_after=derive_after)


def _after(store: Store, source: Source, summary: RunSummary, settings: Settings,
           derive_after: bool) -> None:
    forge = source.derives_from == "forge"
    if forge:
        summary.warnings.extend(clone_warnings(store, summary.repos))
    if not derive_after:
        return
    # Every repository of the store whose derived data no longer matches what it was derived from
    # (not only the ones this run touched): a derive killed or skipped earlier, a changed setting.
    for done in derive.refresh(store, settings):
        summary.derived(done.repo, changes=done.changes.changes if done.changes else None,
                        warning=done.changes.warning if done.changes else None, error=done.error,
                        reason=done.reason, how=done.changes.how if done.changes else None)
    if forge:
        for repo in summary.repos:
            summary.changes_joined[repo] = joined_changes(store, repo)
    ran = derive.items(store, settings)
    if ran is not None:
        d = ran.derived
        summary.items = {"items": d.items, "links": d.links, "linked_changes": d.linked_changes}


def ai_share(path: Path, from_rev: str | None, to_rev: str | None, settings: Settings, *,
             releases: bool = False, include: Sequence[str] = (), exclude: Sequence[str] = (),
             detect_moves: bool = False, jobs: int | None = None,
             progress: Callable[[int, int], None] | None = None) -> list[AiShare]:
    """AI share of shipped code in ``path``: lines at ``to_rev`` that commits after ``from_rev``
    wrote, AI vs human (one result per consecutive release pair with ``releases``)."""
    rules = Rules.of(settings.ai)  # a bad rule setting fails before the blame, not after it
    repo = open_repo(path)
    ranges = share_ranges(repo, from_rev, to_rev, releases=releases,
                          release_pattern=settings.git.release_tag_pattern)
    blames = blame_ranges(repo, ranges, include=include, exclude=exclude,
                          detect_moves=detect_moves, jobs=jobs or settings.git.jobs,
                          progress=progress)
    return [share_of(b, rules) for b in blames]
