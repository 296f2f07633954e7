"""The simulation's walk-forward backtest: calibrate on a window of history, predict the next one,
compare with what happened, move on — how often the actual median lead time and throughput fell
inside the predicted 85% intervals, and how far the median predictions were off."""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import ibis
import numpy as np
from pydantic import BaseModel, ConfigDict

from leadlens.analysis.forecast import PASS_HIT_RATE
from leadlens.analysis.sim_calibrate import calibrate
from leadlens.analysis.sim_pool import MIN_CHANGES, Pool, load_pool
from leadlens.analysis.sim_results import Interval, interval, run_replications
from leadlens.analysis.simulate import Scenario
from leadlens.conventions import BotRule
from leadlens.metrics import flow as fm

__all__ = ["LONGEST_WARMUP_DAYS", "SimBacktest", "Window", "backtest", "summarise"]

LONGEST_WARMUP_DAYS = 365


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Window(_Figure):
    start: date  # the predicted days: [start, start + horizon)
    changes: int  # delivered changes the window before it was calibrated on
    actual_lead_time_median_s: float | None  # of the changes delivered in these days
    predicted_lead_time_median_s: list[float] | None  # [low, mid, high] (85% interval)
    actual_throughput_per_day: float  # delivered per day in these days
    predicted_throughput_per_day: list[float]  # [low, mid, high]


class SimBacktest(_Figure):
    """`backtest` of `leadlens whatif --simulate --format json` (docs/whatif.md)."""

    calibrate_days: int
    horizon_days: int
    windows: list[Window]
    lead_time_hit_rate_85: float | None
    throughput_hit_rate_85: float | None
    lead_time_median_abs_error_pct: float | None
    throughput_median_abs_error_pct: float | None
    passed: bool | None  # both hit rates at least PASS_HIT_RATE; None without windows
    reason: str | None  # why there are no windows


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _actual(backend: ibis.BaseBackend, fl: fm.Flow, start: date, days: int
            ) -> tuple[float | None, float]:
    lo, hi = _day(start), _day(start + timedelta(days=days))
    s = fl.spans
    shipped = s.filter(s.done & (s.last_at >= lo) & (s.last_at < hi))
    got = backend.to_pyarrow(shipped.aggregate(m=shipped.lead_time_s.quantile(0.5),
                                               n=shipped.count()))
    med = got.column("m")[0].as_py()
    return (None if med is None else float(med)), int(got.column("n")[0].as_py()) / days


@dataclass(frozen=True)
class _Predict:
    pool: Pool
    calibrate_days: int
    horizon_days: int
    reps: int
    seed: int


def _predict(t: _Predict) -> tuple[Interval | None, Interval | None]:
    """Calibrate on the window's pool and simulate the days after it: the 85% intervals of the
    delivered changes' median lead time and of throughput."""
    fit = calibrate(t.pool, days=t.calibrate_days, seed=t.seed)
    # What is delivered in a window started up to the longest lead time before it: the run
    # starts that long before, so the long tail is in the window as it was in history.
    warmup = min(LONGEST_WARMUP_DAYS, max(t.calibrate_days,
                                          math.ceil(float(t.pool.lead_s.max()) / 86_400) + 1))
    runs = run_replications(fit.pool, [Scenario()], reps=t.reps, seed=t.seed,
                            days=t.horizon_days, warmup_days=warmup,
                            latency_scale=fit.latency_scale, jobs=1).by_scenario[0]
    return (interval(np.array([r.delivered_median for r in runs])),
            interval(np.array([r.throughput for r in runs])))


def backtest(backend: ibis.BaseBackend, fl: fm.Flow, rule: BotRule, first: date, as_of: date, *,
             calibrate_days: int, horizon_days: int, windows: int, reps: int, seed: int,
             jobs: int) -> SimBacktest:
    """The last ``windows`` walk-forward windows that fit between ``first`` (the first day of
    history) and ``as_of``: each calibrated on the ``calibrate_days`` before it."""
    starts: list[date] = []
    t = as_of - timedelta(days=horizon_days)
    while t - timedelta(days=calibrate_days) >= first and len(starts) < windows:
        starts.append(t)
        t -= timedelta(days=horizon_days)
    todo: list[tuple[date, Pool]] = []
    for start in reversed(starts):
        pool = load_pool(backend, fl, rule, start - timedelta(days=calibrate_days), start)
        if pool.changes >= MIN_CHANGES:
            todo.append((start, pool))
    # The windows are independent: one process each (their replications in that process).
    tasks = [_Predict(pool, calibrate_days, horizon_days, reps, seed) for _, pool in todo]
    if jobs <= 1 or len(tasks) < 2:
        predicted = [_predict(t) for t in tasks]
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as ex:
            predicted = list(ex.map(_predict, tasks))
    done: list[Window] = []
    for (start, pool), (lead, put) in zip(todo, predicted, strict=True):
        med, per_day = _actual(backend, fl, start, horizon_days)
        done.append(Window(
            start=start, changes=pool.changes, actual_lead_time_median_s=med,
            predicted_lead_time_median_s=None if lead is None else [lead.low, lead.mid,
                                                                     lead.high],
            actual_throughput_per_day=per_day,
            predicted_throughput_per_day=[0.0, 0.0, 0.0] if put is None else [put.low, put.mid,
                                                                               put.high]))
    return summarise(done, calibrate_days, horizon_days)


def _rate(pairs: list[tuple[float, list[float]]]) -> tuple[float | None, float | None]:
    if not pairs:
        return None, None
    hits = sum(lo <= actual <= hi for actual, (lo, _, hi) in pairs)
    errors = [abs(mid - actual) / actual for actual, (_, mid, _) in pairs if actual > 0]
    return hits / len(pairs), (100 * float(np.median(errors)) if errors else None)


def summarise(done: list[Window], calibrate_days: int, horizon_days: int) -> SimBacktest:
    if not done:
        return SimBacktest(calibrate_days=calibrate_days, horizon_days=horizon_days, windows=[],
                           lead_time_hit_rate_85=None, throughput_hit_rate_85=None,
                           lead_time_median_abs_error_pct=None,
                           throughput_median_abs_error_pct=None, passed=None,
                           reason=f"too little history for a backtest: each window needs"
                                  f" {calibrate_days} days with at least {MIN_CHANGES}"
                                  f" delivered changes, then {horizon_days} days to predict")
    lead_hit, lead_err = _rate([(w.actual_lead_time_median_s, w.predicted_lead_time_median_s)
                                for w in done if w.actual_lead_time_median_s is not None
                                and w.predicted_lead_time_median_s is not None])
    put_hit, put_err = _rate([(w.actual_throughput_per_day, w.predicted_throughput_per_day)
                              for w in done])
    passed = (None if lead_hit is None or put_hit is None else
              lead_hit >= PASS_HIT_RATE and put_hit >= PASS_HIT_RATE)
    return SimBacktest(calibrate_days=calibrate_days, horizon_days=horizon_days, windows=done,
                       lead_time_hit_rate_85=lead_hit, throughput_hit_rate_85=put_hit,
                       lead_time_median_abs_error_pct=lead_err,
                       throughput_median_abs_error_pct=put_err, passed=passed, reason=None)
