"""Review signals from forge data: pickup and review time with and without bots, review rounds,
reviewer load and concentration, changes merged without review, AI reviews, rubber-stamp approvals
and the review backlog per day (docs/metrics-review.md). Team-level figures only: no person is named.

Unknown is not zero (DESIGN.md): a repository without pull request data has no review data, so its
changes are left out, and with none in scope the figures are null with the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir

from leadlens.config import ReviewSettings
from leadlens.conventions import BotRule
from leadlens.derive.forge import PR_READY_SQL
from leadlens.engines import sql_connection

__all__ = ["NO_REVIEW_DATA", "Review", "activity", "concentration", "review"]

NO_REVIEW_DATA = ("no pull request data (`leadlens ingest github OWNER/REPO`): without it nobody"
                  " knows which changes were reviewed; review trailers show only those that were"
                  " (changes_with_review_trailers)")

_SQL = [
    # Repositories with review data: pull requests stored, or read from the forge and found none
    # (the source's cursor): then a direct push is known to have had no review on a PR.
    "CREATE OR REPLACE TEMP TABLE _rv_data AS SELECT DISTINCT r AS repo FROM unnest($repos) t(r)"
    " WHERE EXISTS (SELECT 1 FROM pull_requests p WHERE p.repo = t.r)"
    "  OR EXISTS (SELECT 1 FROM sync_state s WHERE s.repo = t.r AND s.resource = 'pull_requests')",
    "CREATE OR REPLACE TEMP TABLE _rv_all AS " + PR_READY_SQL,
    # Merged PRs of the changes in scope.
    "CREATE OR REPLACE TEMP TABLE _rv_pr AS SELECT p.* FROM _rv_all p"
    " JOIN changes ch ON ch.repo = p.repo AND ch.number = p.number"
    " SEMI JOIN _rv_scope s ON s.repo = ch.repo AND s.id = ch.id WHERE p.merged_at IS NOT NULL",
    # Every review and comment on any PR of the repositories, by someone other than its author:
    # a person's, an AI reviewer's, or (neither) an automation bot's.
    "CREATE OR REPLACE TEMP TABLE _rv_acts AS"
    " SELECT r.repo, r.number, r.reviewer AS who, r.submitted_at AS ts, r.state,"
    f"  {BotRule.person_sql('r.reviewer', 'r.reviewer_is_bot')} AS person,"
    f"  {BotRule.ai_sql('r.reviewer')} AS ai"
    " FROM reviews r JOIN _rv_all p ON p.repo = r.repo AND p.number = r.number"
    " WHERE r.submitted_at IS NOT NULL AND r.state <> 'PENDING'"
    "  AND coalesce(r.reviewer, '') <> coalesce(p.author, '')"
    " UNION ALL SELECT c.repo, c.number, c.author, c.created_at, 'COMMENT',"
    f"  {BotRule.person_sql('c.author', 'c.author_is_bot')}, {BotRule.ai_sql('c.author')}"
    " FROM comments c JOIN _rv_all p ON p.repo = c.repo AND p.number = c.number"
    " WHERE coalesce(c.author, '') <> coalesce(p.author, '')",
    # Per merged PR: first review and last approval before the merge, by people and by anyone
    # (bots and AI reviewers too); the first AI review.
    "CREATE OR REPLACE TEMP TABLE _rv_times AS"
    " SELECT p.repo, p.number, p.ready_at,"
    "  min(a.ts) FILTER (WHERE a.person) AS first_review,"
    "  min(a.ts) AS first_review_bots,"
    "  max(a.ts) FILTER (WHERE a.person AND a.state = 'APPROVED') AS approved,"
    "  max(a.ts) FILTER (WHERE a.state = 'APPROVED') AS approved_bots,"
    "  min(a.ts) FILTER (WHERE a.ai) AS first_ai_review"
    " FROM _rv_pr p LEFT JOIN _rv_acts a ON a.repo = p.repo AND a.number = p.number"
    "  AND a.ts <= p.merged_at GROUP BY p.repo, p.number, p.ready_at",
]
_TEMP = ("_rv_scope", "_rv_data", "_rv_all", "_rv_pr", "_rv_acts", "_rv_times")


@dataclass(frozen=True)
class Review:
    reason: str | None  # why every figure is null: no repository in scope has review data
    no_review_data: list[str]  # repositories in scope without review data: their changes left out
    pull_requests: int | None  # merged PRs of the changes in scope
    pickup_median_s: float | None  # ready_for_review -> first human review
    pickup_with_bots_median_s: float | None  # ... -> first review by anyone but the author
    review_median_s: float | None  # first review -> last approval before the merge
    review_with_bots_median_s: float | None
    reviewed_prs: int | None  # with at least one human review or comment before the merge
    review_rounds: int | None  # changes requested -> new commits -> reviewed again
    prs_with_rounds: int | None
    rounds_per_reviewed_pr: float | None
    reviewers: int | None
    reviews: int | None
    reviews_per_reviewer_median: float | None
    top_reviewers_share: float | None  # of reviews, by the top 10% of reviewers (at least one)
    reviewer_gini: float | None
    merged_without_review: int | None  # changes with review data, without review or trailer
    merged_without_review_rate: float | None
    changes: int  # changes in scope of repositories with review data
    changes_with_review_trailers: int  # changes in scope with a review trailer (git data)
    ai_reviewed_prs: int | None  # merged PRs with an AI review or comment before the merge
    ai_reviewed_share: float | None  # of pull_requests
    ai_first_review_median_s: float | None  # ready_for_review -> first AI review
    ai_reviewers: dict[str, int] | None  # AI reviewer (a tool, not a person) -> PRs it reviewed
    rubber_stamp_approvals: int | None
    rubber_stamp_prs: int | None
    rubber_stamp_minutes: float
    rubber_stamp_lines: int
    backlog: list[tuple[date, int]] | None  # open, ready PRs awaiting a first human review
    null_reasons: dict[str, str] = field(default_factory=dict)  # figure -> why it is null


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
            con.execute(sql, {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)})
        known = [r for (r,) in con.execute("SELECT repo FROM _rv_data ORDER BY repo").fetchall()]
        without = sorted(set(repos) - set(known))
        trailers = int(_row(con, "SELECT count(*) FROM _rv_scope s WHERE " + _TRAILER)[0])
        if not known:
            return _unknown(without, trailers, settings)
        return _figures(con, since, until, as_of, settings.rubber_stamp_minutes,
                        settings.rubber_stamp_lines, without, trailers)
    finally:
        for name in _TEMP:
            con.execute(f"DROP TABLE IF EXISTS {name}")


# A change in scope (``s``) one of whose commits carries a review trailer.
_TRAILER = ("EXISTS (SELECT 1 FROM change_commits cc JOIN commits c ON c.repo = cc.repo"
            " AND c.sha = cc.sha WHERE cc.repo = s.repo AND cc.change_id = s.id"
            " AND len(coalesce(c.review_evidence, [])) > 0)")


def _unknown(without: list[str], trailers: int, settings: ReviewSettings) -> Review:
    """No review data for any repository in scope: every review figure is null, with the reason."""
    return Review(
        reason=NO_REVIEW_DATA, no_review_data=without, pull_requests=None, pickup_median_s=None,
        pickup_with_bots_median_s=None, review_median_s=None, review_with_bots_median_s=None,
        reviewed_prs=None, review_rounds=None, prs_with_rounds=None, rounds_per_reviewed_pr=None,
        reviewers=None, reviews=None, reviews_per_reviewer_median=None, top_reviewers_share=None,
        reviewer_gini=None, merged_without_review=None, merged_without_review_rate=None, changes=0,
        changes_with_review_trailers=trailers, ai_reviewed_prs=None, ai_reviewed_share=None,
        ai_first_review_median_s=None, ai_reviewers=None, rubber_stamp_approvals=None,
        rubber_stamp_prs=None, rubber_stamp_minutes=settings.rubber_stamp_minutes,
        rubber_stamp_lines=settings.rubber_stamp_lines, backlog=None)


def _figures(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None,
             as_of: datetime, minutes: float, lines: int, without: list[str], trailers: int
             ) -> Review:
    n, pickup, pickup_b, rev, rev_b, reviewed, n_ai, ai_pickup = _row(
        con, f"SELECT count(*), {_median('first_review - ready_at')},"
        f" {_median('first_review_bots - ready_at')}, {_median('approved - first_review')},"
        f" {_median('approved_bots - first_review_bots')}, count(first_review),"
        f" count(first_ai_review), {_median('first_ai_review - ready_at')} FROM _rv_times")
    ai_reviewers = {str(who): int(k) for who, k in con.execute(
        "SELECT a.who, count(DISTINCT (a.repo, a.number)) FROM _rv_acts a JOIN _rv_pr p"
        " ON p.repo = a.repo AND p.number = a.number WHERE a.ai AND a.ts <= p.merged_at"
        " GROUP BY a.who ORDER BY a.who").fetchall()}
    # What some figures need beyond reviews: PR sizes (rubber stamps), PR commits (rounds).
    sized, with_commits = _row(
        con, "SELECT count(*) FILTER (WHERE additions IS NOT NULL OR deletions IS NOT NULL),"
        " count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pr_commits q WHERE q.repo = p.repo"
        "  AND q.number = p.number)) FROM _rv_pr p")
    nulls: dict[str, str] = {}
    if n and not with_commits:
        nulls["review_rounds"] = nulls["prs_with_rounds"] = (
            "no commits of the pull requests are stored: a round needs a commit after a change"
            " request")
    if n and not sized:
        nulls["rubber_stamp_approvals"] = nulls["rubber_stamp_prs"] = (
            "the sizes of the pull requests (additions, deletions) are unknown")
    # A round: changes requested, then a new commit, then another review (of the new commits).
    rounds, prs_with_rounds = _row(
        con, "WITH cr AS (SELECT a.repo, a.number, (SELECT min(q.committer_time) FROM pr_commits q"
        "   WHERE q.repo = a.repo AND q.number = a.number AND q.committer_time > a.ts) AS pushed"
        "   FROM _rv_acts a SEMI JOIN _rv_pr p ON p.repo = a.repo AND p.number = a.number"
        "   WHERE a.state = 'CHANGES_REQUESTED' AND a.person),"
        " done AS (SELECT DISTINCT cr.repo, cr.number, cr.pushed FROM cr WHERE EXISTS ("
        "   SELECT 1 FROM _rv_acts b WHERE b.repo = cr.repo AND b.number = cr.number"
        "   AND b.person AND b.state <> 'COMMENT' AND b.ts > cr.pushed))"
        " SELECT count(*), count(DISTINCT (repo, number)) FROM done")
    load = [int(r[0]) for r in con.execute(
        "SELECT count(*) FROM _rv_acts a JOIN _rv_pr p ON p.repo = a.repo AND p.number = a.number"
        " WHERE a.person AND a.state <> 'COMMENT' AND a.ts <= p.merged_at AND a.who IS NOT NULL"
        " GROUP BY a.who").fetchall()]
    top, gini = concentration(load)
    median_load = _row(con, "SELECT quantile_cont(x, 0.5) FROM (SELECT unnest($l::BIGINT[]) AS x)",
                       {"l": load})[0] if load else None
    # Without review: no human review on its PR before the merge, and no review trailer; over
    # the changes of repositories with review data only.
    changes, unreviewed = _row(
        con, "SELECT count(*), count(*) FILTER (WHERE NOT reviewed) FROM ("
        " SELECT s.repo, s.id, EXISTS (SELECT 1 FROM changes ch JOIN _rv_pr p ON p.repo = ch.repo"
        "   AND p.number = ch.number JOIN _rv_acts a ON a.repo = p.repo AND a.number = p.number"
        "   WHERE ch.repo = s.repo AND ch.id = s.id AND a.person AND a.state <> 'COMMENT'"
        "   AND a.ts <= p.merged_at)"
        f" OR {_TRAILER} AS reviewed FROM _rv_scope s SEMI JOIN _rv_data d ON d.repo = s.repo)")
    # Rubber stamps: a human approval soon after the PR became ready or got its last commit.
    stamps, stamp_prs = _row(
        con, "SELECT count(*), count(DISTINCT (repo, number)) FROM ("
        " SELECT a.repo, a.number, a.ts, greatest(p.ready_at, (SELECT max(q.committer_time)"
        "   FROM pr_commits q WHERE q.repo = a.repo AND q.number = a.number AND q.committer_time"
        "   <= a.ts)) AS since FROM _rv_acts a JOIN _rv_pr p ON p.repo = a.repo"
        "   AND p.number = a.number WHERE a.state = 'APPROVED' AND a.person AND a.ts <= p.merged_at"
        "   AND coalesce(p.additions, 0) + coalesce(p.deletions, 0) > $lines)"
        " WHERE epoch(ts - since) <= $s", {"lines": lines, "s": minutes * 60})

    def known(name: str, value: int) -> int | None:
        return None if name in nulls else int(value)

    return Review(
        reason=None, no_review_data=without, pull_requests=int(n), pickup_median_s=pickup,
        pickup_with_bots_median_s=pickup_b, review_median_s=rev, review_with_bots_median_s=rev_b,
        reviewed_prs=int(reviewed), review_rounds=known("review_rounds", rounds),
        prs_with_rounds=known("prs_with_rounds", prs_with_rounds),
        rounds_per_reviewed_pr=(rounds / reviewed) if reviewed and "review_rounds" not in nulls
        else None,
        reviewers=len(load), reviews=sum(load), reviews_per_reviewer_median=median_load,
        top_reviewers_share=top, reviewer_gini=gini, merged_without_review=int(unreviewed),
        merged_without_review_rate=(unreviewed / changes) if changes else None,
        changes=int(changes), changes_with_review_trailers=trailers, ai_reviewed_prs=int(n_ai),
        ai_reviewed_share=(n_ai / n) if n else None, ai_first_review_median_s=ai_pickup,
        ai_reviewers=ai_reviewers,
        rubber_stamp_approvals=known("rubber_stamp_approvals", stamps),
        rubber_stamp_prs=known("rubber_stamp_prs", stamp_prs), rubber_stamp_minutes=minutes,
        rubber_stamp_lines=lines, backlog=_backlog(con, since, until, as_of), null_reasons=nulls)


def _backlog(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None,
             as_of: datetime) -> list[tuple[date, int]]:
    """Per UTC day: PRs ready (not drafts), not closed, with no human review yet at its end."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rv_wait AS SELECT p.ready_at,"
        " least(min(a.ts) FILTER (WHERE a.person), p.closed_at, p.merged_at) AS ended_at"
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


