"""Replications of the queueing simulation run in parallel processes and summed up: the predicted
lead time, throughput and queues beside the baseline, with intervals over replications, the stage
that becomes the bottleneck, and the gain against the stage's acceleration beside Amdahl's."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict

from leadlens.analysis.sim_pool import Floats, Pool
from leadlens.analysis.simulate import Rep, Scenario, replicate

__all__ = ["CURVE_SPEEDUPS", "CurvePoint", "Interval", "Outcome", "QueueDay", "Runs", "StageTime",
           "interval", "outcome", "run_replications"]

CURVE_SPEEDUPS = (1.0, 1.25, 1.5, 2.0, 3.0, 5.0)
LEVEL = 0.85  # the intervals over replications hold the middle 85% of them


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Interval(_Figure):
    """Over replications: the median, and the middle 85% (7.5th to 92.5th percentile)."""

    low: float
    mid: float
    high: float


class StageTime(_Figure):
    stage: str
    mean_s: float  # mean per change, over replications
    share: float  # of the mean lead time


class Outcome(_Figure):
    """What one scenario (or the baseline) predicts for the changes arriving in the run."""

    lead_time_median_s: Interval | None  # None: no change finished
    lead_time_p85_s: Interval | None
    lead_time_mean_s: Interval | None
    throughput_per_day: Interval
    pickup_median_s: Interval | None  # None: nothing queued for review
    queue_mean: Interval  # changes waiting for a reviewer (or WIP) at the end of a day
    stages: list[StageTime]
    bottleneck: str | None  # the stage with the largest share of lead time
    unfinished_share: float  # of arrivals, not done when the runs stopped
    sla_breach_share: float | None  # of queued pickups, longer than the review SLA


class CurvePoint(_Figure):
    speedup: float  # the scenario's stages this many times as fast (the rest of it held)
    amdahl: float | None  # Amdahl's law on the measured shares (None: no stage named)
    simulated: Interval | None  # baseline mean lead time / this point's, paired per replication


class QueueDay(_Figure):
    day: int  # days into the measured run
    baseline: float  # mean over replications
    scenario: float
    scenario_low: float
    scenario_high: float


def interval(values: Floats) -> Interval | None:
    v = values[~np.isnan(values)]
    if not v.size:
        return None
    low, mid, high = np.quantile(v, [(1 - LEVEL) / 2, 0.5, (1 + LEVEL) / 2])
    return Interval(low=float(low), mid=float(mid), high=float(high))


@dataclass(frozen=True)
class _Summary:
    """One replication boiled down to what crosses the process boundary."""

    median: float
    delivered_median: float  # of the changes done within the measured days (backtests)
    p85: float
    mean: float
    throughput: float
    pickup: float
    queue: Floats
    stages: dict[str, float]
    arrived: int
    unfinished: int
    queued: int
    breaches: int | None


def _summary(r: Rep) -> _Summary:
    lead = r.lead_s
    q = (np.quantile(lead, [0.5, 0.85]) if lead.size else np.array([np.nan, np.nan]))
    shipped = r.delivered_lead_s
    return _Summary(median=float(q[0]), p85=float(q[1]),
                    delivered_median=float(np.median(shipped)) if shipped.size else float("nan"),
                    mean=float(lead.mean()) if lead.size else float("nan"),
                    throughput=r.throughput_per_day,
                    pickup=float(np.median(r.pickup_s)) if r.pickup_s.size else float("nan"),
                    queue=r.queue, stages=r.stage_mean_s, arrived=lead.size + r.unfinished,
                    unfinished=r.unfinished, queued=int(r.pickup_s.size), breaches=r.sla_breaches)


@dataclass(frozen=True)
class _Task:
    pool: Pool
    scenarios: tuple[Scenario, ...]
    seeds: tuple[int, ...]
    days: int
    warmup_days: int
    latency_scale: float


def _work(task: _Task) -> list[list[_Summary]]:
    """For each seed, every scenario with that seed (common random numbers: a scenario and the
    baseline see the same arrivals, so their difference is the scenario's, not chance's)."""
    return [[_summary(replicate(task.pool, sc, days=task.days, warmup_days=task.warmup_days,
                                seed=seed, latency_scale=task.latency_scale))
             for sc in task.scenarios] for seed in task.seeds]


@dataclass(frozen=True)
class Runs:
    """Per scenario, its replications' summaries, in seed order."""

    by_scenario: list[list[_Summary]]


