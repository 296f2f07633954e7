"""Cohort statistics: AI-assisted vs other and before vs after, with intervals, effect sizes and strata."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.stats
from scipy.special import ndtr, ndtri

from leadlens.analysis import amdahl
from leadlens.errors import UserError
from leadlens.metrics.flow import SIZE_BUCKETS

__all__ = [
    "DEFAULT_RESAMPLES", "DEFAULT_SEED", "MIN_N", "MIN_STRATUM",
    "AmdahlCheck", "CohortFigures", "Comparison", "DiD", "Statistic", "StratumComparison",
    "amdahl_check", "cliffs_delta", "compare", "difference_in_differences", "hodges_lehmann",
]

Statistic = Literal["median", "mean"]
Values = Sequence[float] | npt.NDArray[np.floating] | npt.NDArray[np.integer]
Array = npt.NDArray[np.float64]

DEFAULT_RESAMPLES = 9999
DEFAULT_SEED = 20240601
MIN_N = 20  # changes per cohort before a difference is given
MIN_STRATUM = 10  # changes per cohort within one size bucket
BCA = "BCa"
PERCENTILE = "percentile (BCa undefined on these data)"
# Resamples per batch are chosen so a batch holds about this many values per array: the bootstrap's
# memory stays near 100 MB whatever the cohort sizes.
_BATCH_VALUES = 1 << 21


@dataclass(frozen=True)
class CohortFigures:
    """Baseline vs treatment on one metric; the number fields are None when evidence is lacking."""

    n_baseline: int
    n_treatment: int
    median_baseline: float | None
    median_treatment: float | None
    mean_baseline: float | None
    mean_treatment: float | None
    difference: float | None  # treatment - baseline, of the chosen statistic
    ci_low: float | None
    ci_high: float | None
    method: str | None  # how the interval was computed: BCa, or percentile where BCa is undefined
    relative_difference: float | None  # difference / baseline statistic (None when that is 0)
    p_value: float | None  # two-sided Mann-Whitney U
    cliffs_delta: float | None  # P(T > B) - P(T < B)
    hodges_lehmann: float | None  # median of all pairwise differences T - B
    enough: bool
    reason: str | None  # "not enough evidence: ..." when not enough


@dataclass(frozen=True)
class StratumComparison(CohortFigures):
    """One size bucket's comparison."""

    stratum: str
    weight: float  # the bucket's share of all changes in both cohorts


@dataclass(frozen=True)
class Comparison(CohortFigures):
    """Treatment vs baseline: pooled figures, per size bucket, and the size-stratified difference."""

    metric: str
    labels: tuple[str, str]  # (baseline, treatment)
    statistic: Statistic
    confidence: float
    resamples: int
    seed: int
    strata: tuple[StratumComparison, ...]
    stratified_difference: float | None  # weighted mean of the buckets' differences
    stratified_ci_low: float | None
    stratified_ci_high: float | None
    stratified_method: str | None
    stratified_coverage: float | None  # share of all changes in the buckets the estimate uses
    stratified_reason: str | None


@dataclass(frozen=True)
class DiD:
    """Difference in differences: the pilot group's change over the control group's."""

    metric: str
    statistic: Statistic
    confidence: float
    resamples: int
    seed: int
    n_pilot_before: int
    n_pilot_after: int
    n_control_before: int
    n_control_after: int
    pilot_before: float | None
    pilot_after: float | None
    control_before: float | None
    control_after: float | None
    pilot_change: float | None
    control_change: float | None
    estimate: float | None  # (pilot_after - pilot_before) - (control_after - control_before)
    ci_low: float | None
    ci_high: float | None
    method: str | None
    enough: bool
    reason: str | None


