"""The time-zone figures of the report (`coordination.time_zones`): does working across time zones
cost hours per change? Pickup and round trips by author-reviewer distance, what the distance adds,
and the share of pickup waiting that falls outside the reviewer's working hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from leadlens.analysis import stats
from leadlens.analysis.bootstrap import Array, Sample, intervals, rows
from leadlens.analysis.waiting import WaitingCause
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED, Settings
from leadlens.conventions import BotRule
from leadlens.engines import one
from leadlens.engines import rows as fetch
from leadlens.metrics import flow as fm
from leadlens.metrics import time_zones as tz
from leadlens.metrics.teams import change_teams

__all__ = ["MIN_INTERVAL", "NO_OFFSETS", "NO_PULL_REQUESTS", "NO_REVIEWS", "Bucket", "Extra",
           "PersonHours", "PersonOffset", "TeamTimeZones", "TimeZoneFigures",
           "time_zone_figures"]

NO_PULL_REQUESTS = ("no pull request data for the changes in scope: git alone has no reviews, so"
                    " no author-reviewer distance (`leadlens ingest github OWNER/REPO`)")
NO_REVIEWS = "no review by a person on the merged pull requests in scope"
NO_OFFSETS = ("no author or reviewer has a known UTC offset: offsets come from the time zones of"
              " their commits, and none of their commits is stored (ingest the git clone too)")
MIN_INTERVAL = 10  # values in a bucket before its median gets a 95% interval
PERIOD = "calendar quarter (UTC)"
CAUSE = "waiting across time zones"


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Extra(_Figure):
    """What a distance adds to the 0-2 h bucket's median (hours), with its 95% interval."""

    hours: float | None
    ci_low: float | None
    ci_high: float | None
    method: str | None
    reason: str | None  # why `hours` is None (not enough evidence: 20 per side)


class Bucket(_Figure):
    """One distance bucket of pickups or round trips (hours)."""

    bucket: str  # 0-2 h | 3-5 h | 6-8 h | 9+ h | unknown
    n: int
    median_h: float | None
    ci_low_h: float | None  # 95% bootstrap interval of the median (MIN_INTERVAL values or more)
    ci_high_h: float | None
    vs_same_zone: Extra | None  # median minus the 0-2 h median; None for 0-2 h and unknown


class TeamTimeZones(_Figure):
    team: str
    reviews: int  # first reviews by people of the team's merged PRs
    known_distance: int  # of them, with both offsets known
    cross_tz: int  # of them, 6 h or more apart
    pickup_median_h: float | None
    outside_hours_share: float | None  # of pickup hours (reviews with a known reviewer offset)


class PersonOffset(_Figure):
    login: str
    quarter: str  # e.g. 2024Q2
    offset_h: float  # the mode of their commits' UTC offsets that quarter
    commits: int


class PersonHours(_Figure):
    login: str
    working_hours: list[int]  # local hours of the day (0-23)
    activity: int  # commits, reviews and comments the histogram counts


class TimeZoneFigures(_Figure):
    """`coordination.time_zones` in the report (docs/report-json.md)."""

    reason: str | None
    null_reasons: dict[str, str]
    waiting: list[WaitingCause]
    period: str  # what a person's usual offset is taken over
    working_share: float  # working hours hold this share of a person's activity
    reviews: int | None  # first reviews by people (one per reviewer and merged PR in scope)
    reviews_known_distance: int | None
    people: int | None  # PR authors and reviewers of those reviews
    people_unknown_offset: int | None  # of them, without a commit: offset unknown
    pickup: list[Bucket] | None  # ready for review -> the reviewer's first review
    round_trips: int | None
    round_trip: list[Bucket] | None  # asked -> answered -> reviewed again
    pickup_cross_tz_extra: Extra | None  # 6 h or more apart vs 0-2 h: pickup median
    round_trip_cross_tz_extra: Extra | None  # ... round-trip median: hours per round trip
    outside_hours_share: float | None  # of pickup hours, outside the reviewer's working hours
    waiting_across_time_zones_h: float | None  # per change: see docs
    changes_known_distance: int | None
    teams: list[TeamTimeZones] | None
    offsets: list[PersonOffset] | None  # per person only
    working_hours: list[PersonHours] | None  # per person only


