"""The defect escape figures of the report (`coordination.defect_escapes`): bugs reported after the
change that introduced them shipped, escape rates per change cohort, time from release to
detection."""

from __future__ import annotations

from datetime import datetime

import ibis
from pydantic import BaseModel, ConfigDict

from leadlens.analysis.collisions import Difference, Rate, compare_rates, rate
from leadlens.analysis.waiting import WaitingCause
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED, Settings
from leadlens.engines import one, rows
from leadlens.metrics import flow as fm
from leadlens.metrics.escapes import bugs, change_cohorts, escapes, has_line_history
from leadlens.metrics.spec_quality import spec_change_flags
from leadlens.metrics.teams import change_teams

__all__ = ["Detection", "EscapeCohort", "EscapeComparison", "EscapeFigures", "PersonEscapes",
           "TeamEscapes", "escape_figures"]

NO_BUGS = ("no bug reports: no Jira issue of a type in bug_issue_types and no GitHub issue"
           " labelled with one of bug_labels")
NO_LINE_HISTORY = ("no line history: the SZZ route (the lines a fix changed were last touched by"
                   " which change) needs `leadlens ingest git --line-history`")


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class EscapeCohort(_Figure):
    dimension: str  # ai_assisted | size | reviewed | underspecified
    cohort: str  # AI-assisted / other; XS ... XL; reviewed / not reviewed
    rate: Rate  # of the cohort's shipped changes, those a later bug links back to


class EscapeComparison(_Figure):
    dimension: str
    difference: Difference


class Detection(_Figure):
    """Time from release to detection over escaped bugs: from the latest ship of a change the bug
    links back to (shipped before it) to the bug's report."""

    n: int
    median_s: float | None
    p85_s: float | None


class TeamEscapes(_Figure):
    team: str
    shipped: int
    escaped: int
    rate: float | None


class PersonEscapes(_Figure):
    person: str  # the change's author
    shipped: int
    escaped: int
    rate: float | None


class EscapeFigures(_Figure):
    """`coordination.defect_escapes` in the report (docs/report-json.md)."""

    reason: str | None
    null_reasons: dict[str, str]
    waiting: list[WaitingCause]
    bugs: int | None  # bug reports in the store (bots' left out unless included)
    bugs_with_fix: int | None  # of them, linked to a change that fixes them
    linked_back: int | None  # bugs linked back to a change of the scope
    escaped_bugs: int | None  # of those, linked to a change shipped before they were reported
    caught_before_release: int | None  # linked back only to changes not shipped before them
    links_by_how: dict[str, int] | None  # bug → change links of the scope by route
    shipped_changes: int | None  # changes of the scope with their end milestone
    escaped_changes: int | None  # of them, linked back from a bug reported after they shipped
    escape_rate: Rate | None
    cohorts: list[EscapeCohort] | None
    comparisons: list[EscapeComparison] | None
    detection: Detection | None
    teams: list[TeamEscapes] | None
    per_person: list[PersonEscapes] | None = None


def _null(reason: str) -> EscapeFigures:
    return EscapeFigures(reason=reason, null_reasons={}, waiting=[], bugs=None, bugs_with_fix=None,
                         linked_back=None, escaped_bugs=None, caught_before_release=None,
                         links_by_how=None, shipped_changes=None, escaped_changes=None,
                         escape_rate=None, cohorts=None, comparisons=None, detection=None,
                         teams=None)


def escape_figures(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                   settings: Settings, as_of: datetime, *, per_person: bool = False,
                   resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
                   ) -> EscapeFigures:
    """The defect escape figures over the report's scope: the introducing changes are the
    scope's (merged in ``filters``' window, bots left out unless asked for); bugs are counted
    whenever they were reported (``as_of`` is not needed: escapes are about what was reported)."""
    bug = bugs(backend, settings, filters.include_bots)
    n_bugs = int(one(backend, bug.aggregate(n=bug.count())).get("n") or 0)
    if not n_bugs:
        return _null(NO_BUGS)
    null_reasons: dict[str, str] = {}
    if not has_line_history(backend):
        null_reasons["links_by_how.szz"] = NO_LINE_HISTORY
    links = backend.table("item_links").semi_join(bug.select("item_id"), "item_id")
    with_fix = int(one(backend, links.aggregate(n=links.item_id.nunique())).get("n") or 0)
    e = escapes(backend, fl, settings, filters.include_bots)
    per_bug = e.group_by("item_id").aggregate(
        escaped=e.escaped.any(), detection_s=e.detection_s.min())
    b = one(backend, per_bug.aggregate(
        linked=per_bug.count(), escaped=per_bug.escaped.sum().cast("int64"),
        n=per_bug.detection_s.count(), median_s=per_bug.detection_s.quantile(0.5),
        p85_s=per_bug.detection_s.quantile(0.85)))
    how = e.select(h=e.how.split(",").unnest())
    by_how = {r["h"]: int(r["n"]) for r in rows(backend, how.group_by("h").aggregate(
        n=how.count()).order_by("h"))}
    linked, escaped_bugs = int(b.get("linked") or 0), int(b.get("escaped") or 0)
    detection = Detection(n=int(b.get("n") or 0), median_s=b.get("median_s"),
                          p85_s=b.get("p85_s"))
    if not detection.n:
        null_reasons["detection"] = "no escaped bug: nothing was detected after a release"
    if not linked:  # nothing to count escapes with: unknown, not a rate of zero
        why = ("no bug links back to a change of the scope: no `Caused by`, no Jira"
               " \"is caused by\" link, no `Fixes: <sha>` trailer on a fix, no line history"
               " for SZZ")
        return EscapeFigures(
            reason=None, null_reasons={**null_reasons, **dict.fromkeys(
                ("escape_rate", "cohorts", "comparisons", "teams"), why)},
            waiting=[], bugs=n_bugs, bugs_with_fix=with_fix, linked_back=0, escaped_bugs=0,
            caught_before_release=0, links_by_how=by_how, shipped_changes=None,
            escaped_changes=None, escape_rate=None, cohorts=None, comparisons=None,
            detection=detection, teams=None)
    c = _flagged(backend, fl, settings, e)
    shipped = c.filter(c.shipped)
    total = one(backend, shipped.aggregate(n=shipped.count(),
                                           hits=shipped.escaped.sum().cast("int64")))
    n_shipped, n_escaped = int(total.get("n") or 0), int(total.get("hits") or 0)
    if not n_shipped:
        null_reasons["escape_rate"] = "no change of the scope has shipped yet"
    cohorts, comparisons = _cohorts(backend, shipped, resamples=resamples, seed=seed)
    return EscapeFigures(
        reason=None, null_reasons=null_reasons, waiting=[], bugs=n_bugs, bugs_with_fix=with_fix,
        linked_back=linked, escaped_bugs=escaped_bugs,
        caught_before_release=linked - escaped_bugs, links_by_how=by_how,
        shipped_changes=n_shipped, escaped_changes=n_escaped,
        escape_rate=rate(n_escaped, n_shipped) if n_shipped else None,
        cohorts=cohorts, comparisons=comparisons, detection=detection,
        teams=_teams(backend, fl, shipped, settings),
        per_person=_people(backend, shipped) if per_person else None)


