"""Effect sizes of two cohorts: Cliff's delta and the Hodges-Lehmann shift, exact and memory-safe."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["cliffs_delta", "hodges_lehmann"]

Array = npt.NDArray[np.float64]
Values = Sequence[float] | npt.NDArray[np.floating] | npt.NDArray[np.integer]
# Once this few candidate differences remain, sorting them directly is cheaper than more rounds.
_DIRECT = 1 << 16


def _array(values: Values, what: str) -> Array:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or not np.isfinite(x).all():
        raise ValueError(f"{what}: one finite value per change")
    return x


def cliffs_delta(baseline: Values, treatment: Values) -> float:
    """P(T > B) - P(T < B) over all pairs, in O((n + m) log m): count with searchsorted, not a matrix."""
    b = np.sort(_array(baseline, "baseline"))
    t = _array(treatment, "treatment")
    if not (b.size and t.size):
        raise ValueError("Cliff's delta needs values in both cohorts")
    below = np.searchsorted(b, t, side="left").sum(dtype=np.int64)  # pairs with b < t
    above = (b.size - np.searchsorted(b, t, side="right")).sum(dtype=np.int64)  # pairs with b > t
    return float((below - above) / (b.size * t.size))


def hodges_lehmann(baseline: Values, treatment: Values) -> float:
    """The exact median of all pairwise differences T - B, without materialising the n x m of them."""
    t = np.sort(_array(treatment, "treatment"))
    b = np.sort(_array(baseline, "baseline"))[::-1]
    total = t.size * b.size
    if not total:
        raise ValueError("the Hodges-Lehmann shift needs values in both cohorts")
    if total % 2:
        return _pairwise_kth(t, b, total // 2)
    return (_pairwise_kth(t, b, total // 2 - 1) + _pairwise_kth(t, b, total // 2)) / 2


def _pairwise_kth(t: Array, b_desc: Array, q: int) -> float:
    """The q-th smallest (0-based) of t[i] - b_desc[j], a matrix sorted along rows and columns.

    Each round takes the weighted median of the rows' middle candidates as pivot and drops every
    candidate on the wrong side of it, at least a quarter of them; the few left are sorted directly.
    Differences are computed exactly as a brute-force matrix would, so the result is bit-identical.
    """
    n, m = t.size, b_desc.size
    lo = np.zeros(n, dtype=np.intp)  # candidates in row i: columns lo[i] .. hi[i]-1
    hi = np.full(n, m, dtype=np.intp)
    while True:
        count = hi - lo
        left = int(lo.sum())  # everything left of the candidates ranks below q
        if int(count.sum()) <= _DIRECT:
            rows = np.repeat(np.arange(n), count)
            starts = np.repeat(np.cumsum(count) - count, count)
            cols = lo[rows] + np.arange(rows.size) - starts
            values = t[rows] - b_desc[cols]
            return float(np.partition(values, q - left)[q - left])
        live = count > 0
        middles = t[live] - b_desc[lo[live] + count[live] // 2]
        order = np.argsort(middles, kind="stable")
        weights = np.cumsum(count[live][order])
        pivot = middles[order][np.searchsorted(weights, weights[-1] / 2)]
        below = _row_counts(t, b_desc, pivot, lo, hi, strict=True)
        upto = _row_counts(t, b_desc, pivot, lo, hi, strict=False)
        if q < int(below.sum()):
            hi = below
        elif q >= int(upto.sum()):
            lo = upto
        else:
            return float(pivot)


def _row_counts(t: Array, b_desc: Array, pivot: np.float64, lo: npt.NDArray[np.intp],
                hi: npt.NDArray[np.intp], *, strict: bool) -> npt.NDArray[np.intp]:
    """Per row, how many differences are < pivot (or <= when not strict): one binary search per row."""
    lo, hi = lo.copy(), hi.copy()
    last = b_desc.size - 1
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        d = t - b_desc[np.minimum(mid, last)]
        right = active & ((d < pivot) if strict else (d <= pivot))
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
