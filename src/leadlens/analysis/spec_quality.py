"""Specification quality (`spec_quality` in the report): acceptance criteria when work started,
scope churn after it, reopens, bounce-backs, and what underspecified items cost in lead time and
rework (docs/metrics-coordination.md, "Specification quality")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from leadlens.analysis import stats
from leadlens.analysis.items_summary import delivered_items, has_items
from leadlens.analysis.waiting import WaitingCause
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED, Settings
from leadlens.engines import rows
from leadlens.metrics import flow as fm
from leadlens.metrics import spec_quality as sq
from leadlens.metrics.items import ItemFlow, item_flow
from leadlens.metrics.teams import item_teams

__all__ = ["BASIS", "BounceBacks", "Difference", "PersonSpecQuality", "Reopens", "ScopeChurn",
           "SpecQuality", "TeamSpecQuality", "differences", "spec_quality_figures"]

BASIS = "items whose work started in the window (reopens: items first done in it)"
NO_ITEMS = "no work items: ingest Jira (leadlens ingest jira) or GitHub issues"
NOT_STARTED = "no work item started in the window"
NO_DESCRIPTION_HISTORY = ("no description history: GitHub issues keep only today's body, so"
                          " what an issue said when work started is unknown")
LABELS = ("specified", "underspecified")


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class ScopeChurn(_Figure):
    items: int  # started items whose edit history is known (Jira)
    churned: int  # of them, with any description edit, story-point change or link added after start
    churned_share: float | None  # churned / items
    description_edits: int
    story_point_changes: int
    links_added: int
    events_per_item: float | None  # (description_edits + story_point_changes + links_added) / items


class Reopens(_Figure):
    done: int  # items first done in the window
    reopened: int  # of them, moved from a done status back to a not-done one at least once
    rate: float | None  # reopened / done
    reopens: int  # such moves


class BounceBacks(_Figure):
    items: int  # started items
    bounced: int  # of them, moved at least once from a review/QA status back to in progress
    rate: float | None  # bounced / items
    bounces: int  # such moves
    per_item: float | None  # bounces / items


class Difference(_Figure):
    """Underspecified minus specified items on one metric, with its 95% interval."""

    metric: str  # lead_time_s | revert_rate | rework_rate
    statistic: str  # median | mean
    n_specified: int
    n_underspecified: int
    specified: float | None  # the statistic over specified items
    underspecified: float | None
    difference: float | None  # underspecified - specified
    ci_low: float | None
    ci_high: float | None
    method: str | None
    reason: str | None  # why the difference is None (not enough evidence, no line history, ...)


class TeamSpecQuality(_Figure):
    team: str | None
    started: int
    criteria_known: int
    underspecified: int
    underspecified_share: float | None
    churned_share: float | None
    bounce_rate: float | None
    done: int
    reopen_rate: float | None


class PersonSpecQuality(_Figure):
    person: str  # the item's author (who wrote the specification); bots never
    started: int
    criteria_known: int
    underspecified: int
    underspecified_share: float | None


class SpecQuality(_Figure):
    """`spec_quality` in the report (docs/report-json.md)."""

    reason: str | None
    null_reasons: dict[str, str]
    waiting: list[WaitingCause]
    basis: str
    started: int
    criteria_known: int  # started items whose description at start is known (Jira)
    with_criteria: int
    underspecified: int
    underspecified_share: float | None  # underspecified / criteria_known
    scope_churn: ScopeChurn | None
    reopens: Reopens | None
    bounce_backs: BounceBacks | None
    lead_time: Difference | None
    revert_rate: Difference | None
    rework_rate: Difference | None
    teams: list[TeamSpecQuality]
    people: list[PersonSpecQuality] | None


def _share(n: int, of: int) -> float | None:
    return n / of if of else None


def _item_facts(backend: ibis.BaseBackend, items: ItemFlow, fl: fm.Flow, filters: fm.Filters,
                settings: Settings, as_of: datetime) -> ir.Table:
    """One row per started item in the window: team, author, criteria, churn, bounces, lead time,
    reverted and rework lines of its changes in the report's scope."""
    started = sq.started_items(items, include_bots=filters.include_bots, since=filters.since,
                               until=filters.until)
    # Small, and read by every figure below: materialised once, so each query compiles short.
    started = fl.cache(started.filter(started.started_at < as_of))
    crit = sq.acceptance_at_start(backend, started, settings.coordination.acceptance_patterns)
    churn = sq.scope_churn(backend, started, as_of)
    bounces = sq.bounce_backs(backend, started, as_of,
                               settings.coordination.review_status_pattern)
    lead = delivered_items(items, fm.Filters(include_bots=True)).select("item_id", "lead_time_s")
    rw = sq.item_rework(backend, fl.scope, items.links, fm.reverts(backend, fl),
                        settings.flow.rework_days)
    teams = item_teams(backend, settings.coordination.teams)
    out = started.select("item_id", "author", "is_bot")
    for t in (crit, churn, bounces, lead, rw):
        out = out.left_join(t, "item_id").drop("item_id_right")
    out = out.left_join(teams, "item_id").drop("item_id_right")
    return out


