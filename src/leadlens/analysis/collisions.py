"""The collision figures of the report (`coordination.collisions`): how many changes collided with
another in flight on the same file, what followed, and where collisions gather."""

from __future__ import annotations

import math
from datetime import datetime

import ibis
import numpy as np
from pydantic import BaseModel, ConfigDict

from leadlens.analysis.rates import rate_difference
from leadlens.analysis.stats import MIN_N
from leadlens.analysis.waiting import WaitingCause
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED, Settings
from leadlens.engines import one, rows
from leadlens.metrics import flow as fm
from leadlens.metrics.collisions import change_outcomes, collision_pairs, path_ids, zone
from leadlens.metrics.teams import change_teams

__all__ = ["CollisionFigures", "CollisionOutcome", "CollisionZone", "Difference",
           "PersonCollisions", "Rate", "TeamCollisions", "collision_figures", "compare_rates",
           "rate", "wilson"]

TOP_ZONES = 10
_Z = 1.959963984540054  # the normal quantile of a two-sided 95% interval


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Rate(_Figure):
    """``hits`` of ``n``, with its 95% Wilson score interval (None without any ``n``)."""

    n: int
    hits: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


class Difference(_Figure):
    """``treatment`` rate minus ``baseline`` rate with its 95% interval (analysis/rates.py), or
    None with the ``reason`` (fewer than 20 changes in a cohort)."""

    baseline: str
    treatment: str
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    method: str | None
    reason: str | None


class CollisionOutcome(_Figure):
    outcome: str  # conflict | revert | rework
    collided: Rate  # of collided changes, those the outcome followed within the window
    other: Rate  # of changes that collided with none
    difference: Difference  # collided - other


class CollisionZone(_Figure):
    zone: str  # the first two directories of the paths (`.`: the repository's root)
    repo: str
    pairs: int  # colliding pairs that share a path in it
    changes: int  # changes in those pairs
    paths: int  # distinct shared paths in it


class TeamCollisions(_Figure):
    team: str
    changes: int
    collided: int
    share: float | None


class PersonCollisions(_Figure):
    person: str  # the change's author (never a bot: bots' changes are out of scope)
    changes: int
    collided: int
    share: float | None


class CollisionFigures(_Figure):
    """`coordination.collisions` in the report (docs/report-json.md)."""

    reason: str | None
    null_reasons: dict[str, str]
    waiting: list[WaitingCause]
    window_days: float | None  # rework_days: how long after the (later) merge outcomes count
    changes: int | None  # changes in scope with an in-flight interval
    collided: int | None  # of them, in flight with another on a same file
    share: float | None  # collided / changes
    pairs: int | None  # colliding pairs
    outcomes: list[CollisionOutcome] | None
    zones: list[CollisionZone] | None  # the hottest, by pairs (at most 10)
    teams: list[TeamCollisions] | None
    per_person: list[PersonCollisions] | None = None


def wilson(hits: int, n: int) -> tuple[float | None, float | None]:
    """The 95% Wilson score interval of ``hits`` of ``n`` (closed form: exact at 0 and n)."""
    if n <= 0:
        return None, None
    p = hits / n
    centre = (p + _Z * _Z / (2 * n)) / (1 + _Z * _Z / n)
    half = _Z * math.sqrt(p * (1 - p) / n + _Z * _Z / (4 * n * n)) / (1 + _Z * _Z / n)
    # At 0 and n the interval touches its bound exactly (rounding would leave 1e-18).
    low = 0.0 if hits == 0 else max(0.0, centre - half)
    high = 1.0 if hits == n else min(1.0, centre + half)
    return low, high


def rate(hits: int, n: int) -> Rate:
    low, high = wilson(hits, n)
    return Rate(n=n, hits=hits, rate=hits / n if n else None, ci_low=low, ci_high=high)


def compare_rates(baseline: Rate, treatment: Rate, labels: tuple[str, str], *, resamples: int,
                  seed: int) -> Difference:
    """treatment - baseline with its BCa interval by binomial resampling; None with the reason
    below 20 changes in a cohort (analysis/stats.MIN_N)."""
    short = [f"{r.n} {label} changes" for r, label in zip((baseline, treatment), labels,
                                                          strict=True) if r.n < MIN_N]
    if short:
        return Difference(baseline=labels[0], treatment=labels[1], difference=None, ci_low=None,
                          ci_high=None, method=None,
                          reason=f"not enough evidence: {' and '.join(short)}, need {MIN_N}")

    def ones(r: Rate) -> np.ndarray:
        return np.repeat(np.array([1.0, 0.0]), [r.hits, r.n - r.hits])

    found = rate_difference(ones(baseline), ones(treatment), resamples=resamples, seed=seed)
    return Difference(baseline=labels[0], treatment=labels[1], difference=found.estimate,
                      ci_low=found.low, ci_high=found.high, method=found.method, reason=None)


def _null(reason: str) -> CollisionFigures:
    return CollisionFigures(reason=reason, null_reasons={}, waiting=[], window_days=None,
                            changes=None, collided=None, share=None, pairs=None, outcomes=None,
                            zones=None, teams=None)


