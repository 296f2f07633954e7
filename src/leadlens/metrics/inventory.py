"""What the store holds per repository: commits, people, time span, tags, line history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis

__all__ = ["RepoInventory", "inventory"]


@dataclass(frozen=True)
class RepoInventory:
    repo: str
    default_branch: str | None
    commits: int  # reachable from some ref
    unreachable: int
    merges: int
    authors: int
    first_commit: datetime | None
    last_commit: datetime | None
    tags: int
    with_line_history: int
    flagged_dates: int


def inventory(con: ibis.BaseBackend) -> list[RepoInventory]:
    repos = con.table("repos")
    commits = con.table("commits")
    tags = con.table("tags")
    live = commits.reachable
    per_repo = commits.group_by("repo").aggregate(
        commits=live.sum().cast("int64"),
        unreachable=(~live).sum().cast("int64"),
        merges=(commits.is_merge & live).sum().cast("int64"),
        authors=commits.author_email.nunique(where=live),
        first_commit=commits.author_time.min(where=live),
        last_commit=commits.author_time.max(where=live),
        with_line_history=commits.line_history.sum().cast("int64"),
        flagged_dates=(commits.date_flags.length() > 0).sum().cast("int64"),
    )
    tag_counts = tags.group_by("repo").aggregate(tags=tags.count())
    expr = (
        repos.left_join(per_repo, repos.repo == per_repo.repo)
        .left_join(tag_counts, repos.repo == tag_counts.repo)
        .select(
            repos.repo, repos.default_branch, per_repo.commits, per_repo.unreachable,
            per_repo.merges, per_repo.authors, per_repo.first_commit, per_repo.last_commit,
            tag_counts.tags, per_repo.with_line_history, per_repo.flagged_dates,
        )
        .order_by("repo")
    )
    rows = expr.to_pyarrow().to_pylist()
    return [
        RepoInventory(
            repo=r["repo"], default_branch=r["default_branch"], commits=r["commits"] or 0,
            unreachable=r["unreachable"] or 0, merges=r["merges"] or 0, authors=r["authors"] or 0,
            first_commit=r["first_commit"], last_commit=r["last_commit"], tags=r["tags"] or 0,
            with_line_history=r["with_line_history"] or 0, flagged_dates=r["flagged_dates"] or 0,
        )
        for r in rows
    ]