@dataclass(frozen=True)
class AmdahlCheck:
    """End-to-end speed-up Amdahl's law predicts from one stage's measured speed-up, beside the measured one."""

    stage: str
    confidence: float
    resamples: int
    seed: int
    n_baseline: int
    n_treatment: int
    share: float | None  # the stage's share of baseline lead time: sum stage / sum lead time
    ceiling: float | None  # 1 / (1 - share)
    stage_speedup: float | None  # k = mean baseline stage / mean treatment stage (None when infinite)
    predicted_speedup: float | None  # 1 / ((1 - share) + share / k)
    predicted_low: float | None
    predicted_high: float | None
    measured_speedup: float | None  # mean baseline lead time / mean treatment lead time
    measured_low: float | None
    measured_high: float | None
    predicted_change_pct: float | None  # change in mean lead time Amdahl's law predicts, in percent
    predicted_change_low: float | None
    predicted_change_high: float | None
    measured_change_pct: float | None
    measured_change_low: float | None
    measured_change_high: float | None
    method: str | None
    mean_stage_baseline: float | None
    mean_stage_treatment: float | None
    mean_lead_baseline: float | None
    mean_lead_treatment: float | None
    median_stage_baseline: float | None
    median_stage_treatment: float | None
    median_lead_baseline: float | None
    median_lead_treatment: float | None
    median_stage_ratio: float | None  # baseline / treatment, read like a speed-up
    median_lead_ratio: float | None
    enough: bool
    reason: str | None
    note: str | None  # what the figures cannot say (a stage that vanished, a zero baseline)


# --- effect sizes ------------------------------------------------------------------------------------


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
        if int(count.sum()) <= max(4 * n, 1 << 16):
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


# --- the bootstrap -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sample:
    """One independently resampled group of changes; several columns stay together per change."""

    columns: tuple[Array, ...]
    statistic: Statistic

    @property
    def n(self) -> int:
        return int(self.columns[0].size)

    def summarise(self, idx: npt.NDArray[np.integer]) -> Array:
        """The statistic of each column over the changes `idx` picks: shape (columns, *idx.shape[:-1])."""
        reduce = np.median if self.statistic == "median" else np.mean
        return np.stack([reduce(column[idx], axis=-1) for column in self.columns])

    def jackknife(self) -> Array:
        """Leave-one-out statistics in closed form, shape (columns, n): O(n log n), where scipy's BCa
        jackknife materialises n resamples of n - 1 values (O(n^2): minutes at 20,000 changes)."""
        return np.stack([_leave_one_out(column, self.statistic) for column in self.columns])


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


def _rows(*rows: Array) -> Array:
    return np.stack(np.broadcast_arrays(*rows))


@dataclass(frozen=True)
class _Interval:
    estimate: float | None
    low: float | None
    high: float | None
    method: str | None