def _extra(base: Array, other: Array, label: str, resamples: int, seed: int) -> Extra:
    """``stats.compare``'s difference of medians and its interval (the same resamples, so the same
    figures), without the p-value, Cliff's delta and Hodges-Lehmann estimate it would compute
    and this figure does not show (seconds on 200,000 reviews)."""
    if min(base.size, other.size) < stats.MIN_N:  # compare's reason, from its cheap path
        c = stats.compare(f"hours ({label})", base, other, labels=(tz.BUCKETS[0], label),
                          resamples=resamples, seed=seed)
        return Extra(hours=c.difference, ci_low=c.ci_low, ci_high=c.ci_high, method=c.method,
                     reason=c.reason)
    resamples = stats.check_parameters("median", resamples, 0.95, stats.MIN_N, stats.MIN_N)
    base = stats.as_array(base, f"hours ({label}) ({tz.BUCKETS[0]})")
    other = stats.as_array(other, f"hours ({label}) ({label})")
    (iv,) = intervals([Sample((base,), "median"), Sample((other,), "median")],
                      lambda parts: rows(parts[1][0] - parts[0][0]), resamples=resamples,
                      seed=seed, confidence=0.95)
    return Extra(hours=float(np.median(other)) - float(np.median(base)), ci_low=iv.low,
                 ci_high=iv.high, method=iv.method, reason=None)


def _buckets(values: tuple[npt.NDArray[np.str_], Array], resamples: int, seed: int
             ) -> list[Bucket]:
    """Per bucket: n, the median with its interval (from MIN_INTERVAL values) and what it adds
    to the 0-2 h median (from stats.MIN_N a side), all from ONE bootstrap: the buckets are
    resampled independently, each interval is of its own row (a bootstrap per figure would cost
    a dozen times as much on a large store)."""
    names = (*tz.BUCKETS, tz.UNKNOWN)
    labels, hours = values
    by = {b: hours[labels == b] for b in names}
    base = tz.BUCKETS[0]
    sampled = [b for b in names if by[b].size >= MIN_INTERVAL]
    at = {b: i for i, b in enumerate(sampled)}
    compared = [b for b in tz.BUCKETS[1:] if b in at and base in at
                and min(by[b].size, by[base].size) >= stats.MIN_N]

    def combine(parts: list[Array]) -> Array:
        medians = [parts[at[b]][0] for b in sampled]
        return rows(*medians, *[parts[at[b]][0] - parts[at[base]][0] for b in compared])

    found = intervals([Sample((by[b],), "median") for b in sampled], combine,
                      resamples=resamples, seed=seed, confidence=0.95) if sampled else []
    ci = dict(zip(sampled, found[:len(sampled)], strict=True))
    vs = dict(zip(compared, found[len(sampled):], strict=True))
    out = []
    for b in names:
        xs = by[b]
        median = float(np.median(xs)) if xs.size else None
        extra: Extra | None = None
        if b not in (base, tz.UNKNOWN):
            if b in vs:
                iv = vs[b]
                extra = Extra(hours=iv.estimate, ci_low=iv.low, ci_high=iv.high, method=iv.method,
                              reason=None)
            else:
                extra = Extra(hours=None, ci_low=None, ci_high=None, method=None, reason=(
                    f"not enough evidence: {by[base].size} reviews at 0-2 h and {xs.size} at"
                    f" {b}, need {stats.MIN_N} each"))
        iv_b = ci.get(b)
        out.append(Bucket(bucket=b, n=int(xs.size), median_h=median,
                          ci_low_h=iv_b.low if iv_b else None,
                          ci_high_h=iv_b.high if iv_b else None, vs_same_zone=extra))
    return out


