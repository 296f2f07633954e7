"""`leadlens whatif --simulate`: a scenario simulated beside the baseline, calibrated on a window
of history, with the gain curve beside Amdahl's and the walk-forward backtest (docs/whatif.md)."""

from __future__ import annotations

from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict

from leadlens.analysis.sim_backtest import SimBacktest
from leadlens.analysis.sim_calibrate import Fit, calibrate
from leadlens.analysis.sim_pool import Pool
from leadlens.analysis.sim_results import (
    CURVE_SPEEDUPS,
    CurvePoint,
    Interval,
    Outcome,
    QueueDay,
    gain,
    outcome,
    queue_days,
    run_replications,
)
from leadlens.analysis.simulate import Scenario
from leadlens.analysis.whatif import scenario_speedup
from leadlens.timeline import duration

__all__ = ["Calibration", "Simulation", "shares", "simulate"]


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Calibration(_Figure):
    """What the simulation was calibrated on, and how well its baseline fits that window."""

    start: date  # the window: changes delivered in [start, end)
    end: date
    changes: int
    queued: int  # of them, picked up by a person's review (the reviewer queues)
    reviewers: int
    authors: int
    arrivals_per_day: float
    latency_share: float  # of each measured pickup, the reviewer's response delay (fitted)
    effort_scale: float  # the lines-based effort per review round, scaled by this to fit
    review_effort_median_s: float | None  # a reviewer's work per round (queued changes)
    simulated_pickup_median_s: float | None  # the baseline's at the fit (one run)
    measured_pickup_p85_s: float | None
    simulated_pickup_p85_s: float | None
    measured_backlog_correlation: float | None  # pickup against the reviewer's backlog (rank)
    simulated_backlog_correlation: float | None
    note: str | None  # when the fit could not reach the measured pickup
    measured_lead_time_median_s: float
    measured_pickup_median_s: float | None
    stage_shares: dict[str, float]  # measured, time-weighted (Amdahl's shares)


class Simulation(_Figure):
    """`leadlens whatif --simulate --format json` and the report's `whatif.simulation`."""

    scenario: Scenario
    description: str
    days: int  # simulated days measured (after warmup_days)
    warmup_days: int
    replications: int
    seed: int
    calibration: Calibration
    baseline: Outcome
    predicted: Outcome
    gain: Interval | None  # mean lead time, baseline / predicted, paired per replication
    amdahl: float | None  # Amdahl's law for the scenario's speed-ups alone (None: none given)
    curve: list[CurvePoint]  # the scenario's stages at CURVE_SPEEDUPS, the rest held
    queue: list[QueueDay]
    backtest: SimBacktest
    headline: str


def shares(pool: Pool) -> dict[str, float]:
    total = float(pool.seconds.sum())
    return {s: float(pool.seconds[:, j].sum()) / total if total else 0.0
            for j, s in enumerate(pool.stages)}


def _amdahl(share: dict[str, float], speedups: dict[str, float]) -> float | None:
    if not speedups:
        return None
    return scenario_speedup([(share.get(s, 0.0), k) for s, k in speedups.items()])