def collision_figures(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                      settings: Settings, as_of: datetime, *, per_person: bool = False,
                      resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
                      ) -> CollisionFigures:
    """The collision figures over the report's scope (changes merged in ``filters``' window, bots
    left out unless asked for; ``as_of`` is not needed: every figure is about merged changes)."""
    days = settings.flow.rework_days
    o = change_outcomes(backend, fl, days)
    counts = one(backend, o.aggregate(
        n=o.count(), collided=o.collided.sum().cast("int64"),
        history=o.reworked.count()))
    n = int(counts.get("n") or 0)
    if not n:
        return _null("no changes in scope with a first commit time: nothing was in flight")
    if not backend.table("commit_files").limit(1).to_pyarrow().num_rows:
        return _null("no files changed are stored: ingest the repositories with git")
    pairs = collision_pairs(backend, fl)
    # A cid names one change of one repository: (a, b) is the pair.
    n_pairs = int(one(backend, pairs.select("a", "b").distinct().aggregate(
        n=ibis._.count())).get("n") or 0)
    null_reasons: dict[str, str] = {}
    outcomes = []
    by = {(r["collided"], r["outcome"]): r for r in rows(backend, _outcome_counts(o))}
    for outcome in ("conflict", "revert", "rework"):
        if outcome == "rework" and not counts.get("history"):
            null_reasons["outcomes.rework"] = (
                "no line history: ingest git with --line-history to see rework")
            continue
        c = by.get((True, outcome), {})
        x = by.get((False, outcome), {})
        hit = rate(int(c.get("hits") or 0), int(c.get("n") or 0))
        other = rate(int(x.get("hits") or 0), int(x.get("n") or 0))
        outcomes.append(CollisionOutcome(
            outcome=outcome, collided=hit, other=other,
            difference=compare_rates(other, hit, ("not collided", "collided"),
                                     resamples=resamples, seed=seed)))
    collided = int(counts.get("collided") or 0)
    return CollisionFigures(
        reason=None, null_reasons=null_reasons, waiting=[], window_days=days, changes=n,
        collided=collided, share=collided / n, pairs=n_pairs, outcomes=outcomes,
        zones=_zones(backend, fl), teams=_teams(backend, fl, o, settings),
        per_person=_people(backend, o) if per_person else None)


def _outcome_counts(o: ibis.Table) -> ibis.Table:
    """``collided``, ``outcome``, ``n`` (changes whose outcome is known), ``hits``."""
    long = o.select("collided", outcome=ibis.literal("conflict"), hit=o.conflict).union(
        o.select("collided", outcome=ibis.literal("revert"), hit=o.reverted)).union(
        o.select("collided", outcome=ibis.literal("rework"), hit=o.reworked))
    return long.group_by(["collided", "outcome"]).aggregate(
        n=long.hit.count(), hits=long.hit.sum().cast("int64"))


def _zones(backend: ibis.BaseBackend, fl: fm.Flow) -> list[CollisionZone]:
    p = collision_pairs(backend, fl)
    # The zone of each distinct shared path once (thousands), not of every pair and path
    # (millions); materialised, or DuckDB would compute it after the join, once per pair.
    shared = path_ids(backend, fl).semi_join(p.select("pid").distinct(), "pid")
    zones = fl.cache(shared.mutate(zone=zone(shared.path)).select("pid", "repo", "zone"))
    p = p.join(zones, "pid").select("repo", "zone", path="pid", a="a", b="b")
    per_pair = p.select("repo", "zone", "a", "b").distinct()
    ends = per_pair.select("repo", "zone", cid=per_pair.a).union(
        per_pair.select("repo", "zone", cid=per_pair.b))
    pairs = per_pair.group_by(["repo", "zone"]).aggregate(pairs=per_pair.count())
    paths = p.select("repo", "zone", "path").distinct().group_by(["repo", "zone"]).aggregate(
        paths=ibis._.count())
    ch = ends.group_by(["repo", "zone"]).aggregate(changes=ends.cid.nunique())
    z = pairs.join(paths, ["repo", "zone"]).join(ch, ["repo", "zone"])
    z = z.order_by([ibis.desc("pairs"), "repo", "zone"]).limit(TOP_ZONES)
    return [CollisionZone(zone=r["zone"], repo=r["repo"], pairs=int(r["pairs"]),
                          changes=int(r["changes"]), paths=int(r["paths"]))
            for r in rows(backend, z)]


def _teams(backend: ibis.BaseBackend, fl: fm.Flow, o: ibis.Table, settings: Settings
           ) -> list[TeamCollisions]:
    t = change_teams(fl.scope, settings.coordination.teams)
    j = o.join(t, ["repo", "id"])
    g = j.group_by("team").aggregate(changes=j.count(), collided=j.collided.sum().cast("int64"))
    return [TeamCollisions(team=r["team"], changes=int(r["changes"]), collided=int(r["collided"]),
                           share=int(r["collided"]) / int(r["changes"]))
            for r in rows(backend, g.order_by("team"))]


def _people(backend: ibis.BaseBackend, o: ibis.Table) -> list[PersonCollisions]:
    k = o.filter(o.author.notnull())
    g = k.group_by("author").aggregate(changes=k.count(), collided=k.collided.sum().cast("int64"))
    return [PersonCollisions(person=r["author"], changes=int(r["changes"]),
                             collided=int(r["collided"]),
                             share=int(r["collided"]) / int(r["changes"]))
            for r in rows(backend, g.order_by("author"))]
