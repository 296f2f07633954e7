"""The bootstrap behind cohort statistics: scipy's resampling, BCa with a closed-form jackknife."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

__all__ = ["BCA", "MAX_CHANGES", "PERCENTILE", "Combine", "Interval", "Sample", "Statistic", "batch",
           "intervals", "resampled", "rows"]

Statistic = Literal["median", "mean"]
Array = npt.NDArray[np.float64]

BCA = "BCa"
PERCENTILE = "percentile (BCa undefined on these data)"
# A resample's median is looked for within this many sqrt(n) ranks of the sample's middle.
_WINDOW = 6.0
# Changes resampled per interval at most (all samples together): beyond, an m-out-of-n bootstrap.
MAX_CHANGES = 20_000
# Resamples per batch are chosen so a batch holds about this many values per array: the bootstrap
# adds some 40 MB to the process whatever the cohort sizes (docs/statistics.md).
_BATCH_VALUES = 1 << 21


@dataclass(frozen=True)
class Sample:
    """One independently resampled group of changes; several columns stay together per change."""

    columns: tuple[Array, ...]
    statistic: Statistic

    @property
    def n(self) -> int:
        return int(self.columns[0].size)

    def canonical(self) -> Sample:
        """The same changes in one order whatever order they came in: sorted on the columns
        (the first column first; NaN last)."""
        order = np.lexsort(tuple(reversed(self.columns)))
        return Sample(tuple(c[order] for c in self.columns), self.statistic)

    def summarise(self, idx: npt.NDArray[np.integer]) -> Array:
        """The statistic of each column over the changes `idx` picks: shape (columns, *idx.shape[:-1])."""
        if self.statistic == "mean":
            return np.stack([np.mean(column[idx], axis=-1) for column in self.columns])
        return np.stack([_medians(xs, rank, idx) for xs, rank in self._ranked])

    @cached_property
    def _ranked(self) -> list[tuple[Array, npt.NDArray[np.int32]]]:
        """Each column sorted, and each change's position in that order."""
        ranked = []
        for column in self.columns:
            order = np.argsort(column, kind="stable")
            rank = np.empty(column.size, dtype=np.int32)
            rank[order] = np.arange(column.size, dtype=np.int32)
            ranked.append((column[order], rank))
        return ranked

    def jackknife(self) -> Array:
        """Leave-one-out statistics in closed form, shape (columns, n): O(n log n), where scipy's BCa
        jackknife materialises n resamples of n - 1 values (O(n^2): minutes at 20,000 changes)."""
        return np.stack([_leave_one_out(column, self.statistic) for column in self.columns])


