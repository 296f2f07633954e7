"""The trend (DESIGN.md, Aggregates, `trend`): has the median lead time changed in twelve months?

Numbers in, figures out: one lead time per delivered unit (a work item, or a change) and when it
was delivered. The current window is the 12 calendar months before ``as_of``, the previous window
the 12 before those, both half-open ``[from, to)``: a delivery exactly at ``as_of - 12 months``
is in the current window, one exactly at ``as_of`` in neither. The difference of medians
(current - previous) gets a 95% BCa bootstrap interval over independent resamples of the two
windows (analysis/bootstrap.py); each month of delivery gets its median and the distribution-free
binomial interval for a median.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.stats
from pydantic import BaseModel, ConfigDict, Field

from leadlens.analysis.bootstrap import Sample, intervals, rows
from leadlens.analysis.stats import MIN_N, as_array, check_parameters
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED

__all__ = ["CONFIDENCE", "MIN_MONTH_N", "MIN_N", "WINDOW_MONTHS", "Basis", "MonthMedian", "Trend",
           "Window", "median_interval", "months_before", "trend"]

Basis = Literal["item", "change"]
Array = npt.NDArray[np.float64]
Times = Sequence[datetime] | npt.NDArray[np.datetime64]

WINDOW_MONTHS = 12
CONFIDENCE = 0.95
# The fewest values a 95% distribution-free interval for a median exists for: with n values the
# widest interval, [min, max], misses the median with probability 2 / 2**n, under 5% from n = 6.
MIN_MONTH_N = 6


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True, serialize_by_alias=True, validate_by_name=True)


class Window(_Figure):
    """One window of deliveries: ``[from, to)``, how many, and their median lead time."""

    from_: datetime = Field(alias="from")
    to: datetime  # exclusive
    n: int
    median_s: float | None  # null when the window is empty


class MonthMedian(_Figure):
    month: str  # YYYY-MM of delivery; the first and last months are partial unless as_of starts a month
    n: int
    median_s: float | None
    ci95: tuple[float, float] | None  # binomial order-statistic interval; null below MIN_MONTH_N


class Trend(_Figure):
    """Current vs previous twelve months; the comparison is null with the ``reason`` when either
    window has fewer than :data:`MIN_N` deliveries."""

    basis: Basis  # item: spec -> production; change: the change lead time
    as_of: datetime
    current: Window
    previous: Window
    difference_s: float | None  # current median - previous median
    ci95: tuple[float, float] | None
    ratio: float | None  # current median / previous median; null when the previous median is 0
    method: str | None  # the interval's method (BCa, or what it fell back to)
    reason: str | None
    monthly: list[MonthMedian]


def months_before(t: datetime, months: int) -> datetime:
    """``t`` moved back by calendar months, the day clamped to the month's length (03-31 -> 02-28)."""
    index = t.year * 12 + t.month - 1 - months
    year, month = divmod(index, 12)
    day = min(t.day, calendar.monthrange(year, month + 1)[1])
    return t.replace(year=year, month=month + 1, day=day)


