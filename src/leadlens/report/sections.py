"""The report's sections beside the flow figures: the trend, DORA, review signals and AI assistance.

The trend is the change lead time over two twelve-month windows of its own; DORA and review come
from forge data; the AI section is attribution over the store, the cohorts compared, line survival
and every pull request by the tool behind it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import datetime

import ibis
import pyarrow as pa

from leadlens.analysis.headline import ai_headline
from leadlens.analysis.impact import Cohorts, Impact, evaluate, item_pilot
from leadlens.analysis.items_summary import delivered_items
from leadlens.analysis.left_out import left_out
from leadlens.analysis.signal_split import SignalSplit, split_by_signal
from leadlens.analysis.stats import Comparison
from leadlens.analysis.trend import WINDOW_MONTHS, Trend, months_before, trend
from leadlens.attribution import Rules
from leadlens.config import Settings
from leadlens.engines import rows, timed
from leadlens.metrics import flow as fm
from leadlens.metrics import pulls
from leadlens.metrics.ai import (
    ai_commits,
    change_ai,
    change_ai_key,
    pr_ai,
    pr_tools,
    survival,
)
from leadlens.metrics.cohorts import change_facts, done_stage_seconds
from leadlens.metrics.dora import Dora, dora
from leadlens.metrics.items import ItemFlow, item_facts, item_flow
from leadlens.metrics.review import review
from leadlens.report.coordination import signal_flags
from leadlens.report.model import (
    AiSection,
    BacklogDay,
    ReviewSignals,
    RuleCount,
    Survival,
    ToolPullRequests,
)

__all__ = ["SURVIVAL_DAYS", "ai_section", "change_trend", "forge_sections"]

SURVIVAL_DAYS = (21, 90)


def change_trend(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters, as_of: datetime,
                 *, resamples: int, seed: int) -> tuple[Trend, str]:
    """The trend of the change lead time (the change basis) over ``filters``' repositories and
    bots but not its dates (the trend has its own windows; ``fl``, the report's flow, is reused
    when it has none), and where those lead times end: released, merged (no release signal) or
    mixed, over every delivered change of those repositories."""
    d = fm.deliveries(backend, filters, fl)
    ends = {r["end"] for r in rows(backend, d.select("end").distinct())}
    end = ends.pop() if len(ends) == 1 else ("mixed" if ends else "released")
    d = d.filter((d.delivered_at >= months_before(as_of, 2 * WINDOW_MONTHS))
                 & (d.delivered_at < as_of))
    found = backend.to_pyarrow(d.select("delivered_at", "lead_time_s"))
    at = found.column("delivered_at").cast(pa.timestamp("us")).to_numpy()
    lead = found.column("lead_time_s").cast(pa.float64()).to_numpy(zero_copy_only=False)
    return trend(at, lead, basis="change", as_of=as_of, resamples=resamples, seed=seed), end


def item_trend(backend: ibis.BaseBackend, ifl: ItemFlow, filters: fm.Filters, as_of: datetime,
               *, resamples: int, seed: int) -> Trend | None:
    """The trend of spec → production (the item basis), or None when no work item was ever
    delivered (then the change basis answers, and the report says why)."""
    d = delivered_items(ifl, filters)
    if not backend.to_pyarrow(d.count()).as_py():
        return None
    d = d.filter((d.delivered_at >= months_before(as_of, 2 * WINDOW_MONTHS))
                 & (d.delivered_at < as_of))
    found = backend.to_pyarrow(d.select("delivered_at", "lead_time_s"))
    at = found.column("delivered_at").cast(pa.timestamp("us")).to_numpy()
    lead = found.column("lead_time_s").cast(pa.float64()).to_numpy(zero_copy_only=False)
    return trend(at, lead, basis="item", as_of=as_of, resamples=resamples, seed=seed)


def forge_sections(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                   repos: list[str], settings: Settings, as_of: datetime
                   ) -> tuple[Dora, ReviewSignals, list[str]]:
    """DORA and review figures over ``fl``'s changes and ``repos``, and what the reader must know."""
    with timed("dora"):
        d = dora(backend, fl.scope, repos, since=filters.since, until=filters.until,
                 settings=settings.dora)
    with timed("review"):
        rv = review(backend, fl.scope, repos, since=filters.since, until=filters.until,
                    as_of=as_of, bots=filters.bots, settings=settings.review)
    messages = []
    if d.reason:
        messages.append(f"DORA figures are null: {d.reason}")
    elif d.basis in ("releases", "mixed"):
        without = sorted(r for r, b in d.bases.items() if b == "releases")
        messages.append(f"{', '.join(without)}: no production deployments, so DORA counts releases"
                        " as deployments (dora.basis)")
    if rv.reason:
        messages.append(f"Review figures are null: {rv.reason}")
    elif rv.no_review_data:
        messages.append(f"{', '.join(rv.no_review_data)}: no pull request data, so the review"
                        " figures leave out their changes (review.no_review_data)")
    fields = asdict(rv)
    fields.pop("changes")
    fields["backlog"] = None if rv.backlog is None else [
        BacklogDay(day=day.isoformat(), awaiting=n) for day, n in rv.backlog]
    return d, ReviewSignals(**fields), messages


