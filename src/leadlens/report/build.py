"""Assemble the report document: run the flow metrics over a store and add the answer on top."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from leadlens import __version__
from leadlens.analysis import amdahl
from leadlens.analysis.impact import Cohorts
from leadlens.attribution import Rules
from leadlens.config import DEFAULT_K, DEFAULT_REWORK_DAYS, Settings
from leadlens.metrics import flow as fm
from leadlens.metrics.rework import rework as rework_metric
from leadlens.report.ai import ai_section
from leadlens.report.forge import forge_sections
from leadlens.report.model import (
    Bin,
    Distribution,
    Evidence,
    InFlight,
    InFlightStage,
    Month,
    Report,
    RepoSummary,
    Revert,
    Rework,
    Scope,
    Size,
    Stage,
    Waited,
    Week,
)
from leadlens.timeline import MILESTONES, stage_order

__all__ = ["build_report", "headline"]

LONGEST = 5  # changes listed per stage under "waited longest"
_H, _D = 3600.0, 86400.0
# Histogram edges: lead times span minutes to months, so the bins grow roughly geometrically.
HISTOGRAM_EDGES: tuple[float, ...] = (0.0, _H, 4 * _H, 12 * _H, _D, 2 * _D, 4 * _D, 7 * _D, 14 * _D,
                                      28 * _D, 56 * _D, 112 * _D, 365 * _D)


def _rows(backend: ibis.BaseBackend, expr: ir.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = backend.to_pyarrow(expr).to_pylist()
    return rows


def _one(backend: ibis.BaseBackend, expr: ir.Table) -> dict[str, Any]:
    rows = _rows(backend, expr)
    return rows[0] if rows else {}


def _dist(row: dict[str, Any]) -> Distribution:
    return Distribution(n=int(row.get("n") or 0), median_s=row.get("median_s"),
                        p85_s=row.get("p85_s"), p95_s=row.get("p95_s"), mean_s=row.get("mean_s"))


def _link(remote: str | None, repo: str, number: int | None, sha: str) -> str | None:
    if not remote:
        return None
    for host, pr, commit in (("github.com", "pull", "commit"),
                             ("gitlab.com", "-/merge_requests", "-/commit")):
        if host in remote:
            base = f"https://{host}/{repo}"
            return f"{base}/{pr}/{number}" if number is not None else f"{base}/{commit}/{sha}"
    return None


def build_report(backend: ibis.BaseBackend, filters: fm.Filters, *, k: float = DEFAULT_K,
                 rework_days: float = DEFAULT_REWORK_DAYS, as_of: datetime | None = None,
                 settings: Settings | None = None, ai: Cohorts | None = None) -> Report:
    """Every figure of the report over ``filters``' scope (DESIGN.md, Aggregates); with ``ai``
    (the cohorts to compare), the AI section too, by the settings' attribution rules."""
    as_of = as_of or datetime.now(UTC)
    messages: list[str] = []
    remotes = {r["repo"]: r["remote_url"] for r in _rows(
        backend, backend.table("repos").select("repo", "remote_url").order_by("repo"))}
    git_repos = set(remotes)
    # Repositories known from forge data alone (no clone) have changes too.
    for r in _rows(backend, backend.table("changes").select("repo").distinct().order_by("repo")):
        remotes.setdefault(r["repo"], None)
    known = list(remotes)
    unknown = [r for r in filters.repos if r not in known]
    if unknown:
        messages.append(f"no repository named {', '.join(unknown)} in the store"
                        f" (it has: {', '.join(known) or 'none'})")
    if not known:
        messages.append("the store is empty: run `leadlens report PATH` or"
                        " `leadlens ingest git PATH` first")
    fl = fm.flow(backend, filters)
    try:
        report = _build(backend, fl, filters, remotes, messages, k, rework_days, as_of, git_repos)
        settings = settings or Settings()
        dora, review, notes = forge_sections(backend, fl, filters,
                                             [r.repo for r in report.repos], settings, as_of)
        report = report.model_copy(update={"dora": dora, "review": review,
                                           "messages": report.messages + notes})
        if ai is not None:
            report = report.model_copy(update={"ai": ai_section(
                backend, fl, filters, Rules.of(settings.ai), ai, rework_days=rework_days)})
        return report
    finally:
        fl.release()


