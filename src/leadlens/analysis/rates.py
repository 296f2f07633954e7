"""The difference of two rates (shares of 0/1 outcomes: reverted or not) with a BCa interval, by
binomial resampling.

Resampling n changes with replacement from a sample with k ones and taking the mean is drawing
Binomial(n, k/n) / n: the same bootstrap distribution as resampling the changes one by one
(analysis/bootstrap.py), at the cost of one draw per resample instead of n, so fifty thousand
changes cost what fifty do and no m-out-of-n shortcut is needed. The BCa correction is
bootstrap.bca's, with the leave-one-out means in closed form.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from leadlens.analysis.bootstrap import BCA, Interval, bca

__all__ = ["BINOMIAL", "rate_difference"]

BINOMIAL = f"{BCA} (binomial resampling)"


def _leave_one_out(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = (x.sum() - x) / (x.size - 1)
    return out


def rate_difference(baseline: npt.NDArray[np.float64], treatment: npt.NDArray[np.float64], *,
                    resamples: int, seed: int, confidence: float = 0.95) -> Interval:
    """treatment rate - baseline rate, both samples of 0/1 values (at least two each), with its
    BCa interval over ``resamples`` resamples of each sample."""
    for x in (baseline, treatment):
        if x.size < 2 or not np.isin(x, (0.0, 1.0)).all():
            raise ValueError("rate_difference needs at least two 0/1 values per sample")
    rng = np.random.default_rng(seed)
    pb, pt = float(baseline.mean()), float(treatment.mean())
    drawn_t = rng.binomial(treatment.size, pt, resamples) / treatment.size
    drawn_b = rng.binomial(baseline.size, pb, resamples) / baseline.size
    found = bca(pt - pb, drawn_t - drawn_b,
                [pt - _leave_one_out(baseline), _leave_one_out(treatment) - pb], confidence)
    method = BINOMIAL if found.method == BCA else found.method
    return Interval(found.estimate, found.low, found.high, method)
