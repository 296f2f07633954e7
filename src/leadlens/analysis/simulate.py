"""The queueing simulation of the pipeline (SimPy): changes arrive as they did, take the time their
stages took, and wait in reviewers' queues, which serve them in working hours only; a scenario
changes a stage's speed, the reviewers, the arrivals, WIP or the size mix (docs/whatif.md)."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy
from pydantic import BaseModel, ConfigDict, Field

from leadlens.analysis.sim_pool import DAY_S, Floats, Pool, backlog, rank_correlation
from leadlens.timeline import STAGES, stage_order

__all__ = ["WIP_STAGE", "Fit", "Rep", "Scenario", "advance", "calibrate", "replicate"]

WIP_STAGE = "wip"  # time waiting for the author's WIP limit, before work starts
_PICKUP_AT = STAGES.index("pickup")


class Scenario(BaseModel):
    """What changes against the measured pipeline; the default changes nothing (the baseline)."""

    model_config = ConfigDict(frozen=True)

    speedups: dict[str, float] = Field(default_factory=dict)  # stage -> k (1/k of its time)
    arrivals: float = 1.0  # changes arriving, as a factor of the measured rate (1.4: +40%)
    reviewers: int = 0  # reviewers added (negative: taken away, the least busy first)
    review_sla_h: float | None = None  # a reviewer's response delay capped at this many hours
    wip: int | None = None  # changes an author may have in flight (started, not merged)
    size_mix: dict[str, float] | None = None  # size bucket -> share of arriving changes
    pooled: bool = False  # one shared review queue instead of each change's own reviewer

    def describe(self) -> str:
        parts = [f"{s} {k:g}x as fast" for s, k in self.speedups.items()]
        if self.arrivals != 1.0:
            parts.append(f"{self.arrivals - 1:+.0%} changes arriving")
        if self.reviewers:
            parts.append(f"{self.reviewers:+d} reviewer{'s' if abs(self.reviewers) != 1 else ''}")
        if self.review_sla_h is not None:
            parts.append(f"review SLA {self.review_sla_h:g} working hours")
        if self.wip is not None:
            parts.append(f"WIP limit {self.wip} per author")
        if self.size_mix:
            parts.append("size mix " + ", ".join(f"{b} {p:.0%}" for b, p in self.size_mix.items()))
        if self.pooled:
            parts.append("one shared review queue")
        return "; ".join(parts) or "as measured"


@dataclass(frozen=True)
class Rep:
    """One replication, over the changes that arrived in the measured days."""

    lead_s: Floats  # lead time of each change that finished
    delivered_lead_s: Floats  # lead time of each change done within the measured days
    stage_mean_s: dict[str, float]  # mean seconds per finished change in each stage (+ wip)
    throughput_per_day: float  # changes done within the measured days, per day
    pickup_s: Floats  # simulated pickups of the finished changes that queued
    pickup_backlog: npt.NDArray[np.int64]  # their reviewer's backlog when they were ready
    queue: Floats  # changes waiting for a reviewer (or WIP) at the end of each day
    unfinished: int  # arrived in the measured days, not done when the run stopped
    sla_breaches: int | None  # queued pickups longer than the SLA (None: no SLA)


def advance(t: float, work: float, cum: Sequence[float]) -> float:
    """The time ``work`` seconds of working time after ``t``, in working hours only: ``cum[h]`` is
    the working seconds in a day before hour ``h`` (25 values, ``cum[24]`` > 0)."""
    if work <= 0:
        return t
    day, s = divmod(t, DAY_S)
    h = min(int(s // 3600), 23)
    before = cum[h] + (min(s - h * 3600, 3600.0) if cum[h + 1] > cum[h] else 0.0)
    days, rem = divmod(before + work, cum[24])
    if rem <= 0:
        days, rem = days - 1, cum[24]
    hour = max(bisect_left(cum, rem) - 1, 0)
    return (day + days) * DAY_S + hour * 3600 + (rem - cum[hour])


def _cums(hours: np.ndarray) -> list[list[float]]:
    out = []
    for mask in hours:
        m = mask if mask.any() else np.ones(24, dtype=bool)
        out.append([0.0, *np.cumsum(m * 3600.0).tolist()])
    return out


@dataclass(frozen=True)
class _Plan:
    """One replication's changes, drawn before the run: everything but the queues."""

    arrive: Floats
    seg: Floats  # [n, stages] scaled by the scenario's speed-ups
    queued: np.ndarray
    pre: Floats  # before the review queue (all of it for changes that do not queue)
    latency: Floats  # the reviewer's response delay before the change joins their queue
    mid: Floats  # after the first review until merged
    rel: Floats  # merged -> released
    service: Floats  # the reviewer's working time for the first round
    later: Floats  # the reviewer's working time for each later round
    rounds: np.ndarray
    reviewer: np.ndarray
    author: np.ndarray
    hours: np.ndarray  # [reviewers, 24]
    train: np.ndarray  # released by its repository's release train (not a resampled delay)
    repo: np.ndarray
    trains: tuple[Floats, ...]  # per repository: its release times over the run


