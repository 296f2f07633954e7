"""The simulation's calibration: how much of each measured pickup is the reviewer's response
delay and how much their queue, and how much work a review is (docs/whatif.md, "The
simulation")."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from leadlens.analysis.sim_pool import Pool, rank_correlation
from leadlens.analysis.simulate import Rep, Scenario, replicate

__all__ = ["CALIBRATION_DAYS", "EFFORT_SCALES", "Fit", "calibrate"]


# The effort per review the calibration tries (a share of the lines-based estimate): for each,
# the response delay that gives the measured median pickup. Queues and delays can both make that
# median; they differ in how pickups grow with the reviewer's backlog (queues: much; delays: not
# at all) and in their spread: the effort whose backlog correlation and 85th percentile are
# nearest the measured ones wins.
EFFORT_SCALES = (1.0, 0.3, 0.1, 0.03)
CALIBRATION_DAYS = 40  # simulated days per calibration run (after a third as much warm-up)


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
