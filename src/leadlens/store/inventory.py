"""What the store holds per repository: commits, people, time span, tags, pull requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leadlens.store.db import Store

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
    pull_requests: int


# One aggregate pass over each table, in plain SQL: the summary follows every `ingest`, so it must
# cost a query, not Ibis' import and compilation (most of a no-op ingest's time when it did). A
# repository known from forge data alone (pull requests, no clone) is listed too, with no commits.
_INVENTORY = """
WITH per_repo AS (
    SELECT repo,
           count(*) FILTER (WHERE reachable) AS commits,
           count(*) FILTER (WHERE NOT reachable) AS unreachable,
           count(*) FILTER (WHERE is_merge AND reachable) AS merges,
           count(DISTINCT author_email) FILTER (WHERE reachable) AS authors,
           min(author_time) FILTER (WHERE reachable) AS first_commit,
           max(author_time) FILTER (WHERE reachable) AS last_commit,
           count(*) FILTER (WHERE line_history) AS with_line_history,
           count(*) FILTER (WHERE len(date_flags) > 0) AS flagged_dates
    FROM commits GROUP BY repo),
tag_counts AS (SELECT repo, count(*) AS tags FROM tags GROUP BY repo),
pr_counts AS (SELECT repo, count(*) AS pull_requests FROM pull_requests GROUP BY repo),
known AS (SELECT repo FROM repos UNION SELECT repo FROM pr_counts)
SELECT k.repo, r.default_branch, coalesce(c.commits, 0), coalesce(c.unreachable, 0),
       coalesce(c.merges, 0), coalesce(c.authors, 0), c.first_commit, c.last_commit,
       coalesce(t.tags, 0), coalesce(c.with_line_history, 0), coalesce(c.flagged_dates, 0),
       coalesce(p.pull_requests, 0)
FROM known k LEFT JOIN repos r USING (repo) LEFT JOIN per_repo c USING (repo)
     LEFT JOIN tag_counts t USING (repo) LEFT JOIN pr_counts p USING (repo)
ORDER BY k.repo
"""


def inventory(store: Store) -> list[RepoInventory]:
    """One row per repository the store knows, by name."""
    return [RepoInventory(*row) for row in store.con.execute(_INVENTORY).fetchall()]
