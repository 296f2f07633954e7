"""Review signals from forge data: pickup and review time with and without bots, review rounds,
reviewer load and concentration, changes merged without review, rubber-stamp approvals and the
review backlog per day (docs/metrics-review.md). Team-level figures only: no reviewer is named.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir

from leadlens.config import ReviewSettings
from leadlens.conventions import BotRule
from leadlens.derive.forge import PR_READY_SQL
from leadlens.engines import sql_connection

__all__ = ["Review", "activity", "concentration", "review"]

_SQL = [
    "CREATE OR REPLACE TEMP TABLE _rv_all AS " + PR_READY_SQL,
    # Merged PRs of the changes in scope.
    "CREATE OR REPLACE TEMP TABLE _rv_pr AS SELECT p.* FROM _rv_all p"
    " JOIN changes ch ON ch.repo = p.repo AND ch.number = p.number"
    " SEMI JOIN _rv_scope s ON s.repo = ch.repo AND s.id = ch.id WHERE p.merged_at IS NOT NULL",
    # Every review and comment on any PR of the repositories, by someone other than its author.
    "CREATE OR REPLACE TEMP TABLE _rv_acts AS"
    " SELECT r.repo, r.number, r.reviewer AS who, r.submitted_at AS ts, r.state,"
    f"  {BotRule.sql('r.reviewer', 'r.reviewer_is_bot')} AS bot"
    " FROM reviews r JOIN _rv_all p ON p.repo = r.repo AND p.number = r.number"
    " WHERE r.submitted_at IS NOT NULL AND r.state <> 'PENDING'"
    "  AND coalesce(r.reviewer, '') <> coalesce(p.author, '')"
    " UNION ALL SELECT c.repo, c.number, c.author, c.created_at, 'COMMENT',"
    f"  {BotRule.sql('c.author', 'c.author_is_bot')}"
    " FROM comments c JOIN _rv_all p ON p.repo = c.repo AND p.number = c.number"
    " WHERE coalesce(c.author, '') <> coalesce(p.author, '')",
    # Per merged PR: first review and last approval before the merge, with and without bots.
    "CREATE OR REPLACE TEMP TABLE _rv_times AS"
    " SELECT p.repo, p.number, p.ready_at,"
    "  min(a.ts) FILTER (WHERE NOT a.bot) AS first_review,"
    "  min(a.ts) AS first_review_bots,"
    "  max(a.ts) FILTER (WHERE NOT a.bot AND a.state = 'APPROVED') AS approved,"
    "  max(a.ts) FILTER (WHERE a.state = 'APPROVED') AS approved_bots"
    " FROM _rv_pr p LEFT JOIN _rv_acts a ON a.repo = p.repo AND a.number = p.number"
    "  AND a.ts <= p.merged_at GROUP BY p.repo, p.number, p.ready_at",
]


@dataclass(frozen=True)
class Review:
    pull_requests: int  # merged PRs of the changes in scope
    pickup_median_s: float | None  # ready_for_review -> first human review
    pickup_with_bots_median_s: float | None  # ... -> first review by anyone but the author
    review_median_s: float | None  # first review -> last approval before the merge
    review_with_bots_median_s: float | None
    reviewed_prs: int  # with at least one human review or comment before the merge
    review_rounds: int  # changes requested -> new commits -> reviewed again
    prs_with_rounds: int
    rounds_per_reviewed_pr: float | None
    reviewers: int
    reviews: int
    reviews_per_reviewer_median: float | None
    top_reviewers_share: float | None  # of reviews, by the top 10% of reviewers (at least one)
    reviewer_gini: float | None
    merged_without_review: int  # changes in scope without any review or review trailer
    merged_without_review_rate: float | None
    changes: int
    rubber_stamp_approvals: int
    rubber_stamp_prs: int
    rubber_stamp_minutes: float
    rubber_stamp_lines: int
    backlog: list[tuple[date, int]]  # open, ready PRs awaiting a first review, at each day's end


def concentration(counts: Sequence[int]) -> tuple[float | None, float | None]:
    """(share of the total held by the top 10% — at least one — of holders, Gini coefficient)."""
    xs = sorted(c for c in counts if c > 0)
    total = sum(xs)
    if not total:
        return None, None
    top = sum(xs[-math.ceil(len(xs) * 0.1):])
    n = len(xs)
    gini = (2 * sum(i * x for i, x in enumerate(xs, 1))) / (n * total) - (n + 1) / n
    return top / total, gini


def _row(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
         ) -> tuple[Any, ...]:
    row = con.execute(sql, params or {}).fetchone()
    assert row is not None  # aggregates always return a row
    return tuple(row)


def _median(expr: str) -> str:
    # CASE, not greatest(): DuckDB's greatest skips NULLs, turning "no review" into 0.
    return f"quantile_cont(CASE WHEN epoch({expr}) < 0 THEN 0 ELSE epoch({expr}) END, 0.5)"


def review(backend: ibis.BaseBackend, scope: ir.Table, repos: Sequence[str], *,
           since: datetime | None, until: datetime | None, as_of: datetime,
           bots: BotRule | None = None, settings: ReviewSettings | None = None) -> Review:
    """Review signals over the changes of ``scope`` (a table with ``repo``, ``id``); the backlog
    over every PR of ``repos`` from ``since`` (else the first ready PR) to ``until`` (else
    ``as_of``, or the last PR activity when earlier)."""
    con = sql_connection(backend)
    settings = settings or ReviewSettings()
    scope_sql = str(backend.compile(scope.select("repo", "id")))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rv_scope AS SELECT repo, id FROM ({scope_sql})")
    params = {"repos": list(repos), **(bots or BotRule()).params}
    try:
        for sql in _SQL:
            con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
        return _figures(con, since, until, as_of, settings.rubber_stamp_minutes,
                        settings.rubber_stamp_lines)
    finally:
        for name in ("_rv_scope", "_rv_all", "_rv_pr", "_rv_acts", "_rv_times"):
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _figures(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None,
             as_of: datetime, minutes: float, lines: int) -> Review:
    n, pickup, pickup_b, rev, rev_b, reviewed = _row(
        con, f"SELECT count(*), {_median('first_review - ready_at')},"
        f" {_median('first_review_bots - ready_at')}, {_median('approved - first_review')},"
        f" {_median('approved_bots - first_review_bots')}, count(first_review) FROM _rv_times")
    # A round: changes requested, then a new commit, then another review (of the new commits).
    rounds, prs_with_rounds = _row(
        con, "WITH cr AS (SELECT a.repo, a.number, (SELECT min(q.committer_time) FROM pr_commits q"
        "   WHERE q.repo = a.repo AND q.number = a.number AND q.committer_time > a.ts) AS pushed"
        "   FROM _rv_acts a SEMI JOIN _rv_pr p ON p.repo = a.repo AND p.number = a.number"
        "   WHERE a.state = 'CHANGES_REQUESTED' AND NOT a.bot),"
        " done AS (SELECT DISTINCT cr.repo, cr.number, cr.pushed FROM cr WHERE EXISTS ("
        "   SELECT 1 FROM _rv_acts b WHERE b.repo = cr.repo AND b.number = cr.number"
        "   AND NOT b.bot AND b.state <> 'COMMENT' AND b.ts > cr.pushed))"
        " SELECT count(*), count(DISTINCT (repo, number)) FROM done")
    load = [int(r[0]) for r in con.execute(
        "SELECT count(*) FROM _rv_acts a JOIN _rv_pr p ON p.repo = a.repo AND p.number = a.number"
        " WHERE NOT a.bot AND a.state <> 'COMMENT' AND a.ts <= p.merged_at AND a.who IS NOT NULL"
        " GROUP BY a.who").fetchall()]
    top, gini = concentration(load)
    median_load = _row(con, "SELECT quantile_cont(x, 0.5) FROM (SELECT unnest($l::BIGINT[]) AS x)",
                       {"l": load})[0] if load else None
    # Without review: no human review on its PR before the merge, and no review trailer.
    changes, unreviewed = _row(
        con, "SELECT count(*), count(*) FILTER (WHERE NOT reviewed) FROM ("
        " SELECT s.repo, s.id, EXISTS (SELECT 1 FROM changes ch JOIN _rv_pr p ON p.repo = ch.repo"
        "   AND p.number = ch.number JOIN _rv_acts a ON a.repo = p.repo AND a.number = p.number"
        "   WHERE ch.repo = s.repo AND ch.id = s.id AND NOT a.bot AND a.state <> 'COMMENT'"
        "   AND a.ts <= p.merged_at)"
        " OR EXISTS (SELECT 1 FROM change_commits cc JOIN commits c ON c.repo = cc.repo"
        "   AND c.sha = cc.sha WHERE cc.repo = s.repo AND cc.change_id = s.id"
        "   AND len(coalesce(c.review_evidence, [])) > 0) AS reviewed FROM _rv_scope s)")
    # Rubber stamps: a human approval soon after the PR became ready or got its last commit.
    stamps, stamp_prs = _row(
        con, "SELECT count(*), count(DISTINCT (repo, number)) FROM ("
        " SELECT a.repo, a.number, a.ts, greatest(p.ready_at, (SELECT max(q.committer_time)"
        "   FROM pr_commits q WHERE q.repo = a.repo AND q.number = a.number AND q.committer_time"
        "   <= a.ts)) AS since FROM _rv_acts a JOIN _rv_pr p ON p.repo = a.repo"
        "   AND p.number = a.number WHERE a.state = 'APPROVED' AND NOT a.bot AND a.ts <= p.merged_at"
        "   AND coalesce(p.additions, 0) + coalesce(p.deletions, 0) > $lines)"
        " WHERE epoch(ts - since) <= $s", {"lines": lines, "s": minutes * 60})
    return Review(
        pull_requests=int(n), pickup_median_s=pickup, pickup_with_bots_median_s=pickup_b,
        review_median_s=rev, review_with_bots_median_s=rev_b, reviewed_prs=int(reviewed),
        review_rounds=int(rounds), prs_with_rounds=int(prs_with_rounds),
        rounds_per_reviewed_pr=(rounds / reviewed) if reviewed else None,
        reviewers=len(load), reviews=sum(load), reviews_per_reviewer_median=median_load,
        top_reviewers_share=top, reviewer_gini=gini, merged_without_review=int(unreviewed),
        merged_without_review_rate=(unreviewed / changes) if changes else None,
        changes=int(changes), rubber_stamp_approvals=int(stamps), rubber_stamp_prs=int(stamp_prs),
        rubber_stamp_minutes=minutes, rubber_stamp_lines=lines,
        backlog=_backlog(con, since, until, as_of))


def _backlog(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None,
             as_of: datetime) -> list[tuple[date, int]]:
    """Per UTC day: PRs ready (not drafts), not closed, with no human review yet at its end."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rv_wait AS SELECT p.ready_at,"
        " least(min(a.ts) FILTER (WHERE NOT a.bot), p.closed_at, p.merged_at) AS ended_at"
        " FROM _rv_all p LEFT JOIN _rv_acts a ON a.repo = p.repo AND a.number = p.number"
        " WHERE p.ready_at IS NOT NULL GROUP BY p.repo, p.number, p.ready_at, p.closed_at, p.merged_at")
    try:
        first, last = _row(con, "SELECT min(ready_at), greatest(max(ready_at), max(ended_at))"
                           " FROM _rv_wait")
        if first is None:
            return []
        start = (since or first).date()
        end = (until or min(as_of, last)).date()
        rows = con.execute(
            "SELECT d::DATE, (SELECT count(*) FROM _rv_wait w WHERE w.ready_at < d + INTERVAL 1 DAY"
            "  AND (w.ended_at IS NULL OR w.ended_at >= d + INTERVAL 1 DAY))"
            " FROM generate_series($s::TIMESTAMPTZ, $e::TIMESTAMPTZ, INTERVAL 1 DAY) g(d)"
            " ORDER BY 1", {"s": datetime(start.year, start.month, start.day),
                            "e": datetime(end.year, end.month, end.day)}).fetchall()
        return [(d, int(k)) for d, k in rows]
    finally:
        con.execute("DROP TABLE IF EXISTS _rv_wait")


def activity(backend: ibis.BaseBackend, changes: ir.Table) -> ir.Table:
    """``cid``, ``at``: when someone other than a bot (as the API marks them) reviewed, commented
    or acted on the pull request of each change (``cid``, ``repo``, ``number``)."""
    prs = changes.filter(changes.number.notnull()).select("cid", "repo", "number")
    r = backend.table("reviews")
    c = backend.table("comments")
    e = backend.table("pr_events")
    number, at = ibis.dtype("int64"), ibis.dtype("timestamp('UTC', 6)")  # nullable, as unions need
    acts = (r.filter(r.submitted_at.notnull() & ~r.reviewer_is_bot.fill_null(False))
            .select("repo", number=r.number.cast(number), at=r.submitted_at.cast(at))
            .union(c.filter(~c.author_is_bot.fill_null(False))
                   .select("repo", number=c.number.cast(number), at=c.created_at.cast(at)))
            .union(e.filter(~e.actor_is_bot.fill_null(False))
                   .select("repo", number=e.number.cast(number), at=e["at"].cast(at))))
    j = prs.join(acts, ["repo", "number"])
    return j.select("cid", at=j["at"])