def ai_section(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
               rules: Rules, cohorts: Cohorts, *, rework_days: float,
               settings: Settings | None = None) -> AiSection:
    """The AI section over a flow already built (the main report shares its own); with
    ``cohorts.by_signal``, that coordination signal as a cohort and a stratum (by ``settings``)."""
    with timed("attribution"):
        commits_ai = ai_commits(backend, rules, filters.repos)
        uploaded = fl.upload(commits_ai)
    with timed("change_ai"):
        # Under the key the coordination signals use: the report builds it once.
        ai = fl.once(change_ai_key(rules), lambda: change_ai(
            backend, fl, uploaded, fl.upload(pr_ai(backend, rules, filters.repos))))
    history = bool(backend.table("line_changes").limit(1).to_pyarrow().num_rows)
    with timed("facts"):
        facts = backend.to_pyarrow(change_facts(backend, fl, ai, rework_days, history))
        stages = backend.to_pyarrow(done_stage_seconds(fl))
    with timed("evaluate"):
        impact = evaluate(facts, stages, cohorts)
    item_pilot, item_notes = _item_pilot(backend, fl, filters, cohorts)
    by_signal = None if cohorts.by_signal is None else split_by_signal(
        facts, backend.to_pyarrow(signal_flags(backend, fl, settings or Settings(),
                                               cohorts.by_signal)),
        cohorts.by_signal, cohorts)
    ai_rows = backend.to_pyarrow(ai).to_pylist()
    kept = {e["sha"] for row in ai_rows for e in row["ai_evidence"]}
    surv = [_survival(backend.to_pyarrow(survival(backend, fl, uploaded, d)).to_pylist(), d)
            for d in SURVIVAL_DAYS] if history else []
    commits: Counter[str] = Counter()
    changes: Counter[str] = Counter()
    example: dict[str, str] = {}
    for row in ai_rows:
        for rule in {e["rule"] for e in row["ai_evidence"]}:
            changes[rule] += 1
        for e in row["ai_evidence"]:
            example.setdefault(e["rule"], e["text"])
    for sha, evidence in zip(commits_ai.column("sha").to_pylist(),
                             commits_ai.column("evidence").to_pylist(), strict=True):
        if sha in kept:
            for rule in {e["rule"] for e in evidence}:
                commits[rule] += 1
    n = facts.num_rows
    n_ai = sum(1 for v in facts.column("ai_assisted").to_pylist() if v)
    lines = facts.column("lines").to_pylist()
    shares = facts.column("ai_line_share").to_pylist()
    total_lines = sum(x or 0 for x in lines)
    ai_lines = sum((x or 0) * (s or 0.0) for x, s in zip(lines, shares, strict=True))
    return _section(impact, cohorts, rules, n, n_ai, ai_lines / total_lines if total_lines else None,
                    [RuleCount(rule=r, commits=commits[r], changes=changes[r], example=example.get(r))
                     for r in sorted(changes, key=lambda r: (-changes[r], r))], surv,
                    _by_tool(backend, fl, filters, rules),
                    left_out(backend, fl).messages() + item_notes, item_pilot, by_signal)