def simulate(pool: Pool, scenario: Scenario, bt: SimBacktest, *, days: int, warmup_days: int,
             reps: int, curve_reps: int, seed: int, jobs: int) -> Simulation:
    """``reps`` replications of the baseline and the scenario on ``pool`` (common random numbers),
    and ``curve_reps`` of each point of the gain curve."""
    fit = calibrate(pool, days=(pool.end - pool.start).days, seed=seed)
    pool, latency = fit.pool, fit.latency_scale
    main = run_replications(pool, [Scenario(), scenario], reps=reps, seed=seed, days=days,
                            warmup_days=warmup_days, latency_scale=latency, jobs=jobs)
    base, pred = main.by_scenario
    share = shares(pool)
    curve: list[CurvePoint] = []
    if scenario.speedups:
        points = [scenario.model_copy(update={"speedups": dict.fromkeys(scenario.speedups, k)})
                  for k in CURVE_SPEEDUPS]
        n = min(curve_reps, reps)
        at = run_replications(pool, points, reps=n, seed=seed, days=days,
                              warmup_days=warmup_days, latency_scale=latency, jobs=jobs)
        curve = [CurvePoint(speedup=k, amdahl=_amdahl(share, p.speedups),
                            simulated=gain(base[:n], runs))
                 for k, p, runs in zip(CURVE_SPEEDUPS, points, at.by_scenario, strict=True)]
    queued = pool.queued if "pickup" in pool.stages else np.zeros_like(pool.queued)
    pickup = (float(np.median(pool.seconds[queued, pool.stages.index("pickup")]))
              if queued.any() else None)
    cal = Calibration(
        start=pool.start, end=pool.end, changes=pool.changes, queued=int(queued.sum()),
        reviewers=pool.reviewers, authors=pool.authors,
        arrivals_per_day=float(pool.arrivals.mean()), latency_share=latency,
        effort_scale=fit.effort_scale,
        review_effort_median_s=(float(np.median(pool.effort_s[queued])) if queued.any()
                                else None),
        simulated_pickup_median_s=None if fit.simulated_pickup_s is None
        else fit.simulated_pickup_s[0],
        measured_pickup_p85_s=None if fit.measured_pickup_s is None else fit.measured_pickup_s[1],
        simulated_pickup_p85_s=None if fit.simulated_pickup_s is None
        else fit.simulated_pickup_s[1],
        measured_backlog_correlation=fit.measured_backlog_correlation,
        simulated_backlog_correlation=fit.simulated_backlog_correlation, note=_note(fit),
        measured_lead_time_median_s=float(np.median(pool.lead_s)),
        measured_pickup_median_s=pickup, stage_shares=share)
    b, p = outcome(base, False), outcome(pred, scenario.review_sla_h is not None)
    up = gain(base, pred)
    amdahl = _amdahl(share, scenario.speedups)
    return Simulation(scenario=scenario, description=scenario.describe(), days=days,
                      warmup_days=warmup_days, replications=reps, seed=seed, calibration=cal,
                      baseline=b, predicted=p, gain=up, amdahl=amdahl, curve=curve,
                      queue=queue_days(base, pred), backtest=bt,
                      headline=headline(scenario, b, p, up, amdahl, bt))


def _note(fit: Fit) -> str | None:
    """Why the baseline's pickup is not the measured one, when the fit could not make it so."""
    if fit.simulated_pickup_s is None or fit.measured_pickup_s is None:
        return None
    got, want = fit.simulated_pickup_s[0], fit.measured_pickup_s[0]
    if abs(got - want) <= 0.1 * want + 600:
        return None
    return (f"the baseline's median pickup is {duration(got)} where {duration(want)} was"
            " measured: " + ("even a tiny effort per review leaves the waits for working hours"
                             " longer than the measured pickups" if got > want else
                             "the measured pickups are longer than any response delay and queue"
                             " the model makes"))


def headline(scenario: Scenario, b: Outcome, p: Outcome, up: Interval | None,
             amdahl: float | None, bt: SimBacktest) -> str:
    parts = [f"Simulated {scenario.describe()}:"]
    if p.lead_time_median_s is not None and b.lead_time_median_s is not None:
        m = p.lead_time_median_s
        parts.append(f"median lead time {duration(m.mid)} (85% of runs: {duration(m.low)} to"
                     f" {duration(m.high)}) against {duration(b.lead_time_median_s.mid)} as"
                     " measured;")
    else:
        parts.append("no change finished within the run;")
    if up is not None:
        parts.append(f"mean lead time {up.mid:.2f}x as fast ({up.low:.2f}x to {up.high:.2f}x)"
                     + ("" if amdahl is None else f", where Amdahl's law alone says"
                        f" {amdahl:.2f}x") + ".")
    if p.bottleneck is not None:
        shift = ("" if p.bottleneck == b.bottleneck or b.bottleneck is None
                 else f" (it was {b.bottleneck})")
        parts.append(f"The bottleneck: {p.bottleneck}{shift}.")
    if p.unfinished_share > 0.05:
        parts.append(f"{p.unfinished_share:.0%} of the changes never finish within the run: the"
                     " queues grow without bound.")
    if bt.passed is None:
        parts.append(f"No backtest: {bt.reason}.")
    else:
        n = len(bt.windows)
        parts.append(f"Backtest: the 85% interval held the actual median lead time in"
                     f" {_of(bt.lead_time_hit_rate_85, n)} and the throughput in"
                     f" {_of(bt.throughput_hit_rate_85, n)} past {bt.horizon_days}-day windows"
                     + ("." if bt.passed else
                        " — this simulation FAILS its backtest: do not rely on it."))
    return " ".join(parts)


def _of(rate: float | None, n: int) -> str:
    return "none" if rate is None else f"{round(rate * n)} of {n}"
