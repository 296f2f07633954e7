"""Monte Carlo forecasts from historical throughput, each with its walk-forward backtest: when will
N more changes (or work items) be done, and how many by a date."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from pydantic import BaseModel, ConfigDict

from leadlens.analysis.scope import Scope

__all__ = ["LEVELS", "Backtest", "Forecast", "backtest", "days_to_finish", "done_by", "forecast"]

LEVELS = (0.5, 0.85, 0.95)  # the confidence of each answer
# A backtest passes when the 85% interval held the actual at least this often.
PASS_HIT_RATE = 0.75
MIN_HISTORY_DAYS = 14


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Backtest(_Figure):
    """Walk-forward: calibrate on ``history_days``, predict the next ``horizon_days``, move on a
    horizon; how often the actual count fell inside the 85% interval, and the median error of
    the median prediction."""

    windows: int
    horizon_days: int
    hit_rate_85: float | None  # share of windows whose actual count was inside the 85% interval
    median_abs_error_pct: float | None  # |median prediction - actual| / actual, over windows with work
    passed: bool | None  # hit rate at least PASS_HIT_RATE; None without windows
    reason: str | None  # why there is no backtest (too little history)


class Forecast(_Figure):
    """`leadlens forecast --format json` (docs/forecast.md)."""

    basis: str  # change (merged) | item (delivered)
    start: date  # the first day forecast (the day after the history ends)
    history_days: int
    history_done: int  # done in the history window
    per_day: float  # their mean
    runs: int
    seed: int
    count: int | None  # --count N
    finish: dict[str, date] | None  # {"50%": date, "85%": ..., "95%": ...}: done by then
    by: date | None  # --by DATE
    done_by: dict[str, int] | None  # {"50%": n, ...}: at least n done by then, at that confidence
    scope: Scope | None  # --scope: its items, done and remaining (count = remaining)
    all_remaining_by: float | None  # --scope with --by: the chance every remaining one is done
    backtest: Backtest
    headline: str


def _draws(history: np.ndarray, days: int, runs: int, rng: np.random.Generator) -> np.ndarray:
    """``runs`` x ``days`` daily throughputs resampled from ``history`` (with replacement)."""
    return np.asarray(history[rng.integers(0, history.size, size=(runs, days))])


def days_to_finish(history: np.ndarray, n: int, *, runs: int, seed: int,
                   cap_days: int = 3650) -> np.ndarray:
    """For each run, the days until ``n`` are done (``cap_days + 1`` when not within the cap);
    drawn a year at a time, so memory stays at runs x 365 values."""
    rng = np.random.default_rng(seed)
    total = np.zeros(runs)
    days = np.full(runs, cap_days + 1)
    for offset in range(0, cap_days, 365):
        cum = total[:, None] + np.cumsum(_draws(history, min(365, cap_days - offset), runs, rng),
                                         axis=1)
        reached = (cum >= n) & (days > cap_days)[:, None]
        hit = reached.any(axis=1)
        days[hit] = offset + reached[hit].argmax(axis=1) + 1
        total = cum[:, -1]
        if (days <= cap_days).all():
            break
    return days


def done_by(history: np.ndarray, days: int, *, runs: int, seed: int) -> np.ndarray:
    """For each run, how many are done within ``days`` days."""
    rng = np.random.default_rng(seed)
    return np.asarray(_draws(history, days, runs, rng).sum(axis=1))


def backtest(daily: np.ndarray, history_days: int, horizon_days: int, *, runs: int, seed: int
             ) -> Backtest:
    """Walk forward over ``daily`` (done per day, oldest first): each window calibrates on the
    ``history_days`` before it and predicts its ``horizon_days``."""
    windows, hits, errors = 0, 0, []
    for start in range(history_days, daily.size - horizon_days + 1, horizon_days):
        got = done_by(daily[start - history_days:start], horizon_days, runs=runs,
                      seed=seed + start)
        low, mid, high = np.quantile(got, [0.075, 0.5, 0.925])
        actual = float(daily[start:start + horizon_days].sum())
        windows += 1
        hits += int(low <= actual <= high)
        if actual > 0:
            errors.append(abs(mid - actual) / actual)
    if not windows:
        return Backtest(windows=0, horizon_days=horizon_days, hit_rate_85=None,
                        median_abs_error_pct=None, passed=None,
                        reason=f"too little history for a backtest: it needs {history_days}"
                               f" + {horizon_days} days of throughput")
    rate = hits / windows
    return Backtest(windows=windows, horizon_days=horizon_days, hit_rate_85=rate,
                    median_abs_error_pct=100 * float(np.median(errors)) if errors else None,
                    passed=rate >= PASS_HIT_RATE, reason=None)


def forecast(daily: np.ndarray, start: date, *, basis: str, history_days: int,
             horizon_days: int, count: int | None, by: date | None, runs: int, seed: int,
             scope: Scope | None = None) -> Forecast:
    """``daily``: done per day up to the day before ``start``, oldest first (at least
    ``history_days`` of them: the forecast resamples the last ``history_days``). With a
    ``scope``, the count is its remaining items (``count`` is not given), and ``by`` asks how
    many of them are done by then."""
    history = daily[-history_days:].astype(float)
    remaining = None if scope is None else scope.remaining
    if scope is not None:
        count = remaining if by is None and remaining else None
    finish = need = all_by = None
    if count is not None:
        days = days_to_finish(history, count, runs=runs, seed=seed)
        finish = {f"{level:.0%}": start + timedelta(days=int(np.ceil(np.quantile(days, level))) - 1)
                  for level in LEVELS}
    if by is not None and remaining != 0:
        got = done_by(history, (by - start).days + 1, runs=runs, seed=seed)
        need = {f"{level:.0%}": int(np.floor(np.quantile(got, 1 - level))) for level in LEVELS}
        if remaining is not None:
            need = {level: min(n, remaining) for level, n in need.items()}
            all_by = float(np.mean(got >= remaining))
    bt = backtest(daily.astype(float), history_days, horizon_days, runs=runs, seed=seed)
    what = "changes" if basis == "change" else "work items"
    parts: list[str] = []
    lead = ""
    noun = "work item" if scope is not None and scope.items == 1 else "work items"
    if scope is not None and not remaining:
        lead = f"nothing remains: all {scope.items:,} {noun} of {scope.describe()} are done"
    elif scope is not None:
        lead = f"{remaining:,} remaining of {scope.items:,} {noun} in {scope.describe()}: "
    if finish is not None:
        done = "all done" if scope is not None else f"{count:,} more {what} done"
        parts.append(f"{done} by {finish['85%']} (85% likely; 50%: {finish['50%']}, 95%:"
                     f" {finish['95%']})")
    if need is not None:
        of = " of them" if scope is not None else f" {what}"
        parts.append(f"by {by}, at least {need['85%']:,}{of} (85% likely; 50%: {need['50%']:,},"
                     f" 95%: {need['95%']:,})")
    if all_by is not None:
        parts.append(f"all {remaining:,} by then: {all_by:.0%} likely")
    trust = (bt.reason or "" if bt.passed is None else
             f"backtest: the 85% interval held {bt.hit_rate_85:.0%} of {bt.windows} past"
             f" {horizon_days}-day windows" + ("" if bt.passed else
                                               " — this forecast FAILS its backtest: do not"
                                               " rely on it"))
    whole = ("" if scope is None or not remaining else
             " — the team's whole throughput, as if all of it went to this scope")
    return Forecast(basis=basis, start=start, history_days=history_days,
                    history_done=int(history.sum()), per_day=float(history.mean()), runs=runs,
                    seed=seed, count=count, finish=finish, by=by, done_by=need, scope=scope,
                    all_remaining_by=all_by, backtest=bt,
                    headline=lead + "; ".join(parts) + f". From the last {history_days} days' throughput"
                    f" ({history.mean():.2f} {what}/day{whole}); {trust}.")
