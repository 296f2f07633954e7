"""Handoffs and flow: assignee changes, participants, time blocked, cross-team dependencies, work in
progress per team per day and context switching (docs/metrics-coordination.md, "Handoffs and
flow"; JSON ``coordination.handoffs``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
from pydantic import BaseModel, ConfigDict

from leadlens.analysis import stats
from leadlens.analysis.items_summary import delivered_items, has_items
from leadlens.analysis.waiting import WaitingCause
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED, Settings
from leadlens.conventions import BotRule
from leadlens.engines import one, rows
from leadlens.metrics import flow as fm
from leadlens.metrics.handoffs import (
    assignee_changes,
    blocked_time,
    change_participants,
    cross_team_links,
    item_life,
    item_participants,
)
from leadlens.metrics.items import ItemFlow, item_flow
from leadlens.metrics.teams import Teams, item_teams
from leadlens.metrics.wip import change_work, item_wip, person_days, switching_changes

__all__ = ["NO_ITEMS", "Blocked", "ContextSwitching", "CrossTeam", "Difference", "HandoffFigures",
           "PersonSwitching", "Spread", "TeamHandoffs", "TeamWip", "WipDay",
           "handoff_change_flags", "handoff_figures"]

NO_ITEMS = ("no work items (`leadlens ingest jira`, or GitHub issues): assignees, blockers and"
            " links between items live there")
HOUR = 3600.0


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Spread(_Figure):
    """A count per item or change: how many were measured, its median, p85 and mean."""

    n: int
    median: float | None
    p85: float | None
    mean: float | None


class TeamHandoffs(_Figure):
    team: str | None
    items: int
    median: float | None
    p85: float | None
    share_with_handoff: float | None


class Blocked(_Figure):
    items: int  # items in scope
    blocked_items: int  # of them, ever blocked
    share_blocked: float | None
    hours_per_item: float | None  # mean over the items in scope (unblocked ones count 0)
    median_hours_blocked: float | None  # among the blocked items
    by_kind: dict[str, int]  # flagged | status | blocked_by -> blocked items (one may have several)


class Difference(_Figure):
    """A median lead time without and with a property, their difference (with - without) and
    its 95% interval (analysis.stats.compare); None with the reason when evidence is lacking."""

    n_without: int
    n_with: int
    median_without_s: float | None
    median_with_s: float | None
    difference_s: float | None
    ci_low_s: float | None
    ci_high_s: float | None
    method: str | None
    reason: str | None


class CrossTeam(_Figure):
    items: int
    linked_items: int  # items linked to an item of another team
    links: int  # such links (each counted from both ends when both are in scope)
    share: float | None
    lead_time: Difference  # spec → production of delivered items, with vs without such a link


class TeamWip(_Figure):
    team: str | None
    days: int
    median: float | None
    max: int | None


class WipDay(_Figure):
    day: date
    team: str | None
    wip: int


class ContextSwitching(_Figure):
    person_days: int  # (person, day) with work in progress
    switching_days: int  # of them, with two or more streams in progress
    share: float | None
    lead_time: Difference  # change lead time, author context-switched during it vs not


class PersonSwitching(_Figure):
    person: str
    person_days: int
    switching_days: int
    share: float | None


class HandoffFigures(_Figure):
    """`coordination.handoffs` in the report (docs/report-json.md)."""

    reason: str | None
    null_reasons: dict[str, str]
    waiting: list[WaitingCause]
    first_day: date | None  # the days the work-in-progress figures cover
    last_day: date | None
    assignee_changes: TeamHandoffs | None  # over every item in scope (team None)
    assignee_changes_by_team: list[TeamHandoffs] | None
    item_participants: Spread | None
    change_participants: Spread | None
    blocked: Blocked | None
    cross_team: CrossTeam | None
    wip_by_team: list[TeamWip] | None
    wip_daily: list[WipDay] | None
    context_switching: ContextSwitching | None
    people: list[PersonSwitching] | None  # only with per_person


def _items_in_scope(life: ir.Table, filters: fm.Filters, as_of: datetime) -> ir.Table:
    """Items (bots left out unless asked for) whose life — creation to done, or to ``as_of`` —
    meets the window ``[since, until)``."""
    life = life.filter(life.created <= as_of)
    if not filters.include_bots:
        life = life.filter(~life.is_bot)
    if filters.until is not None:
        life = life.filter(life.created < filters.until)
    if filters.since is not None:
        life = life.filter(life.done.isnull() | (life.done >= filters.since))
    return life


def _spread(backend: ibis.BaseBackend, t: ir.Table) -> Spread:
    """The spread of ``t.n`` (a count per row; none counts 0)."""
    t = t.select(v=t.n.fill_null(0))
    got = one(backend, t.aggregate(
        n=t.v.count(), median=t.v.quantile(0.5), p85=t.v.quantile(0.85), mean=t.v.mean()))
    return Spread(n=int(got["n"] or 0), median=got["median"], p85=got["p85"], mean=got["mean"])


def _difference(name: str, without: list[float], with_: list[float], labels: tuple[str, str],
                resamples: int, seed: int) -> Difference:
    c = stats.compare(name, np.asarray(without, dtype=float), np.asarray(with_, dtype=float),
                      labels=labels, resamples=resamples, seed=seed)
    return Difference(n_without=c.n_baseline, n_with=c.n_treatment,
                      median_without_s=c.median_baseline, median_with_s=c.median_treatment,
                      difference_s=c.difference, ci_low_s=c.ci_low, ci_high_s=c.ci_high,
                      method=c.method, reason=c.reason)


def _days(backend: ibis.BaseBackend, filters: fm.Filters, as_of: datetime, work: ir.Table,
          life: ir.Table) -> tuple[date | None, date | None]:
    """The UTC days the work-in-progress figures cover: ``since`` (else the first day any work
    started) to the day before ``until`` (else ``as_of``'s day)."""
    last = as_of.astimezone(UTC).date()
    if filters.until is not None:
        last = min(last, (filters.until.astimezone(UTC) - timedelta(microseconds=1)).date())
    if filters.since is not None:
        first: date | None = filters.since.astimezone(UTC).date()
    else:
        starts = work.select(s=work.start).union(life.select(s=life.started))
        lo = one(backend, starts.aggregate(lo=starts.s.min()))["lo"]
        first = lo.astimezone(UTC).date() if lo is not None else None
    if first is None or first > last:
        return None, None
    return first, last


def handoff_figures(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                    settings: Settings, as_of: datetime, *, per_person: bool = False,
                    resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                    items: ItemFlow | None = None) -> HandoffFigures:
    """Every handoff and flow figure over the report's scope: items whose life meets the window,
    the changes of ``fl`` (merged in the window)."""
    bots = filters.bots
    co = settings.coordination
    with_items = has_items(backend)
    changes = int(one(backend, fl.scope.aggregate(n=fl.scope.count()))["n"] or 0)
    if not with_items and not changes:
        return HandoffFigures(
            reason="no work items and no changes in scope", null_reasons={}, waiting=[],
            first_day=None, last_day=None, assignee_changes=None, assignee_changes_by_team=None,
            item_participants=None, change_participants=None, blocked=None, cross_team=None,
            wip_by_team=None, wip_daily=None, context_switching=None, people=None)
    every = fl.cache(item_life(backend, as_of))
    work = fl.cache(change_work(backend, bots, as_of, every))
    life = fl.cache(_items_in_scope(every, filters, as_of))
    first, last = _days(backend, filters, as_of, work, life)
    null: dict[str, str] = {}
    cp = change_participants(backend, fl.scope, bots)
    per_change = fl.scope.select("repo", "id").left_join(
        cp.group_by(["repo", "id"]).aggregate(n=cp.count()), ["repo", "id"])  # rows distinct
    change_spread = _spread(backend, per_change) if changes else None
    if not changes:
        null["change_participants"] = "no changes in scope"
    switching, people = _switching(backend, fl, work, first, last, per_person, resamples, seed)
    idle = "no work in progress: no item or change started by then"
    if switching is None:
        null["context_switching"] = idle
    if not with_items:
        for name in ("assignee_changes", "assignee_changes_by_team", "item_participants",
                     "blocked", "cross_team", "wip_by_team", "wip_daily"):
            null[name] = NO_ITEMS
        return HandoffFigures(
            reason=None, null_reasons=null, waiting=[], first_day=first, last_day=last,
            assignee_changes=None, assignee_changes_by_team=None, item_participants=None,
            change_participants=change_spread, blocked=None, cross_team=None, wip_by_team=None,
            wip_daily=None, context_switching=switching, people=people)
    scope = life.select("item_id", "started")
    overall, by_team = _handoffs(backend, fl, scope, co.teams)
    ip = item_participants(backend, bots)
    # Its rows are distinct people (never NULL): counting them counts the people.
    per_item = scope.left_join(ip.group_by("item_id").aggregate(n=ip.count()), "item_id")
    blocked, waiting = _blocked(backend, scope, co.blocked_statuses, as_of, every)
    wip_team: list[TeamWip] | None = None
    wip_daily: list[WipDay] | None = None
    if first is not None and last is not None:
        wip_team, wip_daily = _wip(backend, fl, co.teams, as_of, first, last,
                                   filters.include_bots, every)
    else:
        null["wip_by_team"] = null["wip_daily"] = idle
    return HandoffFigures(
        reason=None, null_reasons=null, waiting=waiting, first_day=first, last_day=last,
        assignee_changes=overall, assignee_changes_by_team=by_team,
        item_participants=_spread(backend, per_item),
        change_participants=change_spread, blocked=blocked,
        cross_team=_cross_team(backend, fl, filters, scope, co.teams, resamples, seed, items),
        wip_by_team=wip_team, wip_daily=wip_daily, context_switching=switching, people=people)


def _handoffs(backend: ibis.BaseBackend, fl: fm.Flow, scope: ir.Table, teams: Teams
              ) -> tuple[TeamHandoffs, list[TeamHandoffs]]:
    h = assignee_changes(backend)
    j = scope.join(h, "item_id").join(item_teams(backend, teams), "item_id")
    j = fl.cache(j.filter(j.handoffs.notnull()))  # read twice: overall and by team
    aggs = {"items": j.count(), "median": j.handoffs.quantile(0.5),
            "p85": j.handoffs.quantile(0.85), "with_": j.count(where=j.handoffs >= 1)}
    overall = one(backend, j.aggregate(**aggs))

    def fig(team: str | None, r: dict[str, Any]) -> TeamHandoffs:
        n, w = int(r["items"] or 0), int(r["with_"] or 0)
        return TeamHandoffs(team=team, items=n, median=r["median"], p85=r["p85"],
                            share_with_handoff=(w / n) if n else None)

    by = rows(backend, j.group_by("team").aggregate(**aggs).order_by("team"))
    return fig(None, overall), [fig(r["team"], r) for r in by]


def _blocked(backend: ibis.BaseBackend, scope: ir.Table, statuses: tuple[str, ...],
             as_of: datetime, life: ir.Table) -> tuple[Blocked, list[WaitingCause]]:
    b = blocked_time(backend, statuses, as_of, life)
    j = scope.left_join(b, "item_id")
    secs = j.blocked_s.fill_null(0.0)
    got = one(backend, j.aggregate(
        items=j.count(), blocked=j.count(where=j.blocked_s > 0), total=secs.sum(),
        median=j.blocked_s.quantile(0.5), flagged=j.count(where=j.flagged.fill_null(False)),
        status=j.count(where=j.status.fill_null(False)),
        blocked_by=j.count(where=j.blocked_by.fill_null(False)),
        started=j.count(where=j.started.notnull()),
        started_total=secs.sum(where=j.started.notnull())))
    n, hit = int(got["items"] or 0), int(got["blocked"] or 0)
    fig = Blocked(
        items=n, blocked_items=hit, share_blocked=(hit / n) if n else None,
        hours_per_item=(float(got["total"] or 0.0) / n / HOUR) if n else None,
        median_hours_blocked=(got["median"] / HOUR) if got["median"] is not None else None,
        by_kind={k: int(got[k] or 0) for k in ("flagged", "status", "blocked_by")})
    started = int(got["started"] or 0)
    waiting = [WaitingCause(
        cause="blocked", signal="coordination.handoffs", unit="item", units=started,
        hours_per_unit=float(got["started_total"] or 0.0) / started / HOUR,
        detail="flagged, in a blocked status, or waiting on an item that blocks it")
    ] if started else []
    return fig, waiting


def _cross_team(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters, scope: ir.Table,
                teams: Teams, resamples: int, seed: int, items: ItemFlow | None) -> CrossTeam:
    ct = fl.cache(cross_team_links(backend, teams))
    j = scope.join(ct, "item_id")
    got = one(backend, j.aggregate(items=j.count(), hit=j.count(where=j.cross_links > 0),
                                   links=j.cross_links.sum()))
    n, hit = int(got["items"] or 0), int(got["hit"] or 0)
    lt: list[dict[str, Any]] = []
    # An item is delivered by its changes: with no item linked to a change, none is.
    if one(backend, backend.table("item_links").aggregate(n=ibis._.count()))["n"]:
        # Only the spans are read: the item timeline's segments are never computed here.
        done = delivered_items(items or item_flow(backend, filters), filters)
        if filters.since is not None:
            done = done.filter(done.delivered_at >= filters.since)
        if filters.until is not None:
            done = done.filter(done.delivered_at < filters.until)
        d = done.join(ct, "item_id")
        lt = rows(backend, d.select("lead_time_s", cross=d.cross_links > 0))
    diff = _difference("spec_to_production_s",
                       [r["lead_time_s"] for r in lt if not r["cross"]],
                       [r["lead_time_s"] for r in lt if r["cross"]],
                       ("no cross-team link", "cross-team link"), resamples, seed)
    return CrossTeam(items=n, linked_items=hit, links=int(got["links"] or 0),
                     share=(hit / n) if n else None, lead_time=diff)


def _wip(backend: ibis.BaseBackend, fl: fm.Flow, teams: Teams, as_of: datetime, first: date,
         last: date, include_bots: bool, life: ir.Table) -> tuple[list[TeamWip], list[WipDay]]:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    w = fl.cache(item_wip(backend, teams, as_of, days, include_bots, life))  # read twice
    per_team = rows(backend, w.group_by("team").aggregate(
        days=w.count(), median=w.wip.quantile(0.5), max=w.wip.max()).order_by("team"))
    # Days a team had nothing in progress are left out of the series (wip_by_team counts them):
    # years of history and a dozen teams are otherwise tens of thousands of zeros.
    daily = rows(backend, w.filter(w.wip > 0).order_by(["day", "team"]))
    return ([TeamWip(team=r["team"], days=int(r["days"]), median=r["median"], max=r["max"])
             for r in per_team],
            [WipDay(day=r["day"], team=r["team"], wip=int(r["wip"])) for r in daily])


def _switching(backend: ibis.BaseBackend, fl: fm.Flow, work: ir.Table, first: date | None,
               last: date | None, per_person: bool, resamples: int, seed: int
               ) -> tuple[ContextSwitching | None, list[PersonSwitching] | None]:
    if first is None or last is None:
        return None, [] if per_person else None
    # Every person-day once: the figures read its days in the window, the changes all of them.
    every = fl.cache(person_days(work))
    pd = every.filter((every.day >= first) & (every.day <= last))
    agg = {"days": pd.count(), "switching": pd.count(where=pd.streams >= 2)}
    got = one(backend, pd.aggregate(**agg))
    n, hit = int(got["days"] or 0), int(got["switching"] or 0)
    sw = switching_changes(work, every)
    lt = fm.lead_times(fl).join(sw, ["repo", "id"])
    lr = rows(backend, lt.select("lead_time_s", "switched"))
    diff = _difference("lead_time_s", [r["lead_time_s"] for r in lr if not r["switched"]],
                       [r["lead_time_s"] for r in lr if r["switched"]],
                       ("focused", "context-switched"), resamples, seed)
    fig = ContextSwitching(person_days=n, switching_days=hit, share=(hit / n) if n else None,
                           lead_time=diff)
    people = None
    if per_person:
        people = [PersonSwitching(person=r["who"], person_days=int(r["days"]),
                                  switching_days=int(r["switching"]),
                                  share=int(r["switching"]) / int(r["days"]))
                  for r in rows(backend, pd.group_by("who").aggregate(**agg).order_by("who"))]
    return fig, people


def handoff_change_flags(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings,
                         as_of: datetime | None = None) -> ir.Table:
    """``repo``, ``id``, ``handoffs`` (the most assignee changes among the items the change
    serves), ``blocked`` (an item it serves was ever blocked), ``context_switching`` (its author
    had another stream of work in progress on a day it was): per change of ``fl``'s scope, NULL
    where unknown (a change serving no item has no item signal; an author who is no person, or a
    change without a start, no context switching)."""
    now = as_of or datetime.now(UTC)
    bots = BotRule.of(settings.bots)
    sc = fl.scope.select("repo", "id")
    links = backend.table("item_links").select("item_id", "repo", id="change_id").distinct()
    served = links.join(assignee_changes(backend), "item_id")
    blocked = blocked_time(backend, settings.coordination.blocked_statuses, now).select(
        "item_id", hit=ibis.literal(True))
    served = served.left_join(blocked, "item_id")
    per = served.group_by(["repo", "id"]).aggregate(
        handoffs=served.handoffs.max(), blocked=served.hit.fill_null(False).any())
    work = change_work(backend, bots, now)
    sw = switching_changes(work, person_days(work))
    j = sc.left_join(per, ["repo", "id"]).left_join(sw, ["repo", "id"])
    return j.select(sc.repo, sc.id, handoffs=j.handoffs, blocked=j.blocked,
                    context_switching=j.switched)