def _build(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
           remotes: dict[str, str | None], messages: list[str], k: float, rework_days: float,
           as_of: datetime, git_repos: set[str]) -> Report:
    known = list(remotes)
    ends = {r["repo"]: r["end"] for r in _rows(backend, fl.ends)}

    lt = fl.cache(fm.lead_times(fl))
    overall_row = _one(backend, lt.aggregate(total=lt.lead_time_s.sum(),
                                             **fm.distribution(lt.lead_time_s)))
    overall = _dist(overall_row)
    histogram = _histogram(backend, lt)
    sc = fl.scope
    totals = _one(backend, sc.aggregate(
        n=sc.count(), first=sc.merged_at.min(), last=sc.merged_at.max(),
        releases=sc.release.nunique()))  # nunique leaves nulls (unreleased) out
    n_scope = int(totals.get("n") or 0)
    n_bots = int(_one(backend, fl.bots.aggregate(n=fl.bots.count())).get("n") or 0)
    flight = fl.cache(fm.in_flight(fl, as_of))
    done = fl.cache(fm.done_segments(fl))

    # Stages, shares and Amdahl.
    sum_lead = overall_row.get("total") or 0.0
    stages = []
    for row in sorted(_rows(backend, fm.stage_totals(done)), key=lambda r: stage_order(r["stage"])):
        share = min(1.0, max(0.0, row["total_s"] / sum_lead)) if sum_lead > 0 else 0.0
        ceiling = amdahl.ceiling(share)
        stages.append(Stage(
            name=row["stage"], share=share, median_s=row["median_s"], active_s=row["active_s"],
            waiting_s=row["waiting_s"], changes_with_stage=int(row["changes_with_stage"]),
            amdahl_ceiling=None if ceiling == float("inf") else ceiling,
            speedup_if_2x=amdahl.speedup(share, 2.0), speedup_at_k=amdahl.speedup(share, k)))

    # Per repository and per month.
    repo_lt = {r["repo"]: r for r in _rows(backend, lt.group_by("repo").aggregate(
        **fm.distribution(lt.lead_time_s)))}
    repo_n = {r["repo"]: int(r["n"]) for r in _rows(backend, fl.scope.group_by("repo").aggregate(
        n=fl.scope.count()))}
    repo_fl = {r["repo"]: r["n"] for r in _rows(backend, flight.group_by("repo").aggregate(
        n=flight.count()))}
    scope_repos = sorted(set(repo_n) | set(filters.repos) & set(known)) if filters.repos else \
        sorted(set(known))
    repos = [RepoSummary(repo=r, lead_time_basis=ends.get(r, "merged"),
                         changes=repo_n.get(r, 0),
                         in_flight=int(repo_fl.get(r) or 0), lead_time=_dist(repo_lt.get(r, {})))
             for r in scope_repos]
    mainline = {r["repo"] for r in _rows(backend, backend.table("mainline").select("repo").distinct())}
    for r in repos:
        if r.repo not in mainline and r.repo in git_repos:
            messages.append(f"{r.repo}: its default branch could not be determined or is empty,"
                            " so it has no changes; ingest it again with --branch NAME")
        elif r.lead_time_basis == "merged" and r.changes:
            messages.append(f"{r.repo} has no release signal (no release tags): its lead time ends"
                            " at merged")
    bases = {r.lead_time_basis for r in repos if r.changes}
    basis = bases.pop() if len(bases) == 1 else ("mixed" if bases else "released")

    month_lt = {r["month"]: r for r in _rows(backend, lt.group_by("month").aggregate(
        total=lt.lead_time_s.sum(), **fm.distribution(lt.lead_time_s)))}
    month_totals: dict[Any, dict[str, float]] = defaultdict(dict)
    for row in _rows(backend, fm.month_stage_totals(done)):
        month_totals[row["month"]][row["stage"]] = row["total_s"]
    months = []
    for m in sorted(month_lt):
        lead_sum = month_lt[m]["total"] or 0.0
        shares = {s: (v / lead_sum if lead_sum > 0 else 0.0)
                  for s, v in sorted(month_totals[m].items(), key=lambda kv: stage_order(kv[0]))}
        months.append(Month(month=m.strftime("%Y-%m"), lead_time=_dist(month_lt[m]),
                            stage_shares=shares))

    # Throughput and releases.
    weeks, per_week, rel_per_week = [], None, None
    n_releases = int(totals.get("releases") or 0)
    if totals.get("first") is not None:
        start = filters.since or totals["first"]
        end = filters.until or totals["last"]
        n_weeks = max((end - start) / timedelta(days=7), 1.0)
        per_week = n_scope / n_weeks
        rel_per_week = n_releases / n_weeks
        counts = {r["week"]: int(r["n"]) for r in _rows(backend, fl.scope.group_by(
            week=fl.scope.merged_at.truncate("W")).aggregate(n=fl.scope.count()))}
        weeks = _fill_weeks(counts)

    # Size.
    size = _one(backend, fl.scope.aggregate(median_lines=fl.scope.lines.quantile(0.5),
                                            median_files=fl.scope.files.quantile(0.5)))
    buckets = {r["size"]: int(r["n"]) for r in _rows(backend, fl.scope.group_by("size").aggregate(
        n=fl.scope.count()))}
    bucket_lt = {r["size"]: r["m"] for r in _rows(backend, lt.group_by("size").aggregate(
        m=lt.lead_time_s.quantile(0.5)))}
    names = [b for b, _ in fm.SIZE_BUCKETS]
    size_out = Size(median_lines=size.get("median_lines"), median_files=size.get("median_files"),
                    buckets={b: buckets.get(b, 0) for b in names},
                    lead_time_median_s={b: bucket_lt.get(b) for b in names})

    # Reverts and rework.
    rv = fm.reverts(backend, fl)
    rv_row = _one(backend, rv.aggregate(reverted=rv.reverted_id.nunique(),
                                        **fm.distribution(rv.seconds)))
    rc = fm.revert_changes(backend, fl)
    n_revert_changes = int(_one(backend, rc.aggregate(n=rc.count())).get("n") or 0)
    reverted = int(rv_row.get("reverted") or 0)
    keys = fl.scope.select("repo", change_id=fl.scope.id)
    rw = rework_metric(backend, keys, rework_days)
    if rw is None:
        messages.append("rework rate needs line history: run `leadlens ingest git PATH"
                        " --line-history` (or `leadlens report PATH --line-history`)")

    # Evidence.
    ev = fl.milestones
    have = {r["name"]: int(r["n"]) for r in _rows(backend, ev.group_by("name").aggregate(
        n=ev.change_id.count()))}
    proxies = {r["name"]: int(r["n"]) for r in _rows(backend, ev.filter(ev.proxy).group_by(
        "name").aggregate(n=ev.change_id.count()))}
    ooo = int(_one(backend, fl.spans.aggregate(n=fl.spans.out_of_order.sum())).get("n") or 0)
    if ooo:
        messages.append(f"{ooo} milestone(s) came before the one preceding them (clock skew,"
                        " rebases) and were clamped to it: see evidence.out_of_order")

    # In flight.
    f_all = _one(backend, flight.aggregate(**fm.distribution(flight.age_s)))
    by_stage = [InFlightStage(stage=r["stage"] or "?", changes=int(r["n"]), median_age_s=r["m"])
                for r in _rows(backend, flight.group_by("stage").aggregate(
                    n=flight.count(), m=flight.in_stage_s.quantile(0.5)))]
    by_stage.sort(key=lambda s: stage_order(s.stage) if s.stage != "?" else (99, 0))

    waited = _waited_longest(backend, fl, flight, remotes)
    active = sum(s.active_s for s in stages)
    waiting = sum(s.waiting_s for s in stages)
    if n_scope == 0 and known:
        messages.append("no change matches the filters" if (filters.since or filters.until
                                                            or filters.repos)
                        else "no change was found on the default branches")
    if n_bots:
        messages.append(f"{n_bots} change(s) by automation bots are left out"
                        " (--include-bots counts them)")
    report = Report(
        leadlens_version=__version__, generated_at=datetime.now(UTC),
        scope=Scope(since=filters.since, until=filters.until, repos=list(filters.repos),
                    include_bots=filters.include_bots, k=k,
                    activity_window_s=filters.activity_window.total_seconds(),
                    rework_days=rework_days, as_of=as_of),
        headline=[], messages=messages, repos=repos, changes=overall.n,
        in_flight=InFlight(count=int(f_all.get("n") or 0), age=_dist(f_all), by_stage=by_stage),
        bot_changes=n_bots, lead_time_basis=basis, lead_time=overall,
        lead_time_histogram=histogram, stages=stages,
        months=months, throughput_per_week=per_week, weeks=weeks, releases=n_releases,
        release_frequency_per_week=rel_per_week, size=size_out,
        revert_rate=(reverted / n_scope) if n_scope else None,
        reverts=Revert(reverted_changes=reverted, revert_changes=n_revert_changes,
                       time_to_revert=_dist(rv_row)),
        rework_rate=rw.rate if rw else None,
        rework=Rework(days=rw.days, recent_lines=rw.recent_lines, changed_lines=rw.changed_lines,
                      commits_with_history=rw.commits_with_history, commits=rw.commits)
        if rw else None,
        evidence=Evidence(milestones={m: have.get(m, 0) for m in MILESTONES}, proxies=proxies,
                          out_of_order=ooo),
        active_s=active, waiting_s=waiting, waited_longest=waited)
    return report.model_copy(update={"headline": headline(report)})