def run_replications(pool: Pool, scenarios: list[Scenario], *, reps: int, seed: int, days: int,
                     warmup_days: int, latency_scale: float, jobs: int) -> Runs:
    """``reps`` replications of each scenario, spread over ``jobs`` processes (1: this one)."""
    seeds = [seed + r for r in range(reps)]
    chunks = max(1, min(jobs * 4, reps))
    tasks = [_Task(pool, tuple(scenarios), tuple(seeds[i::chunks]), days, warmup_days,
                   latency_scale) for i in range(chunks) if seeds[i::chunks]]
    if jobs <= 1 or reps < 4:
        results = [_work(t) for t in tasks]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            results = list(ex.map(_work, tasks))
    per_seed: dict[int, list[_Summary]] = {}
    for t, res in zip(tasks, results, strict=True):
        per_seed.update(zip(t.seeds, res, strict=True))
    return Runs(by_scenario=[[per_seed[s][j] for s in seeds] for j in range(len(scenarios))])


def _values(runs: list[_Summary], field: str) -> Floats:
    return np.array([getattr(r, field) for r in runs], dtype=float)


def outcome(runs: list[_Summary], sla: bool) -> Outcome:
    mean = float(np.nanmean(_values(runs, "mean"))) if runs else float("nan")
    names = list(dict.fromkeys(n for r in runs for n in r.stages))
    stages = [StageTime(stage=n, mean_s=float(np.mean([r.stages.get(n, 0.0) for r in runs])),
                        share=0.0) for n in names]
    total = sum(s.mean_s for s in stages) or 1.0
    stages = [s.model_copy(update={"share": s.mean_s / total}) for s in stages]
    arrived = sum(r.arrived for r in runs)
    queued = sum(r.queued for r in runs)
    return Outcome(
        lead_time_median_s=interval(_values(runs, "median")),
        lead_time_p85_s=interval(_values(runs, "p85")),
        lead_time_mean_s=None if np.isnan(mean) else interval(_values(runs, "mean")),
        throughput_per_day=interval(_values(runs, "throughput")) or Interval(low=0, mid=0,
                                                                            high=0),
        pickup_median_s=interval(_values(runs, "pickup")),
        queue_mean=interval(np.array([float(r.queue.mean()) if r.queue.size else 0.0
                                      for r in runs])) or Interval(low=0, mid=0, high=0),
        stages=stages,
        bottleneck=max(stages, key=lambda s: s.mean_s).stage if stages and mean > 0 else None,
        unfinished_share=sum(r.unfinished for r in runs) / arrived if arrived else 0.0,
        sla_breach_share=(sum(r.breaches or 0 for r in runs) / queued if sla and queued
                          else None))


def gain(base: list[_Summary], other: list[_Summary]) -> Interval | None:
    """Baseline mean lead time over the other's, paired per replication (1.2: 1.2x as fast);
    undefined in a replication where either is 0 (nothing took any time to compare)."""
    b, o = _values(base, "mean"), _values(other, "mean")
    with np.errstate(divide="ignore", invalid="ignore"):
        return interval(np.where((o > 0) & (b > 0), b / o, np.nan))


def queue_days(base: list[_Summary], other: list[_Summary], every: int = 7) -> list[QueueDay]:
    """The queues day by day (every ``every`` days), baseline beside the scenario."""
    if not base or not base[0].queue.size:
        return []
    b = np.vstack([r.queue for r in base])
    o = np.vstack([r.queue for r in other])
    out = []
    for d in range(0, b.shape[1], every):
        low, high = np.quantile(o[:, d], [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        out.append(QueueDay(day=d, baseline=float(b[:, d].mean()), scenario=float(o[:, d].mean()),
                            scenario_low=float(low), scenario_high=float(high)))
    return out