def _batch(sizes: Sequence[int], resamples: int) -> int:
    return max(1, min(resamples, _BATCH_VALUES // max(1, sum(sizes))))


def _intervals(samples: Sequence[_Sample], combine: Combine, *, resamples: int, seed: int,
               confidence: float) -> list[_Interval]:
    """Estimates of each row `combine` returns, with BCa intervals over independent resamples.

    scipy.stats.bootstrap draws the resamples (of change indices, so columns stay paired) and the
    bootstrap distribution; the BCa correction follows scipy's own (Efron & Tibshirani 14.3, 15.4)
    with the closed-form jackknife, so intervals equal scipy's ``method="BCa"`` for the same seed.
    """

    def statistic(*idx: npt.NDArray[np.integer], axis: int = -1) -> Array:
        return combine([s.summarise(i) for s, i in zip(samples, idx, strict=True)])

    result = scipy.stats.bootstrap(
        tuple(np.arange(s.n) for s in samples), statistic, n_resamples=resamples, vectorized=True,
        batch=_batch([s.n for s in samples], resamples), method="percentile",
        confidence_level=confidence, rng=np.random.default_rng(seed))
    full = [s.summarise(np.arange(s.n)) for s in samples]
    theta = combine(full)
    distribution = np.asarray(result.bootstrap_distribution).reshape(theta.size, resamples)
    jackknife = []
    for j, sample in enumerate(samples):
        parts = [f[:, None] for f in full]
        parts[j] = sample.jackknife()
        jackknife.append(combine(parts))
    return [_bca(float(theta[r]), distribution[r], [jk[r] for jk in jackknife], confidence)
            for r in range(theta.size)]


def _bca(theta: float, distribution: Array, jackknife: list[Array], confidence: float) -> _Interval:
    if not (np.isfinite(theta) and np.isfinite(distribution).all()):
        return _Interval(_finite(theta), None, None, None)
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
    return _Interval(theta, float(ci[0]), float(ci[1]), method)


# --- comparisons -------------------------------------------------------------------------------------


def compare(
    metric: str, baseline: Values, treatment: Values, *, statistic: Statistic = "median",
    baseline_strata: Sequence[str] | None = None, treatment_strata: Sequence[str] | None = None,
    labels: tuple[str, str] = ("other", "AI-assisted"), resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED, min_n: int = MIN_N, min_stratum: int = MIN_STRATUM,
    confidence: float = 0.95,
) -> Comparison:
    """Treatment vs baseline on one metric (one value per change), pooled and per size bucket.

    With `statistic="mean"` and 0/1 values (reverted or not) the difference is one of proportions.
    """
    _check(statistic, resamples, confidence, min_n, min_stratum)
    b = _array(baseline, f"{metric} ({labels[0]})")
    t = _array(treatment, f"{metric} ({labels[1]})")
    pooled = _figures(b, t, statistic, labels, min_n)
    if pooled.enough:
        samples = [_Sample((b,), statistic), _Sample((t,), statistic)]
        (interval,) = _intervals(samples, _difference, resamples=resamples, seed=seed, confidence=confidence)
        pooled = _with_interval(pooled, interval)
    if (baseline_strata is None) != (treatment_strata is None):
        raise ValueError("strata are given for both cohorts or for neither")
    strata: tuple[StratumComparison, ...] = ()
    stratified = _Interval(None, None, None, None)
    coverage: float | None = None
    stratified_reason: str | None = None
    if baseline_strata is not None and treatment_strata is not None:
        bs = _labels(baseline_strata, b.size, f"{metric} ({labels[0]}) strata")
        ts = _labels(treatment_strata, t.size, f"{metric} ({labels[1]}) strata")
        strata, stratified = _stratify(b, t, bs, ts, statistic, labels, pooled, min_stratum,
                                       resamples=resamples, seed=seed, confidence=confidence)
        used = [s.weight for s in strata if s.enough]
        coverage = float(sum(used)) if used else None
        if not used:
            stratified_reason = pooled.reason or (
                f"not enough evidence in any size bucket: need {min_stratum} changes per cohort in a bucket")
    return Comparison(
        **_fields(pooled), metric=metric, labels=labels, statistic=statistic, confidence=confidence,
        resamples=resamples, seed=seed, strata=strata, stratified_difference=stratified.estimate,
        stratified_ci_low=stratified.low, stratified_ci_high=stratified.high,
        stratified_method=stratified.method, stratified_coverage=coverage,
        stratified_reason=stratified_reason)


def _difference(parts: list[Array]) -> Array:
    return _rows(parts[1][0] - parts[0][0])


def _stratify(
    b: Array, t: Array, bs: npt.NDArray[np.str_], ts: npt.NDArray[np.str_], statistic: Statistic,
    labels: tuple[str, str], pooled: CohortFigures, min_stratum: int, *, resamples: int, seed: int,
    confidence: float,
) -> tuple[tuple[StratumComparison, ...], _Interval]:
    """Per size bucket, and their weighted mean: a bucket's weight is its share of all changes, over
    the buckets with enough evidence in both cohorts, so a cohort's other mix of sizes cannot pass
    for a difference. Each bucket's two cohorts are resampled separately (resampling within strata)."""
    order = {name: i for i, (name, _) in enumerate(SIZE_BUCKETS)}
    names = sorted(set(bs.tolist()) | set(ts.tolist()), key=lambda s: (order.get(s, len(order)), s))
    total = b.size + t.size
    rows: list[tuple[str, float, CohortFigures, Array, Array]] = []
    for name in names:
        bx, tx = b[bs == name], t[ts == name]
        figures = _figures(bx, tx, statistic, labels, min_stratum, where=f" in {name}",
                           blocked=None if pooled.enough else pooled.reason)
        rows.append((name, (bx.size + tx.size) / total, figures, bx, tx))
    usable = [i for i, row in enumerate(rows) if row[2].enough]
    stratified = _Interval(None, None, None, None)
    if usable:
        weights = np.array([rows[i][1] for i in usable])
        weights = weights / weights.sum()

        def combine(parts: list[Array]) -> Array:
            differences = [parts[2 * k + 1][0] - parts[2 * k][0] for k in range(len(usable))]
            return _rows(*differences, sum(w * d for w, d in zip(weights, differences, strict=True)))

        samples = [_Sample((column,), statistic) for i in usable for column in rows[i][3:5]]
        intervals = _intervals(samples, combine, resamples=resamples, seed=seed, confidence=confidence)
        for k, i in enumerate(usable):
            name, weight, figures, bx, tx = rows[i]
            rows[i] = (name, weight, _with_interval(figures, intervals[k]), bx, tx)
        stratified = intervals[-1]
    return tuple(StratumComparison(**_fields(f), stratum=name, weight=w) for name, w, f, _, _ in rows), stratified


def _figures(b: Array, t: Array, statistic: Statistic, labels: tuple[str, str], need: int,
             where: str = "", blocked: str | None = None) -> CohortFigures:
    short = [_changes(x.size, label) for x, label in zip((b, t), labels, strict=True) if x.size < need]
    reason = blocked or (f"not enough evidence{where}: {' and '.join(short)}, need {need}" if short else None)
    described: dict[str, Any] = {
        "n_baseline": b.size, "n_treatment": t.size,
        "median_baseline": float(np.median(b)) if b.size else None,
        "median_treatment": float(np.median(t)) if t.size else None,
        "mean_baseline": float(np.mean(b)) if b.size else None,
        "mean_treatment": float(np.mean(t)) if t.size else None,
    }
    if reason is not None:
        return CohortFigures(**described, difference=None, ci_low=None, ci_high=None, method=None,
                             relative_difference=None, p_value=None, cliffs_delta=None,
                             hodges_lehmann=None, enough=False, reason=reason)
    reduce = np.median if statistic == "median" else np.mean
    base = float(reduce(b))
    difference = float(reduce(t)) - base
    return CohortFigures(
        **described, difference=difference, ci_low=None, ci_high=None, method=None,
        relative_difference=difference / base if base != 0 else None,
        p_value=float(scipy.stats.mannwhitneyu(t, b, alternative="two-sided").pvalue),
        cliffs_delta=cliffs_delta(b, t), hodges_lehmann=hodges_lehmann(b, t), enough=True, reason=None)


def _with_interval(figures: CohortFigures, interval: _Interval) -> CohortFigures:
    return replace(figures, ci_low=interval.low, ci_high=interval.high, method=interval.method)


def _fields(figures: CohortFigures) -> dict[str, Any]:
    return {name: getattr(figures, name) for name in CohortFigures.__dataclass_fields__}


def _changes(n: int, label: str) -> str:
    return f"{n} {label} change{'' if n == 1 else 's'}"


def difference_in_differences(
    metric: str, pilot_before: Values, pilot_after: Values, control_before: Values,
    control_after: Values, *, statistic: Statistic = "median", resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED, min_n: int = MIN_N, confidence: float = 0.95,
) -> DiD:
    """How much more the pilot group changed than the control group, across the pilot start."""
    _check(statistic, resamples, confidence, min_n, min_n)
    groups = {"pilot team before": pilot_before, "pilot team after": pilot_after,
              "control team before": control_before, "control team after": control_after}
    pb, pa, cb, ca = (_array(values, f"{metric} ({name})") for name, values in groups.items())
    short = [_changes(x.size, name) for x, name in zip((pb, pa, cb, ca), groups, strict=True) if x.size < min_n]
    reduce = np.median if statistic == "median" else np.mean

    def level(x: Array) -> float | None:
        return float(reduce(x)) if x.size else None

    interval = _Interval(None, None, None, None)
    pilot_change = control_change = None
    if not short:
        samples = [_Sample((x,), statistic) for x in (pb, pa, cb, ca)]
        (interval,) = _intervals(samples, _did, resamples=resamples, seed=seed, confidence=confidence)
        pilot_change = float(reduce(pa)) - float(reduce(pb))
        control_change = float(reduce(ca)) - float(reduce(cb))
    return DiD(
        metric=metric, statistic=statistic, confidence=confidence, resamples=resamples, seed=seed,
        n_pilot_before=pb.size, n_pilot_after=pa.size, n_control_before=cb.size, n_control_after=ca.size,
        pilot_before=level(pb), pilot_after=level(pa), control_before=level(cb), control_after=level(ca),
        pilot_change=pilot_change, control_change=control_change, estimate=interval.estimate,
        ci_low=interval.low, ci_high=interval.high, method=interval.method, enough=not short,
        reason=f"not enough evidence: {' and '.join(short)}, need {min_n}" if short else None)


def _did(parts: list[Array]) -> Array:
    pb, pa, cb, ca = (p[0] for p in parts)
    return _rows((pa - pb) - (ca - cb))


def amdahl_check(
    baseline_stage: Values, baseline_lead: Values, treatment_stage: Values, treatment_lead: Values, *,
    stage: str = "coding", resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
    min_n: int = MIN_N, confidence: float = 0.95,
) -> AmdahlCheck:
    """Amdahl's law, predicted vs measured: one value per change of `stage` seconds (0 where a change
    has no such segment) and lead time seconds, for the baseline cohort (or period) and the treatment.

    The prediction keeps the baseline's time outside the stage and puts in the treatment's stage time:
    mean lead time ``lb - sb + st``, i.e. speed-up ``1 / ((1 - share) + share / k)`` with
    ``share = sb / lb`` and ``k = sb / st`` (means, as Amdahl's law needs).
    """
    _check("mean", resamples, confidence, min_n, min_n)
    sb, lb = _durations(baseline_stage, baseline_lead, f"{stage} (baseline)")
    st, lt = _durations(treatment_stage, treatment_lead, f"{stage} (treatment)")
    short = [_changes(x.size, name) for x, name in ((lb, "baseline"), (lt, "treatment")) if x.size < min_n]
    reason = f"not enough evidence: {' and '.join(short)}, need {min_n}" if short else None
    if reason is None and not lb.sum() > 0:
        reason = "the baseline's lead times are all zero: no stage has a share of them"
    medians = {name: float(np.median(x)) if x.size else None
               for name, x in (("sb", sb), ("lb", lb), ("st", st), ("lt", lt))}
    means = {name: float(np.mean(x)) if x.size else None
             for name, x in (("sb", sb), ("lb", lb), ("st", st), ("lt", lt))}
    none = _Interval(None, None, None, None)
    predicted = measured = predicted_pct = measured_pct = none
    share = ceiling = k = None
    note = None
    if reason is None:
        samples = [_Sample((sb, lb), "mean"), _Sample((st, lt), "mean")]
        predicted, measured, predicted_pct, measured_pct = _intervals(
            samples, _amdahl, resamples=resamples, seed=seed, confidence=confidence)
        share = float(sb.sum() / lb.sum())
        ceiling = _finite(amdahl.ceiling(min(share, 1.0)))
        mean_sb, mean_st = float(sb.mean()), float(st.mean())
        if mean_sb == 0:
            note = f"the baseline spends no time in {stage}: speeding it up cannot change lead time"
        elif mean_st == 0:
            note = (f"{stage} takes no time in the treatment: Amdahl's law predicts the ceiling, "
                    f"1 / (1 - share)")
        else:
            k = mean_sb / mean_st
    return AmdahlCheck(
        stage=stage, confidence=confidence, resamples=resamples, seed=seed,
        n_baseline=lb.size, n_treatment=lt.size, share=share, ceiling=ceiling, stage_speedup=k,
        predicted_speedup=predicted.estimate, predicted_low=predicted.low, predicted_high=predicted.high,
        measured_speedup=measured.estimate, measured_low=measured.low, measured_high=measured.high,
        predicted_change_pct=predicted_pct.estimate, predicted_change_low=predicted_pct.low,
        predicted_change_high=predicted_pct.high, measured_change_pct=measured_pct.estimate,
        measured_change_low=measured_pct.low, measured_change_high=measured_pct.high,
        method=predicted.method, mean_stage_baseline=means["sb"], mean_stage_treatment=means["st"],
        mean_lead_baseline=means["lb"], mean_lead_treatment=means["lt"],
        median_stage_baseline=medians["sb"], median_stage_treatment=medians["st"],
        median_lead_baseline=medians["lb"], median_lead_treatment=medians["lt"],
        median_stage_ratio=_ratio(medians["sb"], medians["st"]),
        median_lead_ratio=_ratio(medians["lb"], medians["lt"]),
        enough=reason is None, reason=reason, note=note)


def _amdahl(parts: list[Array]) -> Array:
    (sb, lb), (st, lt) = parts
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero mean lead time is caught after
        return _rows(lb / (lb - sb + st), lb / lt, (st - sb) / lb * 100, (lt - lb) / lb * 100)


# --- input -------------------------------------------------------------------------------------------


def _check(statistic: str, resamples: int, confidence: float, min_n: int, min_stratum: int) -> None:
    if statistic not in ("median", "mean"):
        raise UserError(f"the statistic is median or mean, not {statistic!r}")
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise UserError(f"resamples is a positive whole number, not {resamples!r}")
    if not 0 < confidence < 1:
        raise UserError(f"the confidence level is a fraction between 0 and 1, not {confidence!r}")
    if min(min_n, min_stratum) < 2:
        raise UserError(f"a cohort needs at least 2 changes for an interval, not {min(min_n, min_stratum)}")


def _array(values: Values, what: str) -> Array:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{what}: one value per change, not an array of shape {x.shape}")
    bad = int(np.count_nonzero(~np.isfinite(x)))
    if bad:
        raise ValueError(f"{what}: {bad} values are not finite numbers")
    return x


def _labels(strata: Sequence[str], n: int, what: str) -> npt.NDArray[np.str_]:
    labels = np.asarray(list(strata), dtype=np.str_)
    if labels.shape != (n,):
        raise ValueError(f"{what}: {labels.size} labels for {n} values")
    return labels


def _durations(stage: Values, lead: Values, what: str) -> tuple[Array, Array]:
    s, lead_time = _array(stage, f"{what} stage"), _array(lead, f"{what} lead time")
    if s.shape != lead_time.shape:
        raise ValueError(f"{what}: {s.size} stage times for {lead_time.size} lead times")
    if (s < 0).any() or (lead_time < 0).any():
        raise ValueError(f"{what}: durations are never negative")
    if (s > lead_time * (1 + 1e-9) + 1e-9).any():
        raise ValueError(f"{what}: a stage is part of its change's lead time, never longer")
    return s, lead_time


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b is not None and b != 0 else None
