"""Rework rate (LinearB's definition): of the lines a set of changes touches, the share that rewrite
or delete lines less than ``days`` old (docs/metrics-rework.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from leadlens.config import DEFAULT_REWORK_DAYS

__all__ = ["Rework", "rework", "rework_by_change"]


@dataclass(frozen=True)
class Rework:
    rate: float | None  # recent_lines / changed_lines; None when nothing was changed
    recent_lines: int  # old lines rewritten or deleted less than ``days`` after they were written
    changed_lines: int  # every line touched once: rewritten old lines plus purely new lines
    commits_with_history: int  # of ``commits``, those whose line history is stored
    commits: int  # the scope's non-merge commits (merges carry no hunks)
    days: float


def rework(backend: BaseBackend, change_ids: ir.Table, days: float = DEFAULT_REWORK_DAYS) -> Rework | None:
    """Rework over the commits of ``change_ids`` (an Ibis table with ``repo``, ``change_id``).

    ``backend`` is an Ibis backend over the store (``engines.connect(store)``).
    None when no commit in scope has line history: run ``leadlens ingest git --line-history``.
    A line's age is the rewriting commit's committer time minus its birth (the committer time of
    the commit that added it); lines of unknown birth are never recent.
    """
    change_commits = backend.table("change_commits")
    commits = backend.table("commits")
    line_changes = backend.table("line_changes")
    rewritten = backend.table("rewritten_lines")

    scope = change_ids.select("repo", "change_id").distinct()
    repos = change_ids.select("repo").distinct()
    if not line_changes.semi_join(repos, "repo").limit(1).to_pyarrow().num_rows:
        return None  # no line history at all: skip the joins over every commit in scope
    shas = change_commits.semi_join(scope, ["repo", "change_id"]).select("repo", "sha").distinct()
    scoped = (commits.semi_join(shas, ["repo", "sha"]).filter(~commits.is_merge)
              .select("repo", "sha", "committer_time", "line_history"))

    counts = scoped.aggregate(
        commits=scoped.count(),
        commits_with_history=scoped.line_history.sum().cast("int64"),
    )
    changed = (line_changes.semi_join(scoped.filter(scoped.line_history), ["repo", "sha"])
               .aggregate(changed_lines=line_changes.changed_lines.sum().cast("int64")))
    joined = rewritten.join(scoped, ["repo", "sha"])
    age_s = joined.committer_time.delta(joined.born_at, unit="millisecond") / 1000
    is_recent = joined.born_at.notnull() & (age_s >= 0) & (age_s < days * 86400)
    recent = joined.aggregate(
        recent_lines=ibis.ifelse(is_recent, joined.lines, 0).sum().cast("int64"))

    row: dict[str, Any] = counts.cross_join(changed).cross_join(recent).to_pyarrow().to_pylist()[0]
    with_history = int(row["commits_with_history"] or 0)
    if not with_history:
        return None
    changed_lines = int(row["changed_lines"] or 0)
    recent_lines = int(row["recent_lines"] or 0)
    return Rework(
        rate=recent_lines / changed_lines if changed_lines else None,
        recent_lines=recent_lines,
        changed_lines=changed_lines,
        commits_with_history=with_history,
        commits=int(row["commits"] or 0),
        days=days,
    )


def rework_by_change(backend: BaseBackend, change_ids: ir.Table,
                     days: float = DEFAULT_REWORK_DAYS) -> ir.Table:
    """Per change of ``change_ids`` (``repo``, ``change_id``) with line history: ``recent_lines``
    and ``changed_lines`` of its non-merge commits, as :func:`rework` counts them overall."""
    cc = backend.table("change_commits").semi_join(
        change_ids.select("repo", "change_id").distinct(), ["repo", "change_id"])
    commits = backend.table("commits")
    scoped = cc.join(commits.filter(~commits.is_merge & commits.line_history)
                     .select("repo", "sha", "committer_time"), ["repo", "sha"])
    lc = backend.table("line_changes")
    changed = scoped.join(lc, ["repo", "sha"]).group_by(["repo", "change_id"]).aggregate(
        changed_lines=lc.changed_lines.sum().cast("int64"))
    rw = backend.table("rewritten_lines")
    joined = scoped.join(rw, ["repo", "sha"])
    age_s = joined.committer_time.delta(joined.born_at, unit="millisecond") / 1000
    is_recent = joined.born_at.notnull() & (age_s >= 0) & (age_s < days * 86400)
    recent = joined.group_by(["repo", "change_id"]).aggregate(
        recent_lines=ibis.ifelse(is_recent, joined.lines, 0).sum().cast("int64"))
    out = changed.left_join(recent, ["repo", "change_id"])
    return out.select(out.repo, out.change_id, out.changed_lines,
                      recent_lines=out.recent_lines.fill_null(0))
