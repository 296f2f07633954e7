"""The flow figures of a scope (DESIGN.md, Aggregates): what the report says about where time goes.

Lead time and its histogram, stages with their shares and Amdahl ceilings, months, weeks, sizes,
reverts, rework, milestone evidence, the changes in flight and the ones that waited longest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from leadlens.analysis import amdahl
from leadlens.analysis.figures import (
    Bin,
    Distribution,
    Evidence,
    FlowFigures,
    InFlight,
    InFlightStage,
    Month,
    RepoSummary,
    Revert,
    Rework,
    Scope,
    Size,
    Stage,
    Waited,
    Week,
)
from leadlens.analysis.left_out import LeftOut, left_out
from leadlens.conventions import parse_remote
from leadlens.engines import one, rows, sql_connection
from leadlens.metrics import flow as fm
from leadlens.metrics.rework import rework as rework_metric
from leadlens.timeline import MILESTONES, stage_order

__all__ = ["HISTOGRAM_EDGES", "LONGEST", "FlowSummary", "flow_summary", "stage_figures"]

LONGEST = 5  # changes listed per stage under "waited longest"
_H, _D = 3600.0, 86400.0
# Histogram edges: lead times span minutes to months, so the bins grow roughly geometrically.
HISTOGRAM_EDGES: tuple[float, ...] = (0.0, _H, 4 * _H, 12 * _H, _D, 2 * _D, 4 * _D, 7 * _D, 14 * _D,
                                      28 * _D, 56 * _D, 112 * _D, 365 * _D)


@dataclass(frozen=True)
class FlowSummary:
    """The flow figures, the scope they are over, and what a reader must know about them."""

    scope: Scope
    figures: FlowFigures
    messages: list[str]


def flow_summary(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters, *, k: float,
                 rework_days: float, as_of: datetime) -> FlowSummary:
    """Every flow figure over ``fl``'s scope; ``fl`` stays the caller's (the report's other sections
    read it too), and so does releasing it."""
    remotes, git_repos = _repositories(backend)
    known = list(remotes)
    messages = _store_notes(filters, known)
    lt = fl.cache(fm.lead_times(fl))
    overall_row = one(backend, lt.aggregate(total=lt.lead_time_s.sum(),
                                            **fm.distribution(lt.lead_time_s)))
    overall = _dist(overall_row)
    sc = fl.scope
    totals = one(backend, sc.aggregate(
        n=sc.count(), first=sc.merged_at.min(), last=sc.merged_at.max(),
        releases=sc.release.nunique()))  # nunique leaves nulls (unreleased) out
    n_scope = int(totals.get("n") or 0)
    dropped = left_out(backend, fl)
    flight = fl.cache(fm.in_flight(fl, as_of))
    done = fm.done_segments(fl)
    stages = _stages(backend, done, overall_row.get("total") or 0.0, k)
    repos = _repos(backend, fl, lt, flight, filters, known)
    messages.extend(_repo_notes(backend, repos, git_repos))
    bases = {r.lead_time_basis for r in repos if r.changes}
    basis = bases.pop() if len(bases) == 1 else ("mixed" if bases else "released")
    months = _months(backend, lt, done)
    weeks, per_week, rel_per_week = _throughput(backend, fl, filters, totals, n_scope)
    n_releases = int(totals.get("releases") or 0)
    size = _size(backend, fl, lt)

    reverts = _reverts(backend, fl)
    keys = fl.scope.select("repo", change_id=fl.scope.id)
    rw = rework_metric(backend, keys, rework_days)
    if rw is None:
        messages.append("rework rate needs line history: run `leadlens ingest git PATH"
                        " --line-history` (or `leadlens report PATH --line-history`)")

    evidence = _evidence(backend, fl, dropped)
    if evidence.out_of_order:
        messages.append(f"{evidence.out_of_order} milestone(s) came before the one preceding them"
                        " (clock skew, rebases) and were clamped to it: see evidence.out_of_order")
    in_flight = _in_flight(backend, flight)
    waited = _waited_longest(backend, fl, flight, remotes)
    if n_scope == 0 and known:
        messages.append("no change matches the filters" if (filters.since or filters.until
                                                            or filters.repos)
                        else "no change was found on the default branches")
    messages.extend(dropped.messages())
    scope = Scope(since=filters.since, until=filters.until, repos=list(filters.repos),
                  include_bots=filters.include_bots, k=k,
                  activity_window_s=filters.activity_window.total_seconds(),
                  rework_days=rework_days, as_of=as_of)
    figures = FlowFigures(
        repos=repos, changes=overall.n, in_flight=in_flight, bot_changes=dropped.bots,
        shallow_cut_changes=dropped.shallow_cut,
        lead_time_basis=basis, lead_time=overall, lead_time_histogram=_histogram(backend, lt),
        stages=stages, months=months, throughput_per_week=per_week, weeks=weeks,
        releases=n_releases, release_frequency_per_week=rel_per_week, size=size,
        revert_rate=(reverts.reverted_changes / n_scope) if n_scope else None, reverts=reverts,
        rework_rate=rw.rate if rw else None,
        rework=Rework(days=rw.days, recent_lines=rw.recent_lines, changed_lines=rw.changed_lines,
                      commits_with_history=rw.commits_with_history, commits=rw.commits)
        if rw else None,
        evidence=evidence, active_s=sum(s.active_s for s in stages),
        waiting_s=sum(s.waiting_s for s in stages), waited_longest=waited)
    return FlowSummary(scope=scope, figures=figures, messages=messages)


def _repositories(backend: ibis.BaseBackend) -> tuple[dict[str, str | None], set[str]]:
    """Every repository the store knows with its remote URL, and those that have a clone."""
    remotes = {r["repo"]: r["remote_url"] for r in rows(
        backend, backend.table("repos").select("repo", "remote_url").order_by("repo"))}
    git_repos = set(remotes)
    # Repositories known from forge data alone (no clone) have changes too.
    for r in rows(backend, backend.table("changes").select("repo").distinct().order_by("repo")):
        remotes.setdefault(r["repo"], None)
    return remotes, git_repos


def _store_notes(filters: fm.Filters, known: list[str]) -> list[str]:
    """A repository asked for that the store does not have, or a store with none at all."""
    notes = []
    unknown = [r for r in filters.repos if r not in known]
    if unknown:
        notes.append(f"no repository named {', '.join(unknown)} in the store"
                     f" (it has: {', '.join(known) or 'none'})")
    if not known:
        notes.append("the store is empty: run `leadlens report PATH` or"
                     " `leadlens ingest git PATH` first")
    return notes


def _dist(row: dict[str, Any]) -> Distribution:
    return Distribution(n=int(row.get("n") or 0), median_s=row.get("median_s"),
                        p85_s=row.get("p85_s"), p95_s=row.get("p95_s"), mean_s=row.get("mean_s"))


def _stages(backend: ibis.BaseBackend, done: ir.Table, sum_lead: float, k: float) -> list[Stage]:
    return stage_figures(rows(backend, fm.stage_totals(done)), sum_lead, k, stage_order)


def stage_figures(totals: list[dict[str, Any]], sum_lead: float, k: float,
                  order: Callable[[str], tuple[int, int]]) -> list[Stage]:
    """Each stage's share of all lead time, and what Amdahl's law says speeding it up buys;
    ``totals``: per stage, ``total_s``, ``median_s``, ``active_s``, ``waiting_s`` and
    ``changes_with_stage`` (changes, or items), in ``order``."""
    stages = []
    for row in sorted(totals, key=lambda r: order(r["stage"])):
        share = min(1.0, max(0.0, row["total_s"] / sum_lead)) if sum_lead > 0 else 0.0
        ceiling = amdahl.ceiling(share)
        stages.append(Stage(
            name=row["stage"], share=share, median_s=row["median_s"], active_s=row["active_s"],
            waiting_s=row["waiting_s"], changes_with_stage=int(row["changes_with_stage"]),
            amdahl_ceiling=None if ceiling == float("inf") else ceiling,
            speedup_if_2x=amdahl.speedup(share, 2.0), speedup_at_k=amdahl.speedup(share, k)))
    return stages


def _repos(backend: ibis.BaseBackend, fl: fm.Flow, lt: ir.Table, flight: ir.Table,
           filters: fm.Filters, known: list[str]) -> list[RepoSummary]:
    ends = {r["repo"]: r["end"] for r in rows(backend, fl.ends)}
    repo_lt = {r["repo"]: r for r in rows(backend, lt.group_by("repo").aggregate(
        **fm.distribution(lt.lead_time_s)))}
    repo_n = {r["repo"]: int(r["n"]) for r in rows(backend, fl.scope.group_by("repo").aggregate(
        n=fl.scope.count()))}
    repo_fl = {r["repo"]: r["n"] for r in rows(backend, flight.group_by("repo").aggregate(
        n=flight.count()))}
    scope_repos = sorted(set(repo_n) | set(filters.repos) & set(known)) if filters.repos else \
        sorted(set(known))
    return [RepoSummary(repo=r, lead_time_basis=ends.get(r, "merged"), changes=repo_n.get(r, 0),
                        in_flight=int(repo_fl.get(r) or 0), lead_time=_dist(repo_lt.get(r, {})))
            for r in scope_repos]


def _repo_notes(backend: ibis.BaseBackend, repos: list[RepoSummary], git_repos: set[str]
                ) -> list[str]:
    """Why a repository has no changes, or why its lead time ends at merged."""
    mainline = {r["repo"] for r in rows(backend, backend.table("mainline").select("repo").distinct())}
    notes = []
    for r in repos:
        if r.repo not in mainline and r.repo in git_repos:
            notes.append(f"{r.repo}: its default branch could not be determined or is empty,"
                         " so it has no changes; ingest it again with --branch NAME")
        elif r.lead_time_basis == "merged" and r.changes:
            notes.append(f"{r.repo} has no release signal (no release tags): its lead time ends"
                         " at merged")
    return notes


def _reverts(backend: ibis.BaseBackend, fl: fm.Flow) -> Revert:
    """Changes in scope reverted later, changes that revert something, and the time to revert."""
    rv = fm.reverts(backend, fl)
    rv_row = one(backend, rv.aggregate(reverted=rv.reverted_id.nunique(),
                                       **fm.distribution(rv.seconds)))
    rc = fm.revert_changes(backend, fl)
    n_revert_changes = int(one(backend, rc.aggregate(n=rc.count())).get("n") or 0)
    return Revert(reverted_changes=int(rv_row.get("reverted") or 0),
                  revert_changes=n_revert_changes, time_to_revert=_dist(rv_row))


def _months(backend: ibis.BaseBackend, lt: ir.Table, done: ir.Table) -> list[Month]:
    month_lt = {r["month"]: r for r in rows(backend, lt.group_by("month").aggregate(
        total=lt.lead_time_s.sum(), **fm.distribution(lt.lead_time_s)))}
    month_totals: dict[Any, dict[str, float]] = defaultdict(dict)
    for row in rows(backend, fm.month_stage_totals(done)):
        month_totals[row["month"]][row["stage"]] = row["total_s"]
    months = []
    for m in sorted(month_lt):
        lead_sum = month_lt[m]["total"] or 0.0
        shares = {s: (v / lead_sum if lead_sum > 0 else 0.0)
                  for s, v in sorted(month_totals[m].items(), key=lambda kv: stage_order(kv[0]))}
        months.append(Month(month=m.strftime("%Y-%m"), lead_time=_dist(month_lt[m]),
                            stage_shares=shares))
    return months


def _throughput(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                totals: dict[str, Any], n_scope: int
                ) -> tuple[list[Week], float | None, float | None]:
    """Changes per week (each week, and on average) and releases per week."""
    if totals.get("first") is None:
        return [], None, None
    start = filters.since or totals["first"]
    end = filters.until or totals["last"]
    n_weeks = max((end - start) / timedelta(days=7), 1.0)
    counts = {r["week"]: int(r["n"]) for r in rows(backend, fl.scope.group_by(
        week=fl.scope.merged_at.truncate("W")).aggregate(n=fl.scope.count()))}
    n_releases = int(totals.get("releases") or 0)
    return _fill_weeks(counts), n_scope / n_weeks, n_releases / n_weeks


def _size(backend: ibis.BaseBackend, fl: fm.Flow, lt: ir.Table) -> Size:
    size = one(backend, fl.scope.aggregate(median_lines=fl.scope.lines.quantile(0.5),
                                           median_files=fl.scope.files.quantile(0.5)))
    buckets = {r["size"]: int(r["n"]) for r in rows(backend, fl.scope.group_by("size").aggregate(
        n=fl.scope.count()))}
    bucket_lt = {r["size"]: r["m"] for r in rows(backend, lt.group_by("size").aggregate(
        m=lt.lead_time_s.quantile(0.5)))}
    names = [b for b, _ in fm.SIZE_BUCKETS]
    return Size(median_lines=size.get("median_lines"), median_files=size.get("median_files"),
                buckets={b: buckets.get(b, 0) for b in names},
                lead_time_median_s={b: bucket_lt.get(b) for b in names})


def _evidence(backend: ibis.BaseBackend, fl: fm.Flow, dropped: LeftOut) -> Evidence:
    """How many changes have each milestone, how many of those are proxies, how many were clamped,
    how many were left out for an implausible date."""
    ev = fl.milestones
    have = {r["name"]: int(r["n"]) for r in rows(backend, ev.group_by("name").aggregate(
        n=ev.change_id.count()))}
    proxies = {r["name"]: int(r["n"]) for r in rows(backend, ev.filter(ev.proxy).group_by(
        "name").aggregate(n=ev.change_id.count()))}
    ooo = int(one(backend, fl.spans.aggregate(n=fl.spans.out_of_order.sum())).get("n") or 0)
    return Evidence(milestones={m: have.get(m, 0) for m in MILESTONES}, proxies=proxies,
                    out_of_order=ooo, implausible_dates=dropped.implausible_dates)


def _in_flight(backend: ibis.BaseBackend, flight: ir.Table) -> InFlight:
    f_all = one(backend, flight.aggregate(**fm.distribution(flight.age_s)))
    by_stage = [InFlightStage(stage=r["stage"] or "?", changes=int(r["n"]), median_age_s=r["m"])
                for r in rows(backend, flight.group_by("stage").aggregate(
                    n=flight.count(), m=flight.in_stage_s.quantile(0.5)))]
    by_stage.sort(key=lambda s: stage_order(s.stage) if s.stage != "?" else (99, 0))
    return InFlight(count=int(f_all.get("n") or 0), age=_dist(f_all), by_stage=by_stage)


def _histogram(backend: ibis.BaseBackend, lt: ir.Table) -> list[Bin]:
    edges = HISTOGRAM_EDGES
    idx = ibis.cases(*[(lt.lead_time_s < hi, i) for i, hi in enumerate(edges[1:])],
                     else_=len(edges) - 1)
    counts = {r["b"]: int(r["n"]) for r in rows(backend, lt.group_by(b=idx).aggregate(
        n=lt.count()))}
    return [Bin(lo_s=lo, hi_s=edges[i + 1] if i + 1 < len(edges) else None,
                changes=counts.get(i, 0)) for i, lo in enumerate(edges)]


def _fill_weeks(counts: dict[datetime, int]) -> list[Week]:
    """Every week from the first to the last merge, weeks without merges as 0."""
    if not counts:
        return []
    out, week, last = [], min(counts), max(counts)
    while week <= last:
        out.append(Week(week=week.date().isoformat(), changes=counts.get(week, 0)))
        week += timedelta(days=7)
    return out


def _waited_longest(backend: ibis.BaseBackend, fl: fm.Flow, flight: ir.Table,
                    remotes: dict[str, str | None]) -> dict[str, list[Waited]]:
    seg = fl.segments.select("cid", "stage", "seconds", in_flight=ibis.literal(False))
    open_ = flight.filter(flight.stage.notnull()).select(
        "cid", "stage", seconds=flight.in_stage_s, in_flight=ibis.literal(True))
    both = seg.union(open_)
    both = both.filter(both.seconds > 0)  # a zero-length stage kept nobody waiting
    # The LONGEST longest per stage, most seconds first and the lower cid first among equals:
    # DuckDB's max_by keeps the top n per group without sorting every segment (a window's
    # row_number sorts them all: seconds at a million changes).
    con = sql_connection(backend)
    found: list[tuple[str, list[dict[str, Any]]]] = con.execute(
        "SELECT stage, max_by({'cid': cid, 'seconds': seconds, 'in_flight': in_flight},"
        f" (seconds, -cid), {LONGEST}) FROM ({backend.compile(both)}) GROUP BY stage"
    ).fetchall()
    tops = [{"stage": stage, "rn": i, **t} for stage, ts in found for i, t in enumerate(ts)]
    cids = [t["cid"] for t in tops]
    info = {r["cid"]: r for r in rows(backend, fl.scope.filter(fl.scope.cid.isin(cids)).select(
        "cid", "repo", "title", "number", "merge_sha", change_id=fl.scope.id))} if cids else {}
    top = [{**info[t["cid"]], **t} for t in tops if t["cid"] in info]
    out: dict[str, list[Waited]] = defaultdict(list)
    for r in sorted(top, key=lambda r: (stage_order(r["stage"]), r["rn"])):
        out[r["stage"]].append(Waited(
            id=r["change_id"], title=r["title"], seconds=r["seconds"], in_flight=r["in_flight"],
            url=_link(remotes.get(r["repo"]), r["number"], r["merge_sha"])))
    return dict(out)


# Forges whose change pages leadlens can link to: host -> (PR path, commit path).
_FORGE_PAGES = {"github.com": ("pull", "commit"), "gitlab.com": ("-/merge_requests", "-/commit")}


def _link(remote: str | None, number: int | None, sha: str) -> str | None:
    """The change's page on its forge (the PR, else the commit), when the remote's host is a forge
    leadlens knows: the host the URL names, not a host that appears somewhere in it (a self-hosted
    ``https://git.example.com/mirrors/github.com/o/r`` is not on github.com)."""
    where = parse_remote(remote) if remote else None
    if where is None or where.host not in _FORGE_PAGES or "/" not in where.path:
        return None
    pr, commit = _FORGE_PAGES[where.host]
    base = f"https://{where.host}/{where.path}"
    return f"{base}/{pr}/{number}" if number is not None else f"{base}/{commit}/{sha}"