def _aggregate(t: ir.Table) -> dict[str, ir.Scalar]:
    churn = t.description_edits + t.story_point_changes + t.links_added
    return {
        "started": t.count(), "known": t.criteria.count(),
        "with": t.count(where=t.criteria), "under": t.count(where=~t.criteria),
        "churn_known": churn.count(), "churned": t.count(where=churn > 0),
        "d": t.description_edits.sum(), "p": t.story_point_changes.sum(),
        "k": t.links_added.sum(), "bounced": t.count(where=t.bounces > 0),
        "bounces": t.bounces.sum(),
    }


def _reopen_rows(backend: ibis.BaseBackend, settings: Settings, filters: fm.Filters,
                 as_of: datetime) -> ir.Table:
    ro = sq.reopens(backend, as_of)
    wi = backend.table("work_items")
    if not filters.include_bots:
        ro = ro.semi_join(wi.filter(~wi.bot).select(item_id=wi.id), "item_id")
    if filters.since is not None:
        ro = ro.filter(ro.done_at >= filters.since)
    if filters.until is not None:
        ro = ro.filter(ro.done_at < filters.until)
    return ro.left_join(item_teams(backend, settings.coordination.teams), "item_id").drop(
        "item_id_right")


def _column(t: pa.Table, name: str) -> np.ndarray:
    col = pc.cast(t.column(name), pa.float64())
    return np.asarray(pc.fill_null(col, np.nan).to_numpy(zero_copy_only=False), dtype=float)


def _difference(metric: str, statistic: stats.Statistic, values: np.ndarray, under: np.ndarray,
                known: np.ndarray, resamples: int, seed: int, empty: str) -> Difference:
    defined = known & ~np.isnan(values)
    b, t = values[defined & ~under], values[defined & under]
    if not b.size and not t.size:
        return Difference(metric=metric, statistic=statistic, n_specified=0, n_underspecified=0,
                          specified=None, underspecified=None, difference=None, ci_low=None,
                          ci_high=None, method=None, reason=empty)
    c = stats.compare(metric, b, t, statistic=statistic, labels=LABELS, resamples=resamples,
                      seed=seed)
    pick = (c.median_baseline, c.median_treatment) if statistic == "median" else (
        c.mean_baseline, c.mean_treatment)
    return Difference(metric=metric, statistic=statistic, n_specified=c.n_baseline,
                      n_underspecified=c.n_treatment, specified=pick[0], underspecified=pick[1],
                      difference=c.difference, ci_low=c.ci_low, ci_high=c.ci_high,
                      method=c.method, reason=c.reason)


def differences(facts: pa.Table, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
                ) -> list[Difference]:
    """Lead time (median), revert rate and rework rate (means) of underspecified minus specified
    items, from one row per started item: ``criteria`` (NULL: unknown, left out),
    ``lead_time_s``, ``changes`` (in scope), ``reverted``, ``changed_lines``, ``recent_lines``."""
    crit = facts.column("criteria")
    known = np.asarray(pc.is_valid(crit).to_numpy(zero_copy_only=False), dtype=bool)
    under = ~np.asarray(pc.fill_null(crit, True).to_numpy(zero_copy_only=False), dtype=bool)
    lead = _column(facts, "lead_time_s")
    changes = _column(facts, "changes")
    reverted = np.where(changes > 0, _column(facts, "reverted"), np.nan)
    changed, recent = _column(facts, "changed_lines"), _column(facts, "recent_lines")
    with np.errstate(invalid="ignore", divide="ignore"):
        rework = np.where(changed > 0, recent / changed, np.nan)
    no_changes = "no started item with a known specification has a change in scope"
    return [
        _difference("lead_time_s", "median", lead, under, known, resamples, seed,
                    "no started item with a known specification was delivered"),
        _difference("revert_rate", "mean", reverted, under, known, resamples, seed, no_changes),
        _difference("rework_rate", "mean", rework, under, known, resamples, seed,
                    "no line history for the items' changes: run leadlens ingest git"
                    " --line-history" if np.any(known & (changes > 0)) else no_changes),
    ]


def _teams(team_rows: list[dict[str, Any]], done: dict[str | None, tuple[int, int]]
           ) -> list[TeamSpecQuality]:
    """Every team with a started item or an item done in the window, by name."""
    started = {r["team"]: r for r in team_rows}
    out = []
    for team in sorted(set(started) | set(done), key=lambda t: (t is None, t or "")):
        r = started.get(team) or {}
        n, known, under = (int(r.get(k) or 0) for k in ("started", "known", "under"))
        n_done, reopened = done.get(team, (0, 0))
        out.append(TeamSpecQuality(
            team=team, started=n, criteria_known=known, underspecified=under,
            underspecified_share=_share(under, known),
            churned_share=_share(int(r.get("churned") or 0), int(r.get("churn_known") or 0)),
            bounce_rate=_share(int(r.get("bounced") or 0), n), done=n_done,
            reopen_rate=_share(reopened, n_done)))
    return out


