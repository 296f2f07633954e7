"""The queueing simulation of the pipeline (SimPy): changes arrive as they did, take the time their
stages took, and wait in reviewers' queues, which serve them in working hours only; a scenario
changes a stage's speed, the reviewers, the arrivals, WIP or the size mix (docs/whatif.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from leadlens.analysis.sim_pool import DAY_S, Floats, Pool, backlog
from leadlens.analysis.sim_queues import Plan, fifo_queues, simpy_queues
from leadlens.timeline import STAGES, stage_order

__all__ = ["WIP_STAGE", "Rep", "Scenario", "replicate"]

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


def _plan(pool: Pool, sc: Scenario, days: int, seed: int, latency_scale: float) -> Plan:
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
    return Plan(arrive=arrive, seg=seg, queued=queued, pre=pre, latency=latency, mid=mid,
                 rel=rel, service=effort / sc.speedups.get("pickup", 1.0),
                 later=effort / sc.speedups.get("review", 1.0), rounds=pool.rounds[picked],
                 reviewer=who, author=pool.author[picked], hours=hours, train=train, repo=repo,
                 trains=trains)


def replicate(pool: Pool, sc: Scenario, *, days: int, warmup_days: int, seed: int,
              latency_scale: float = 0.0, engine: str = "auto") -> Rep:
    """One run: arrivals over ``warmup_days + days``, figures over the changes that arrived in the
    last ``days``; the run goes on (up to ``days`` more) so they can finish. ``engine``: "simpy"
    always runs the SimPy model; "auto" runs the reviewers' independent queues without it when
    nothing couples them (no WIP limit, no shared queue) — the same results, tested."""
    total = warmup_days + days
    p = _plan(pool, sc, total, seed, latency_scale)
    if engine == "auto" and sc.wip is None and not sc.pooled:
        q = fifo_queues(p, total + days)
    else:
        q = simpy_queues(p, sc.wip, sc.pooled, total + days)
    _ride(pool, p, q.done)
    return _rep(pool, p, sc, q.done, q.pickup, q.ready_at, q.wip_wait,
                q.queue[warmup_days:total], warmup_days * DAY_S, total * DAY_S, days)


def _ride(pool: Pool, p: Plan, done: Floats) -> None:
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


def _rep(pool: Pool, p: Plan, sc: Scenario, done: Floats, pickup: Floats, ready_at: Floats,
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