def _release_trains(pool: Pool, sc: Scenario, rng: np.random.Generator, picked: np.ndarray,
                    until: float) -> tuple[np.ndarray, np.ndarray, tuple[Floats, ...]]:
    """Which picked changes ride a release train, their repositories, and each repository's
    release times: gaps resampled from its measured ones (a faster release stage: shorter
    gaps), the first at a random point of the first gap."""
    n = picked.size
    if pool.repo is None or "release" not in pool.stages or not any(
            g.size for g in pool.release_gaps):
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64), ()
    repo = pool.repo[picked]
    has = pool.seconds[picked, pool.stages.index("release")] > 0
    k = sc.speedups.get("release", 1.0)
    trains: list[Floats] = []
    for gaps in pool.release_gaps:
        if not gaps.size:
            trains.append(np.zeros(0))
            continue
        count = int(until / max(float(gaps.mean()) / k, 60.0) * 1.5) + 10
        steps = gaps[rng.integers(0, gaps.size, size=count)] / k
        times = rng.uniform(0, steps[0]) + np.concatenate([[0.0], np.cumsum(steps[1:])])
        trains.append(times)
    train = has & np.array([trains[r].size > 0 for r in repo.tolist()], dtype=bool)
    return train, repo, tuple(trains)


def _reviewers(pool: Pool, sc: Scenario, rng: np.random.Generator, picked: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Each picked change's reviewer under the scenario, and the reviewers' hours."""
    who = pool.reviewer[picked].copy()
    hours = pool.hours
    counts = np.bincount(pool.reviewer[pool.reviewer >= 0], minlength=pool.reviewers)
    if sc.reviewers < 0:
        gone = np.argsort(counts, kind="stable")[: -sc.reviewers]
        keep = np.setdiff1d(np.arange(pool.reviewers), gone)
        index = np.full(pool.reviewers, -1)
        index[keep] = np.arange(keep.size)
        share = counts[keep] / counts[keep].sum()
        moved = (who >= 0) & np.isin(who, gone)
        who = np.where(who >= 0, index[np.maximum(who, 0)], -1)
        who[moved] = rng.choice(keep.size, size=int(moved.sum()), p=share)
        hours = hours[keep]
    elif sc.reviewers > 0:
        new = hours[rng.integers(0, hours.shape[0], size=sc.reviewers)]
        moved = (who >= 0) & (rng.random(who.size) < sc.reviewers / (hours.shape[0]
                                                                      + sc.reviewers))
        who[moved] = hours.shape[0] + rng.integers(0, sc.reviewers, size=int(moved.sum()))
        hours = np.concatenate([hours, new])
    return who, hours


def _plan(pool: Pool, sc: Scenario, days: int, seed: int, latency_scale: float) -> _Plan:
    rng = np.random.default_rng(seed)
    rate = pool.arrivals[rng.integers(0, pool.arrivals.size, size=days)] * sc.arrivals
    counts = np.floor(rate).astype(np.int64) + (rng.random(days) < rate % 1)
    n = int(counts.sum())
    arrive = np.repeat(np.arange(days) * DAY_S, counts) + pool.time_of_day[
        rng.integers(0, pool.time_of_day.size, size=n)]
    arrive.sort()
    weights = None
    if sc.size_mix:
        per = {b: int((pool.size == b).sum()) for b in sc.size_mix}
        weights = np.array([sc.size_mix.get(b, 0.0) / per[b] if per.get(b) else 0.0
                            for b in pool.size.tolist()])
        weights /= weights.sum()
    picked = (rng.choice(pool.changes, size=n, p=weights) if weights is not None
              else rng.integers(0, pool.changes, size=n))
    k = np.array([sc.speedups.get(s, 1.0) for s in pool.stages])
    seg = pool.seconds[picked] / k
    order = [stage_order(s) for s in pool.stages]
    before = np.array([start < _PICKUP_AT for start, _ in order])
    release = np.array(["release" in s.split("+") for s in pool.stages])
    pickup = np.array([s == "pickup" for s in pool.stages])
    queued = pool.queued[picked]
    if not pool.reviewers:
        queued = np.zeros(n, dtype=bool)
    rel = seg[:, release].sum(axis=1)
    pre = np.where(queued, seg[:, before].sum(axis=1), seg[:, ~release].sum(axis=1))
    mid = np.where(queued, seg[:, ~before & ~release & ~pickup].sum(axis=1), 0.0)
    effort = pool.effort_s[picked]
    # The measured pickup is the reviewer's response delay plus the wait behind their other
    # reviews: the calibrated share of it (latency_scale) is the delay; the queue adds the rest.
    latency = (seg[:, pickup].sum(axis=1) * latency_scale if pickup.any()
               else np.zeros(n))
    if sc.review_sla_h is not None:
        latency = np.minimum(latency, sc.review_sla_h * 3600.0)
    who, hours = _reviewers(pool, sc, rng, picked)
    train, repo, trains = _release_trains(pool, sc, rng, picked, (days + days) * DAY_S)
    return _Plan(arrive=arrive, seg=seg, queued=queued, pre=pre, latency=latency, mid=mid,
                 rel=rel, service=effort / sc.speedups.get("pickup", 1.0),
                 later=effort / sc.speedups.get("review", 1.0), rounds=pool.rounds[picked],
                 reviewer=who, author=pool.author[picked], hours=hours, train=train, repo=repo,
                 trains=trains)


def replicate(pool: Pool, sc: Scenario, *, days: int, warmup_days: int, seed: int,
              latency_scale: float = 0.0) -> Rep:
    """One run: arrivals over ``warmup_days + days``, figures over the changes that arrived in the
    last ``days``; the run goes on (up to ``days`` more) so they can finish."""
    total = warmup_days + days
    p = _plan(pool, sc, total, seed, latency_scale)
    n = p.arrive.size
    env = simpy.Environment()
    cums = _cums(p.hours)
    reviewers = len(cums)
    desks = [simpy.Resource(env, 1) for _ in range(reviewers)]
    free = simpy.Store(env)
    free.items.extend(range(reviewers))
    desks_of: dict[int, simpy.Resource] = {}
    pickup = np.full(n, np.nan)
    ready_at = np.full(n, np.nan)
    wip_wait = np.zeros(n)
    done = np.full(n, np.nan)
    wip = sc.wip

    def review(r: int, work: float, at: float) -> Generator[Any, Any, None]:
        """A later round, at ``at``: the same reviewer's work, queued behind the rest (adding
        load; the change's own time in review is its measured one)."""
        yield env.timeout(at - env.now)
        if sc.pooled:
            r = yield free.get()
            yield env.timeout(advance(env.now, work, cums[r]) - env.now)
            free.put(r)
            return
        with desks[r].request() as req:
            yield req
            yield env.timeout(advance(env.now, work, cums[r]) - env.now)


    def change(i: int) -> Generator[Any, Any, None]:
        arrived = env.now
        desk = req = None
        if wip is not None:
            desk = desks_of.setdefault(int(p.author[i]), simpy.Resource(env, wip))
            req = desk.request()
            yield req
            wip_wait[i] = env.now - arrived
            if p.pre[i] > 0:
                yield env.timeout(p.pre[i])
        if p.queued[i]:
            ready = env.now
            if wip is not None and p.latency[i] > 0:
                yield env.timeout(p.latency[i])
            if sc.pooled:
                r = yield free.get()
                yield env.timeout(advance(env.now, float(p.service[i]), cums[r]) - env.now)
                free.put(r)
            else:
                r = int(p.reviewer[i])
                with desks[r].request() as mine:
                    yield mine
                    yield env.timeout(advance(env.now, float(p.service[i]), cums[r]) - env.now)
            pickup[i] = env.now - ready + (0.0 if wip is not None else p.latency[i])
            ready_at[i] = ready - (0.0 if wip is not None else p.latency[i])
            for j in range(1, int(p.rounds[i])):
                env.process(review(r, float(p.later[i]),
                                   env.now + p.mid[i] * j / float(p.rounds[i])))
        if desk is not None and req is not None:
            if p.mid[i] > 0:
                yield env.timeout(p.mid[i])
            desk.release(req)
            done[i] = env.now + p.rel[i]
        else:  # nothing waits on the rest: no event for it
            done[i] = env.now + p.mid[i] + p.rel[i]

    # A change that neither queues nor waits for WIP is arithmetic: no process at all.
    simple = ~p.queued if wip is None else np.zeros(n, dtype=bool)
    done[simple] = p.arrive[simple] + p.pre[simple] + p.mid[simple] + p.rel[simple]
    start = p.arrive + (p.pre + p.latency if wip is None else 0.0)
    todo = np.flatnonzero(~simple)
    todo = todo[np.argsort(start[todo], kind="stable")]

    def arrivals() -> Generator[Any, Any, None]:
        for i in todo.tolist():
            if start[i] > env.now:
                yield env.timeout(start[i] - env.now)
            env.process(change(i))

    queue = np.zeros(total + days)

    def watch() -> Generator[Any, Any, None]:
        for d in range(total + days):
            yield env.timeout(DAY_S)
            waiting = (len(free.get_queue) if sc.pooled else sum(len(x.queue) for x in desks))
            queue[d] = waiting + sum(len(x.queue) for x in desks_of.values())

    env.process(arrivals())
    env.process(watch())
    env.run(until=(total + days) * DAY_S)
    _ride(pool, p, done)
    return _rep(pool, p, sc, done, pickup, ready_at, wip_wait, queue[warmup_days:total],
                warmup_days * DAY_S, total * DAY_S, days)


def _ride(pool: Pool, p: _Plan, done: Floats) -> None:
    """Release-train changes: done at their repository's first release at or after their merge
    (``done`` held merge + the measured release delay until now); their release stage is that
    wait."""
    t = np.flatnonzero(p.train & ~np.isnan(done))
    if not t.size:
        return
    merged = done[t] - p.rel[t]
    col = pool.stages.index("release")
    for r, times in enumerate(p.trains):
        mine = t[p.repo[t] == r]
        if not mine.size or not times.size:
            continue
        at = merged[p.repo[t] == r]
        i = np.searchsorted(times, at, "left")
        shipped = np.where(i < times.size, times[np.minimum(i, times.size - 1)], np.nan)
        done[mine] = shipped
        p.seg[mine, col] = shipped - at


def _rep(pool: Pool, p: _Plan, sc: Scenario, done: Floats, pickup: Floats, ready_at: Floats,
         wip_wait: Floats, queue: Floats, lo: float, hi: float, days: int) -> Rep:
    came = (p.arrive >= lo) & (p.arrive < hi)
    fin = came & ~np.isnan(done)
    seg = p.seg[fin].copy()
    queued = p.queued[fin]
    if "pickup" in pool.stages:
        seg[queued, pool.stages.index("pickup")] = pickup[fin][queued]
    count = max(int(fin.sum()), 1)
    means = dict(zip(pool.stages, (seg.sum(axis=0) / count).tolist(), strict=True))
    if sc.wip is not None:
        means[WIP_STAGE] = float(wip_wait[fin].sum() / count)
    lead = done[fin] - p.arrive[fin]
    shipped = (done >= lo) & (done < hi)
    picked = pickup[fin][queued]
    seen = ~np.isnan(pickup)
    load = backlog(ready_at[seen], ready_at[seen] + pickup[seen], p.reviewer[seen])
    at = np.full(pickup.size, -1)
    at[seen] = load
    breaches = (None if sc.review_sla_h is None else
                int((picked > sc.review_sla_h * 3600.0).sum()))
    return Rep(lead_s=lead, delivered_lead_s=done[shipped] - p.arrive[shipped],
               stage_mean_s=means, throughput_per_day=float(shipped.sum()) / days,
               pickup_s=picked, pickup_backlog=at[fin][queued], queue=queue,
               unfinished=int((came & np.isnan(done)).sum()), sla_breaches=breaches)


# The effort per review the calibration tries (a share of the lines-based estimate): for each,
# the response delay that gives the measured median pickup. Queues and delays can both make that
# median; they differ in how pickups grow with the reviewer's backlog (queues: much; delays: not
# at all) and in their spread: the effort whose backlog correlation and 85th percentile are
# nearest the measured ones wins.
EFFORT_SCALES = (1.0, 0.3, 0.1, 0.03)
CALIBRATION_DAYS = 30  # simulated days per calibration run (after a third as much warm-up)


@dataclass(frozen=True)
class Fit:
    """The calibration: ``pool`` with its reviewers' effort as fitted, and the share of each
    measured pickup that is the reviewer's response delay."""

    pool: Pool
    latency_scale: float  # of each measured pickup, the response delay (the queue adds the rest)
    effort_scale: float  # the lines-based effort per review, scaled by this (1: as estimated)
    measured_pickup_s: tuple[float, float] | None  # median and p85 over the changes that queued
    simulated_pickup_s: tuple[float, float] | None  # the baseline's, at the fit
    measured_backlog_correlation: float | None = None  # pickup against the reviewer's backlog
    simulated_backlog_correlation: float | None = None


def _corr(fits: list[tuple[float, float, tuple[float, float], float | None]], c: float
          ) -> float | None:
    return next(f[3] for f in fits if f[0] == c)


def calibrate(pool: Pool, *, days: int, seed: int, steps: int = 6) -> Fit:
    """Fit the baseline's pickups to the measured ones (one run per step, with the same seed):
    for each effort in EFFORT_SCALES the median allows (and, when the queues alone are too slow
    even at full effort, the largest effort they allow), the response delay's share that gives
    the measured median, by bisection; then the effort whose pickups grow with the reviewer's
    backlog as the measured ones did and spread as far (their rank correlation's distance plus
    the 85th percentile's relative distance; without ready times: the most queueing)."""
    queued = pool.queued
    if not queued.any() or "pickup" not in pool.stages:
        return Fit(pool, 0.0, 1.0, None, None)
    picks = pool.seconds[queued, pool.stages.index("pickup")]
    med, p85 = (float(x) for x in np.quantile(picks, [0.5, 0.85]))
    span = min(days, CALIBRATION_DAYS)

    def run(c: float, scale: float) -> Rep:
        return replicate(replace(pool, effort_s=pool.effort_s * c), Scenario(), days=span,
                         warmup_days=max(span // 3, 1), seed=seed, latency_scale=scale)

    def simulated(c: float, scale: float) -> tuple[float, float]:
        got = run(c, scale).pickup_s
        if not got.size:
            return math.inf, math.inf
        q = np.quantile(got, [0.5, 0.85])
        return float(q[0]), float(q[1])

    def fitted(c: float, scale: float) -> tuple[float, float, tuple[float, float], float | None]:
        r = run(c, scale)
        q = np.quantile(r.pickup_s, [0.5, 0.85]) if r.pickup_s.size else [math.inf, math.inf]
        return (c, scale, (float(q[0]), float(q[1])),
                rank_correlation(r.pickup_backlog, r.pickup_s))

    def bisect(below: Callable[[float], bool], lo: float, hi: float) -> float:
        """The point in [lo, hi] where ``below`` turns False (it holds at lo)."""
        for _ in range(steps):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if below(mid) else (lo, mid)
        return (lo + hi) / 2

    fits: list[tuple[float, float, tuple[float, float], float | None]] = []
    scales = list(EFFORT_SCALES)
    if simulated(1.0, 0.0)[0] > med:  # the queues alone are too slow: the largest effort that fits
        c = math.exp(bisect(lambda x: simulated(math.exp(x), 0.0)[0] <= med, math.log(1e-3), 0.0))
        fits.append(fitted(c, 0.0))
        scales = [x for x in scales if x < c]
    for c in scales:
        def fits_median(x: float, c: float = c) -> bool:
            return simulated(c, x)[0] <= med

        lam = bisect(fits_median, 0.0, 1.0)
        fits.append(fitted(c, lam))
    want = pool.backlog_correlation()
    if want is None:  # nothing to tell queues from delays: the most queueing the median allows
        c, lam, got, _ = fits[0]
    else:
        # How far each candidate's pickups are from the measured: in their growth with the
        # backlog, and in their 85th percentile (relative), which tells apart the candidates
        # the backlog cannot (a delay reproduces the measured pickups' spread; queues do not).
        def distance(f: tuple[float, float, tuple[float, float], float | None]) -> float:
            return abs((f[3] if f[3] is not None else 0.0) - want) + abs(f[2][1] - p85) / p85

        c, lam, got, _ = min(fits, key=lambda f: (distance(f), -f[0]))
    return Fit(replace(pool, effort_s=pool.effort_s * c), lam, c, (med, p85), got, want,
               _corr(fits, c))