def spec_quality_figures(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                         settings: Settings, as_of: datetime, *, per_person: bool = False,
                         resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                         items: ItemFlow | None = None) -> SpecQuality:
    """The specification-quality figures over the items whose work started in ``filters``' window
    (and before ``as_of``); ``items``: the report's item timeline when it has one already."""
    empty: dict[str, Any] = dict(
        null_reasons={}, waiting=[], basis=BASIS, started=0, criteria_known=0, with_criteria=0,
        underspecified=0, underspecified_share=None, scope_churn=None, reopens=None,
        bounce_backs=None, lead_time=None, revert_rate=None, rework_rate=None, teams=[],
        people=[] if per_person else None)
    if not has_items(backend):
        return SpecQuality(reason=NO_ITEMS, **empty)
    items = items or item_flow(backend, filters, fl.cache)
    facts = fl.cache(_item_facts(backend, items, fl, filters, settings, as_of))
    ro = _reopen_rows(backend, settings, filters, as_of)
    # Per team in the engine; the overall figures are the teams' sums (every one is a count).
    ro_rows = rows(backend, ro.group_by("team").aggregate(
        done=ro.count(), reopened=ro.count(where=ro.reopens > 0), reopens=ro.reopens.sum()))
    done = {r["team"]: (int(r["done"]), int(r["reopened"])) for r in ro_rows}
    n_done, n_reopened = (sum(int(r[k]) for r in ro_rows) for k in ("done", "reopened"))
    reopens = Reopens(done=n_done, reopened=n_reopened, rate=_share(n_reopened, n_done),
                      reopens=sum(int(r["reopens"] or 0) for r in ro_rows))
    team_rows = rows(backend, facts.group_by("team").aggregate(**_aggregate(facts)).order_by(
        "team"))
    a = {k: sum(int(r[k] or 0) for r in team_rows) for k in _aggregate(facts)}
    started = int(a["started"])
    null_reasons: dict[str, str] = {}
    if not n_done:
        null_reasons["reopens.rate"] = "no work item was done in the window"
    if not started:
        null_reasons["underspecified_share"] = NOT_STARTED
        return SpecQuality(reason=None, **{**empty, "null_reasons": null_reasons,
                                           "reopens": reopens})
    known, under = int(a["known"]), int(a["under"])
    if not known:
        null_reasons["underspecified_share"] = NO_DESCRIPTION_HISTORY
    churn_known = int(a["churn_known"])
    churn = None
    if churn_known:
        events = sum(int(a[k] or 0) for k in ("d", "p", "k"))
        churn = ScopeChurn(items=churn_known, churned=int(a["churned"]),
                           churned_share=_share(int(a["churned"]), churn_known),
                           description_edits=int(a["d"] or 0),
                           story_point_changes=int(a["p"] or 0), links_added=int(a["k"] or 0),
                           events_per_item=events / churn_known)
    else:
        null_reasons["scope_churn"] = ("no edit history: GitHub issues keep no history of their"
                                       " body, estimates or links")
    bounces = int(a["bounces"] or 0)
    bb = BounceBacks(items=started, bounced=int(a["bounced"]), rate=int(a["bounced"]) / started,
                     bounces=bounces, per_item=bounces / started)
    lead, revert, rework = differences(backend.to_pyarrow(facts.select(
        "criteria", "lead_time_s", "changes", "reverted", "changed_lines", "recent_lines")),
        resamples, seed)
    people = None
    if per_person:
        # Bots and AI agents are never people (an agent may open an issue)
        humans = facts.filter(~facts.is_bot & facts.author.notnull()
                              & ~filters.bots.ai_ibis(facts.author))
        people = [PersonSpecQuality(
            person=r["author"], started=int(r["started"]), criteria_known=int(r["known"]),
            underspecified=int(r["under"]),
            underspecified_share=_share(int(r["under"]), int(r["known"])))
            for r in rows(backend, humans.group_by("author").aggregate(
                **_aggregate(humans)).order_by("author"))]
    return SpecQuality(
        reason=None, null_reasons=null_reasons, waiting=[], basis=BASIS, started=started,
        criteria_known=known, with_criteria=int(a["with"]), underspecified=under,
        underspecified_share=_share(under, known), scope_churn=churn, reopens=reopens,
        bounce_backs=bb, lead_time=lead, revert_rate=revert, rework_rate=rework,
        teams=_teams(team_rows, done), people=people)