def _by_tool(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters, rules: Rules
             ) -> list[ToolPullRequests] | None:
    """Every pull request created in scope, merged or not, by the tool behind it: abandoned work
    is part of what AI costs. Null without pull request data."""
    if not pulls.has_pull_requests(backend, filters.repos):
        return None
    tools = fl.upload(pr_tools(backend, rules, filters.repos))
    found = rows(backend, pulls.by_tool(pulls.pull_requests(backend, filters), tools))
    last = {pulls.HUMAN: 1, pulls.BOT: 2}  # the tools first, most pull requests first
    found.sort(key=lambda r: (last.get(r["tool"], 0), -r["prs"], r["tool"]))
    return [ToolPullRequests(
        tool=r["tool"], prs=r["prs"], merged=r["merged"], closed_unmerged=r["closed_unmerged"],
        open=r["open"], merged_share=r["merged"] / r["prs"],
        closed_unmerged_share=r["closed_unmerged"] / r["prs"],
        median_open_to_merge_s=r["median_open_to_merge_s"],
        median_open_to_close_s=r["median_open_to_close_s"]) for r in found]


def _item_pilot(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters, cohorts: Cohorts
                ) -> tuple[list[Comparison], list[str]]:
    """Work items created after vs before the pilot: spec → production, spec and queue time."""
    if cohorts.pilot_start is None or not cohorts.per_metric:
        return [], []
    if not backend.to_pyarrow(backend.table("work_items").count()).as_py():
        return [], ["item-level pilot figures (spec → production, time spent on the"
                    " specification) need work items: run `leadlens ingest jira` or ingest GitHub"
                    " issues"]
    facts = backend.to_pyarrow(item_facts(item_flow(backend, filters, fl.cache),
                                          filters.include_bots))
    return item_pilot(facts, cohorts)


def _section(impact: Impact, cohorts: Cohorts, rules: Rules, n: int, n_ai: int,
             line_share: float | None, counts: list[RuleCount], surv: list[Survival],
             by_tool: list[ToolPullRequests] | None, dropped: list[str],
             item_pilot: list[Comparison], by_signal: SignalSplit | None) -> AiSection:
    # The comparisons are over the flow's scope: say what it leaves out, as the report does.
    messages = [*impact.messages, *dropped]
    if not surv:
        messages.append("AI code survival needs line history: run `leadlens ingest git PATH"
                        " --line-history`")
    if by_tool is None:
        messages.append("pull requests by tool (by_tool) need pull request data: run `leadlens"
                        " ingest github OWNER/REPO`")
    return AiSection(
        headline=ai_headline(impact, n, n_ai), changes=n, ai_changes=n_ai,
        ai_change_share=n_ai / n if n else None, ai_line_share=line_share, rules=counts,
        rules_in_force=[r.name for r in rules.rules], pilot_start=cohorts.pilot_start,
        pilot_team=list(cohorts.pilot_team), control_team=list(cohorts.control_team),
        resamples=cohorts.resamples, seed=cohorts.seed, comparisons=impact.comparisons,
        pilot=impact.pilot, item_pilot=item_pilot, did=impact.did, amdahl=impact.amdahl,
        amdahl_basis=impact.amdahl_basis, survival=surv, by_tool=by_tool, messages=messages,
        by_signal=by_signal)


def _survival(rows: list[dict[str, object]], days: int) -> Survival:
    by = {bool(r["ai"]): r for r in rows}

    def get(ai: bool, key: str) -> int:
        value = by.get(ai, {}).get(key)
        return int(value) if isinstance(value, int) else 0

    def share(ai: bool) -> float | None:
        added = get(ai, "added")
        return get(ai, "rewritten") / added if added else None

    return Survival(days=days, ai_commits=get(True, "commits"), ai_lines=get(True, "added"),
                    ai_rewritten=get(True, "rewritten"), ai_rewritten_share=share(True),
                    human_commits=get(False, "commits"), human_lines=get(False, "added"),
                    human_rewritten=get(False, "rewritten"), human_rewritten_share=share(False))