def _histogram(backend: ibis.BaseBackend, lt: ir.Table) -> list[Bin]:
    edges = HISTOGRAM_EDGES
    idx = ibis.cases(*[(lt.lead_time_s < hi, i) for i, hi in enumerate(edges[1:])],
                     else_=len(edges) - 1)
    counts = {r["b"]: int(r["n"]) for r in _rows(backend, lt.group_by(b=idx).aggregate(
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
    w = ibis.window(group_by="stage", order_by=[ibis.desc("seconds"), "cid"])
    top = both.mutate(rn=ibis.row_number().over(w))
    top = top.filter(top.rn < LONGEST).join(fl.scope, "cid").select(
        "repo", "stage", "seconds", "in_flight", "rn", "title", "number", "merge_sha",
        change_id=fl.scope.id)
    out: dict[str, list[Waited]] = defaultdict(list)
    for r in sorted(_rows(backend, top), key=lambda r: (stage_order(r["stage"]), r["rn"])):
        out[r["stage"]].append(Waited(
            id=r["change_id"], title=r["title"], seconds=r["seconds"], in_flight=r["in_flight"],
            url=_link(remotes.get(r["repo"]), r["repo"], r["number"], r["merge_sha"])))
    return dict(out)


def _pct(x: float) -> str:
    return f"{x:.0%}" if x >= 0.01 or x == 0 else "<1%"


def headline(report: Report) -> list[str]:
    """The answer first: where work waits, coding's Amdahl ceiling, what 2x faster coding buys."""
    if not report.changes:
        lines = ["No change in this scope has a lead time yet."]
        if report.in_flight.count:
            lines.append(f"{report.in_flight.count} change(s) are in flight (merged, not released).")
        return lines
    lines = []
    total = sum(s.active_s + s.waiting_s for s in report.stages)
    if total == 0:
        return ["Every lead time in this scope is zero: each change is a single commit that counts"
                " as merged when committed, with no release after it. Tag releases (setting"
                " release_tag_pattern) or add pull request data to see where time goes."]
    waits = max(report.stages, key=lambda s: s.waiting_s, default=None)
    if waits is not None and total > 0:
        lines.append(f"Most time waits in {waits.name}: {_pct(waits.waiting_s / total)} of all"
                     f" lead time is waiting there ({_pct(waits.share)} of lead time is {waits.name}).")
    coding = next((s for s in report.stages if s.name == "coding"), None) or next(
        (s for s in report.stages if "coding" in s.name.split("+")), None)
    if coding is not None:
        ceiling = "unbounded" if coding.amdahl_ceiling is None else f"{coding.amdahl_ceiling:.2f}x"
        lines.append(f"{coding.name.capitalize()} is {_pct(coding.share)} of lead time: infinitely"
                     f" fast {coding.name} would speed delivery up by at most {ceiling}"
                     f" (Amdahl's ceiling); 2x faster {coding.name} buys"
                     f" {coding.speedup_if_2x:.2f}x end to end.")
    else:
        lines.append("No coding stage is measured in this scope (no work_started milestone).")
    return lines