def _cross(values: tuple[npt.NDArray[np.str_], Array], label: str, resamples: int, seed: int
           ) -> Extra:
    labels, hours = values
    far = hours[np.isin(labels, tz.BUCKETS[2:])]
    return _extra(hours[labels == tz.BUCKETS[0]], far, label, resamples, seed)


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def time_zone_figures(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                      settings: Settings, as_of: datetime, *, per_person: bool = False,
                      resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
                      ) -> TimeZoneFigures:
    """Time-zone figures over the merged pull requests of ``fl``'s scope (its changes merged in
    ``filters``' window; bot changes already left out). ``as_of`` is unused: every figure is of
    reviews that happened."""
    del as_of
    rule = BotRule.of(settings.bots)
    empty: dict[str, Any] = {
        "null_reasons": {}, "waiting": [], "period": PERIOD, "working_share": tz.WORKING_SHARE,
        "reviews": None, "reviews_known_distance": None, "people": None,
        "people_unknown_offset": None, "pickup": None, "round_trips": None, "round_trip": None,
        "pickup_cross_tz_extra": None, "round_trip_cross_tz_extra": None,
        "outside_hours_share": None, "waiting_across_time_zones_h": None,
        "changes_known_distance": None, "teams": None, "offsets": None, "working_hours": None}
    scope = fl.scope
    p = backend.table("pull_requests")
    prs = scope.join(p.filter(p.merged_at.notnull()).select("repo", "number"), ["repo", "number"])
    if not fetch(backend, prs.aggregate(n=prs.count()))[0]["n"]:
        return TimeZoneFigures(reason=NO_PULL_REQUESTS, **empty)
    commits = fl.cache(tz.person_commits(backend, rule))
    offs = fl.cache(tz.offsets(commits))
    wh = fl.cache(tz.working_hours(backend, commits, offs, rule))
    rv = fl.cache(tz.reviews(backend, scope, rule))  # first reviews and round trips both start here
    first = fl.cache(tz.outside_hours(tz.first_reviews(backend, scope, offs, rule, rv), wh))
    # In any order: the bootstrap resamples each sample in its canonical order (analysis/bootstrap).
    got = backend.to_pyarrow(first.select("pickup_h", "outside_h", "bucket"))
    if not got.num_rows:
        return TimeZoneFigures(reason=NO_REVIEWS, **empty)
    trips = backend.to_pyarrow(tz.round_trips(backend, scope, offs, rule, rv).select(
        "round_trip_h", "bucket"))
    pickups = _values(got["bucket"], got["pickup_h"])
    round_trip = _values(trips["bucket"], trips["round_trip_h"])
    known = int(np.sum(pickups[0] != tz.UNKNOWN))
    timed = ~np.isnan(_floats(got["outside_h"]))
    outside_share = _share(float(np.sum(_floats(got["outside_h"])[timed])),
                           float(np.sum(pickups[1][timed])))
    who = one(backend, tz.people(first))
    waits = one(backend, tz.change_waits(first))
    nulls: dict[str, str] = {}
    if not known:
        for name in ("pickup_cross_tz_extra", "round_trip_cross_tz_extra", "outside_hours_share",
                     "waiting_across_time_zones_h"):
            nulls[name] = NO_OFFSETS
    elif outside_share is None:
        nulls["outside_hours_share"] = "no pickup waited at all (every review came at once)"
    if not trips.num_rows:
        nulls["round_trip"] = ("no round trip: no review asking for changes or commenting was"
                               " answered by the author and reviewed again")
    waiting = [] if not waits["changes"] else [WaitingCause(
        cause=CAUSE, signal="coordination.time_zones", unit="change", units=int(waits["changes"]),
        hours_per_unit=float(waits["waited_h"]),
        detail="pickup hours outside the first reviewer's working hours, per change")]
    return TimeZoneFigures(
        reason=None, null_reasons=nulls, waiting=waiting, period=PERIOD,
        working_share=tz.WORKING_SHARE, reviews=got.num_rows, reviews_known_distance=known,
        people=int(who["people"]), people_unknown_offset=int(who["unknown_offset"]),
        pickup=_buckets(pickups, resamples, seed), round_trips=trips.num_rows,
        round_trip=_buckets(round_trip, resamples, seed) if trips.num_rows else None,
        pickup_cross_tz_extra=None if not known else _cross(pickups, "6 h+", resamples, seed),
        round_trip_cross_tz_extra=(None if not known or not trips.num_rows
                                   else _cross(round_trip, "6 h+", resamples, seed)),
        outside_hours_share=outside_share if known else None,
        waiting_across_time_zones_h=waiting[0].hours_per_unit if known and waiting else None,
        changes_known_distance=int(waits["changes"]) if known else None,
        teams=_teams(backend, fl, settings, first),
        offsets=_offsets(backend, offs) if per_person else None,
        working_hours=_hours(backend, wh) if per_person else None)


def _floats(col: pa.ChunkedArray) -> Array:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)  # NULL -> NaN


def _values(labels: pa.ChunkedArray, hours: pa.ChunkedArray) -> tuple[npt.NDArray[np.str_], Array]:
    return np.asarray(labels.to_pylist(), dtype=np.str_), _floats(hours)


def _teams(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings, first: ibis.Table
           ) -> list[TeamTimeZones]:
    teams = change_teams(fl.scope, settings.coordination.teams)
    return [TeamTimeZones(
        team=r["team"], reviews=int(r["reviews"]), known_distance=int(r["known_distance"]),
        cross_tz=int(r["cross_tz"]), pickup_median_h=r["pickup_median_h"],
        outside_hours_share=_share(r["outside_h"] or 0.0, r["timed_pickup_h"] or 0.0))
        for r in fetch(backend, tz.team_figures(first, teams))]


def _offsets(backend: ibis.BaseBackend, offs: ibis.Table) -> list[PersonOffset]:
    return [PersonOffset(login=r["login"], quarter=f"{r['quarter'] // 4}Q{r['quarter'] % 4 + 1}",
                         offset_h=r["offset_min"] / 60, commits=int(r["commits"]))
            for r in fetch(backend, offs.order_by(["login", "quarter"]))]


def _hours(backend: ibis.BaseBackend, wh: ibis.Table) -> list[PersonHours]:
    by: dict[str, tuple[list[int], int]] = {}
    for r in fetch(backend, wh.order_by(["login", "hour"])):
        hours, n = by.get(r["login"], ([], 0))
        if r["working"]:
            hours.append(int(r["hour"]))
        by[r["login"]] = (hours, n + int(r["activity"]))
    return [PersonHours(login=k, working_hours=h, activity=n) for k, (h, n) in sorted(by.items())]