def activity(backend: ibis.BaseBackend, changes: ir.Table, bots: BotRule | None = None
             ) -> ir.Table:
    """``cid``, ``at``: when someone reviewed, commented or acted on the pull request of each
    change (``cid``, ``repo``, ``number``): people and AI reviewers (an AI review is an
    ``ai_review`` event: activity), not the accounts the API marks as bots."""
    bots = bots or BotRule()
    prs = changes.filter(changes.number.notnull()).select("cid", "repo", "number")
    r = backend.table("reviews")
    c = backend.table("comments")
    e = backend.table("pr_events")
    number, at = ibis.dtype("int64"), ibis.dtype("timestamp('UTC', 6)")  # nullable, as unions need

    def acting(flag: ir.BooleanColumn, who: ir.StringColumn) -> ir.BooleanValue:
        return ~bots.ibis(who, flag).fill_null(False) | bots.ai_ibis(who)

    acts = (r.filter(r.submitted_at.notnull() & acting(r.reviewer_is_bot, r.reviewer))
            .select("repo", number=r.number.cast(number), at=r.submitted_at.cast(at))
            .union(c.filter(acting(c.author_is_bot, c.author))
                   .select("repo", number=c.number.cast(number), at=c.created_at.cast(at)))
            .union(e.filter(acting(e.actor_is_bot, e.actor))
                   .select("repo", number=e.number.cast(number), at=e["at"].cast(at))))
    j = prs.join(acts, ["repo", "number"])
    return j.select("cid", at=j["at"])