def _medians(xs: Array, rank: npt.NDArray[np.int32], idx: npt.NDArray[np.integer]) -> Array:
    """np.median(x[idx], axis=-1), exactly, at a third of its cost on large samples.

    A resample's median is the value at some rank of the sorted sample, and that rank stays within a
    few sqrt(n) of the middle: count the drawn ranks below a window around the middle, tally those
    inside it, and read the middle off the running count. Rows whose middle falls outside the window
    (a twelve-sigma event) are computed directly.
    """
    n = xs.size
    ranks = rank[idx].reshape(-1, n)
    half = int(_WINDOW * np.sqrt(n)) + 1
    lo, hi = max(0, (n - 1) // 2 - half), min(n, n // 2 + 1 + half)
    width = hi - lo
    below = np.count_nonzero(ranks < lo, axis=1)
    shifted = (ranks - np.int32(lo)).view(np.uint32)  # ranks below the window wrap to huge numbers
    inside = shifted < width
    rows = np.repeat(np.arange(ranks.shape[0]), np.count_nonzero(inside, axis=1))
    tally = np.bincount(rows * width + shifted[inside], minlength=ranks.shape[0] * width)
    running = np.cumsum(tally.reshape(-1, width), axis=1) + below[:, None]
    first, second = (n - 1) // 2, n // 2  # the middle order statistics (equal when n is odd)
    medians: Array = (xs[lo + np.argmax(running > first, axis=1)]
                      + xs[lo + np.argmax(running > second, axis=1)]) / 2
    outside = (below > first) | (running[:, -1] <= second)
    if outside.any():
        medians[outside] = np.median(xs[ranks[outside]], axis=1)
    return medians.reshape(idx.shape[:-1])


def _leave_one_out(x: Array, statistic: Statistic) -> Array:
    n = x.size
    if statistic == "mean":
        means: Array = (x.sum() - x) / (n - 1)
        return means
    xs = np.sort(x)
    removed = np.arange(n)  # which order statistic is left out; ties give equal values, as they should

    def kept(k: int) -> Array:  # the k-th order statistic of what is left
        values: Array = np.where(k < removed, xs[k], xs[k + 1])
        return values

    m = n - 1
    return kept(m // 2) if m % 2 else (kept(m // 2 - 1) + kept(m // 2)) / 2


Combine = Callable[[list[Array]], Array]


def rows(*rows: Array) -> Array:
    return np.stack(np.broadcast_arrays(*rows))


@dataclass(frozen=True)
class Interval:
    estimate: float | None
    low: float | None
    high: float | None
    method: str | None


def batch(sizes: Sequence[int], resamples: int) -> int:
    return max(1, min(resamples, _BATCH_VALUES // max(1, sum(sizes))))


def intervals(samples: Sequence[Sample], combine: Combine, *, resamples: int, seed: int,
               confidence: float, max_changes: int | None = None) -> list[Interval]:
    """Estimates of each row `combine` returns, with BCa intervals over independent resamples.

    Above ``max_changes`` changes in all (default :data:`MAX_CHANGES`), the resampling runs on a
    seeded random fraction f of every sample (an m-out-of-n bootstrap) and each interval's
    deviations from the subsample's estimate are scaled by sqrt(f) around the full data's
    estimate: medians and means have root-n spread, so this is the full-size interval to a good
    approximation, at a cost that no longer grows with the data (a million changes: seconds, not
    hours). The method says so.

    Each sample's rows are put in one canonical order first (sorted on its columns): the
    statistics do not depend on the order, but which rows a seeded resample picks does, and an
    engine returns rows in any order it likes — so the same data and seed give the same interval.
    """
    samples = [s.canonical() for s in samples]
    cap = MAX_CHANGES if max_changes is None else max_changes
    total = sum(s.n for s in samples)
    if total > cap:
        return _m_out_of_n(samples, combine, resamples=resamples, seed=seed,
                           confidence=confidence, fraction=cap / total)
    return _intervals(samples, combine, resamples=resamples, seed=seed, confidence=confidence)


def _m_out_of_n(samples: Sequence[Sample], combine: Combine, *, resamples: int, seed: int,
                confidence: float, fraction: float) -> list[Interval]:
    rng = np.random.default_rng(seed)
    subs = []
    for s in samples:
        m = min(s.n, max(2, round(s.n * fraction)))
        idx = np.sort(rng.choice(s.n, size=m, replace=False))
        subs.append(Sample(tuple(c[idx] for c in s.columns), s.statistic))
    theta = combine([s.summarise(np.arange(s.n)) for s in samples])
    scale = float(np.sqrt(fraction))
    label = f" on {sum(x.n for x in subs):,} of {sum(x.n for x in samples):,} changes, rescaled"
    out = []
    for r, iv in enumerate(_intervals(subs, combine, resamples=resamples, seed=seed,
                                      confidence=confidence)):
        full = float(theta[r])
        if iv.estimate is None or iv.low is None or iv.high is None or not np.isfinite(full):
            out.append(Interval(full if np.isfinite(full) else None, None, None, None))
            continue
        out.append(Interval(full, full + (iv.low - iv.estimate) * scale,
                            full + (iv.high - iv.estimate) * scale,
                            f"{iv.method} (m-out-of-n{label})"))
    return out


def _intervals(samples: Sequence[Sample], combine: Combine, *, resamples: int, seed: int,
               confidence: float) -> list[Interval]:
    """:func:`intervals` over every change.

    The resamples are scipy.stats.bootstrap's, of change indices so columns stay paired
    (:func:`resampled`); the BCa correction follows scipy's own (Efron & Tibshirani 14.3, 15.4)
    with the closed-form jackknife, so intervals equal scipy's ``method="BCa"`` for the same seed,
    resamples and batch.
    """
    distribution = resampled(samples, combine, resamples=resamples, seed=seed)
    full = [s.summarise(np.arange(s.n)) for s in samples]
    theta = combine(full)
    distribution = distribution.reshape(theta.size, resamples)
    jackknife = []
    for j, sample in enumerate(samples):
        parts = [f[:, None] for f in full]
        parts[j] = sample.jackknife()
        jackknife.append(combine(parts))
    return [bca(float(theta[r]), distribution[r], [jk[r] for jk in jackknife], confidence)
            for r in range(theta.size)]


def resampled(samples: Sequence[Sample], combine: Combine, *, resamples: int, seed: int) -> Array:
    """The bootstrap distribution of ``combine`` over the samples: the one
    ``scipy.stats.bootstrap(..., vectorized=True, batch=batch(...), rng=default_rng(seed))``
    returns over the samples' change indices, draw for draw (its resampling loop: per batch, per
    sample, ``rng.integers(0, n, (batch, n))``), without scipy's copy of every drawn index.
    A worker thread summarises one batch while the next is drawn (numpy leaves the GIL for both).
    """
    rng = np.random.default_rng(seed)
    size = batch([s.n for s in samples], resamples)

    def summary(idx: list[npt.NDArray[np.int64]]) -> Array:
        return combine([s.summarise(i) for s, i in zip(samples, idx, strict=True)])

    parts: list[Future[Array]] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        for k in range(0, resamples, size):
            drawn = [rng.integers(0, s.n, (min(size, resamples - k), s.n), dtype=np.int64)
                     for s in samples]
            parts.append(pool.submit(summary, drawn))
            if len(parts) > 2:  # at most two batches of indices wait: memory stays bounded
                parts[-3].result()
        out: Array = np.concatenate([p.result() for p in parts], axis=-1)
    return out


def bca(theta: float, distribution: Array, jackknife: list[Array], confidence: float) -> Interval:
    if not (np.isfinite(theta) and np.isfinite(distribution).all()):
        return Interval(theta if np.isfinite(theta) else None, None, None, None)
    alpha = (1 - confidence) / 2
    with np.errstate(all="ignore"):  # degenerate data give 0/0 here: that is the signal to fall back
        below = np.count_nonzero(distribution < theta) + np.count_nonzero(distribution <= theta)
        z0 = ndtri(below / (2 * distribution.size))
        spread = [(jk.size - 1) * (jk.mean() - jk) for jk in jackknife if jk.size > 1]
        skew = sum(float((u**3).sum()) / u.size**3 for u in spread)
        scale = sum(float((u**2).sum()) / u.size**2 for u in spread)
        acceleration = skew / 6 / scale**1.5 if scale > 0 else np.nan
        z = ndtri(alpha)
        low = ndtr(z0 + (z0 + z) / (1 - acceleration * (z0 + z)))
        high = ndtr(z0 + (z0 - z) / (1 - acceleration * (z0 - z)))
    method = BCA
    if not (np.isfinite(low) and np.isfinite(high)):
        method, low, high = PERCENTILE, alpha, 1 - alpha
    ci = np.quantile(distribution, [low, high])
    return Interval(theta, float(ci[0]), float(ci[1]), method)