def _flagged(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings, e: ibis.Table
             ) -> ibis.Table:
    """The scope's cohorts (metrics/escapes.change_cohorts) with ``escaped`` per change."""
    c = change_cohorts(backend, fl, settings)
    hit = e.filter(e.escaped).select("cid").distinct().mutate(hit=ibis.literal(True))
    c = c.left_join(hit, "cid").drop("cid_right")
    spec = spec_change_flags(backend, fl, settings)
    c = c.left_join(spec, ["repo", "id"]).drop("repo_right", "id_right")
    return c.mutate(escaped=c.hit.fill_null(False)).drop("hit")


_LABELS = {"ai_assisted": ("other", "AI-assisted"), "reviewed": ("reviewed", "not reviewed"),
           "underspecified": ("specified", "underspecified")}
_DIMENSIONS = ("ai_assisted", "size", "reviewed", "underspecified")


def _cohorts(backend: ibis.BaseBackend, shipped: ibis.Table, *, resamples: int, seed: int
             ) -> tuple[list[EscapeCohort], list[EscapeComparison]]:
    s = shipped
    ai = s.select("escaped", dimension=ibis.literal("ai_assisted"),
                  cohort=ibis.ifelse(s.ai_assisted, "AI-assisted", "other"))
    size = s.select("escaped", dimension=ibis.literal("size"), cohort=s.size)
    rv = s.filter(s.reviewed.notnull())
    reviewed = rv.select("escaped", dimension=ibis.literal("reviewed"),
                         cohort=ibis.ifelse(rv.reviewed, "reviewed", "not reviewed"))
    us = s.filter(s.underspecified.notnull())
    spec = us.select("escaped", dimension=ibis.literal("underspecified"),
                     cohort=ibis.ifelse(us.underspecified, "underspecified", "specified"))
    long = ai.union(size).union(reviewed).union(spec)
    g = long.group_by(["dimension", "cohort"]).aggregate(
        n=long.count(), hits=long.escaped.sum().cast("int64"))
    order = {name: i for i, name in enumerate(
        ("other", "AI-assisted", *(b for b, _ in fm.SIZE_BUCKETS), "reviewed", "not reviewed",
         "specified", "underspecified"))}
    found = sorted(rows(backend, g), key=lambda r: (
        _DIMENSIONS.index(r["dimension"]),
        order.get(r["cohort"], len(order))))
    cohorts = [EscapeCohort(dimension=r["dimension"], cohort=r["cohort"],
                            rate=rate(int(r["hits"]), int(r["n"]))) for r in found]
    comparisons = []
    for dim, labels in _LABELS.items():
        by = {c.cohort: c.rate for c in cohorts if c.dimension == dim}
        base, treat = (by.get(label, rate(0, 0)) for label in labels)
        comparisons.append(EscapeComparison(dimension=dim, difference=compare_rates(
            base, treat, labels, resamples=resamples, seed=seed)))
    return cohorts, comparisons


def _teams(backend: ibis.BaseBackend, fl: fm.Flow, shipped: ibis.Table, settings: Settings
           ) -> list[TeamEscapes]:
    t = change_teams(fl.scope, settings.coordination.teams)
    j = shipped.join(t, ["repo", "id"])
    g = j.group_by("team").aggregate(n=j.count(), hits=j.escaped.sum().cast("int64"))
    return [TeamEscapes(team=r["team"], shipped=int(r["n"]), escaped=int(r["hits"]),
                        rate=int(r["hits"]) / int(r["n"]))
            for r in rows(backend, g.order_by("team"))]


def _people(backend: ibis.BaseBackend, shipped: ibis.Table) -> list[PersonEscapes]:
    k = shipped.filter(shipped.author.notnull())
    g = k.group_by("author").aggregate(n=k.count(), hits=k.escaped.sum().cast("int64"))
    return [PersonEscapes(person=r["author"], shipped=int(r["n"]), escaped=int(r["hits"]),
                          rate=int(r["hits"]) / int(r["n"]))
            for r in rows(backend, g.order_by("author"))]