def trend(delivered_at: Times, lead_time_s: Sequence[float] | Array, *, basis: Basis,
          as_of: datetime, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> Trend:
    """The trend of lead time over the two windows before ``as_of``: ``delivered_at[i]`` (UTC;
    naive times are read as UTC) is when unit i was delivered, ``lead_time_s[i]`` its lead time.
    Deliveries outside both windows are ignored."""
    resamples = check_parameters("median", resamples, CONFIDENCE, MIN_N, MIN_N)
    if basis not in ("item", "change"):
        raise ValueError(f"basis is item or change, not {basis!r}")
    as_of = _utc(as_of)
    at = _instants(delivered_at)
    lead = as_array(lead_time_s, "lead_time_s")
    if at.shape != lead.shape:
        raise ValueError(f"{at.size} delivery times for {lead.size} lead times")
    middle, start = months_before(as_of, WINDOW_MONTHS), months_before(as_of, 2 * WINDOW_MONTHS)
    # Sorted: the resamples draw positions, so the same values in another order (rows as a
    # database returns them) would give another interval; in order, the inputs' order is moot.
    cur = np.sort(lead[_within(at, middle, as_of)])
    prev = np.sort(lead[_within(at, start, middle)])
    current, previous = _window(middle, as_of, cur), _window(start, middle, prev)
    monthly = _monthly(at, lead, start, as_of)
    if cur.size < MIN_N or prev.size < MIN_N:
        return Trend(basis=basis, as_of=as_of, current=current, previous=previous,
                     difference_s=None, ci95=None, ratio=None, method=None,
                     reason=f"not enough evidence: n={cur.size} in the current window,"
                            f" n={prev.size} in the previous one; at least {MIN_N} per window",
                     monthly=monthly)
    (iv,) = intervals([Sample((prev,), "median"), Sample((cur,), "median")], _difference,
                      resamples=resamples, seed=seed, confidence=CONFIDENCE)
    m_cur, m_prev = float(np.median(cur)), float(np.median(prev))
    ci = None if iv.low is None or iv.high is None else (iv.low, iv.high)
    return Trend(basis=basis, as_of=as_of, current=current, previous=previous,
                 difference_s=m_cur - m_prev, ci95=ci, ratio=m_cur / m_prev if m_prev else None,
                 method=iv.method, reason=None, monthly=monthly)


def _difference(parts: list[Array]) -> Array:
    return rows(parts[1][0] - parts[0][0])  # current - previous


def median_interval(values: Array, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """The distribution-free interval for a median: order statistics ``[x_(j), x_(n+1-j)]`` with
    the largest ``j`` such that ``P(B < j) <= (1 - confidence) / 2`` for ``B ~ Binomial(n, 1/2)``
    (coverage at least ``confidence``; as ``scipy.stats.quantile_test`` computes it). Null below
    :data:`MIN_MONTH_N` values, where no such interval exists at 95%."""
    n = values.size
    if n < MIN_MONTH_N:
        return None
    alpha = (1 - confidence) / 2
    # binom.ppf is the smallest k with P(B <= k) >= alpha: j - 1 is one below it unless equal.
    k = int(scipy.stats.binom.ppf(alpha, n, 0.5))
    j = k + 1 if scipy.stats.binom.cdf(k, n, 0.5) <= alpha else k
    if j < 1:
        return None
    xs = np.sort(values)
    return float(xs[j - 1]), float(xs[n - j])


def _window(start: datetime, end: datetime, values: Array) -> Window:
    return Window.model_validate({"from": start, "to": end, "n": int(values.size),
                                  "median_s": float(np.median(values)) if values.size else None})


def _monthly(at: npt.NDArray[np.datetime64], lead: Array, start: datetime, end: datetime
             ) -> list[MonthMedian]:
    """Every calendar month that meets ``[start, end)``, months without deliveries included."""
    out = []
    month = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while month < end:
        following = months_before(month, -1)
        values = lead[_within(at, max(month, start), min(following, end))]
        out.append(MonthMedian(month=month.strftime("%Y-%m"), n=int(values.size),
                               median_s=float(np.median(values)) if values.size else None,
                               ci95=median_interval(values)))
        month = following
    return out


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _stamp(t: datetime) -> np.datetime64:
    return np.datetime64(_utc(t).replace(tzinfo=None), "us")


def _instants(values: Times) -> npt.NDArray[np.datetime64]:
    if isinstance(values, np.ndarray):
        return values.astype("datetime64[us]")
    return np.array([_stamp(t) for t in values], dtype="datetime64[us]")


def _within(at: npt.NDArray[np.datetime64], start: datetime, end: datetime) -> npt.NDArray[np.bool_]:
    return (at >= _stamp(start)) & (at < _stamp(end))
