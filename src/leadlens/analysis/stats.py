"""Cohort statistics: AI-assisted vs other and before vs after, with intervals, effect sizes and strata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.stats

from leadlens.analysis.bootstrap import Interval, Sample, Statistic, intervals, rows
from leadlens.analysis.effects import cliffs_delta, hodges_lehmann
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED
from leadlens.errors import UserError
from leadlens.metrics.flow import SIZE_BUCKETS

__all__ = [
    "MIN_N", "MIN_STRATUM",
    "CohortFigures", "Comparison", "DiD", "Statistic", "StratumComparison", "Values", "as_array",
    "changes_of", "check_parameters", "cliffs_delta", "compare", "difference_in_differences",
    "hodges_lehmann",
]

Values = Sequence[float] | npt.NDArray[np.floating] | npt.NDArray[np.integer]
Array = npt.NDArray[np.float64]

MIN_N = 20  # changes per cohort before a difference is given
MIN_STRATUM = 10  # changes per cohort within one size bucket


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
    resamples = check_parameters(statistic, resamples, confidence, min_n, min_stratum)
    b = as_array(baseline, f"{metric} ({labels[0]})")
    t = as_array(treatment, f"{metric} ({labels[1]})")
    pooled = _figures(b, t, statistic, labels, min_n)
    if pooled.enough:
        samples = [Sample((b,), statistic), Sample((t,), statistic)]
        (interval,) = intervals(samples, _difference, resamples=resamples, seed=seed, confidence=confidence)
        pooled = _with_interval(pooled, interval)
    if (baseline_strata is None) != (treatment_strata is None):
        raise ValueError("strata are given for both cohorts or for neither")
    strata: tuple[StratumComparison, ...] = ()
    stratified = Interval(None, None, None, None)
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
    return rows(parts[1][0] - parts[0][0])


def _stratify(
    b: Array, t: Array, bs: npt.NDArray[np.str_], ts: npt.NDArray[np.str_], statistic: Statistic,
    labels: tuple[str, str], pooled: CohortFigures, min_stratum: int, *, resamples: int, seed: int,
    confidence: float,
) -> tuple[tuple[StratumComparison, ...], Interval]:
    """Per size bucket, and their weighted mean: a bucket's weight is its share of all changes, over
    the buckets with enough evidence in both cohorts, so a cohort's other mix of sizes cannot pass
    for a difference. Each bucket's two cohorts are resampled separately (resampling within strata)."""
    order = {name: i for i, (name, _) in enumerate(SIZE_BUCKETS)}
    names = sorted(set(bs.tolist()) | set(ts.tolist()), key=lambda s: (order.get(s, len(order)), s))
    total = b.size + t.size
    buckets: list[tuple[str, float, CohortFigures, Array, Array]] = []
    for name in names:
        bx, tx = b[bs == name], t[ts == name]
        figures = _figures(bx, tx, statistic, labels, min_stratum, where=f" in {name}",
                           blocked=None if pooled.enough else pooled.reason)
        buckets.append((name, (bx.size + tx.size) / total, figures, bx, tx))
    usable = [i for i, row in enumerate(buckets) if row[2].enough]
    stratified = Interval(None, None, None, None)
    if usable:
        weights = np.array([buckets[i][1] for i in usable])
        weights = weights / weights.sum()

        def combine(parts: list[Array]) -> Array:
            differences = [parts[2 * k + 1][0] - parts[2 * k][0] for k in range(len(usable))]
            return rows(*differences, sum(w * d for w, d in zip(weights, differences, strict=True)))

        samples = [Sample((column,), statistic) for i in usable for column in buckets[i][3:5]]
        found = intervals(samples, combine, resamples=resamples, seed=seed, confidence=confidence)
        for k, i in enumerate(usable):
            name, weight, figures, bx, tx = buckets[i]
            buckets[i] = (name, weight, _with_interval(figures, found[k]), bx, tx)
        stratified = found[-1]
    strata = (StratumComparison(**_fields(f), stratum=name, weight=w) for name, w, f, _, _ in buckets)
    return tuple(strata), stratified


def _figures(b: Array, t: Array, statistic: Statistic, labels: tuple[str, str], need: int,
             where: str = "", blocked: str | None = None) -> CohortFigures:
    short = [changes_of(x.size, label) for x, label in zip((b, t), labels, strict=True) if x.size < need]
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


def _with_interval(figures: CohortFigures, interval: Interval) -> CohortFigures:
    return replace(figures, ci_low=interval.low, ci_high=interval.high, method=interval.method)


def _fields(figures: CohortFigures) -> dict[str, Any]:
    return {name: getattr(figures, name) for name in CohortFigures.__dataclass_fields__}


def changes_of(n: int, label: str) -> str:
    return f"{n} {label} change{'' if n == 1 else 's'}"


def difference_in_differences(
    metric: str, pilot_before: Values, pilot_after: Values, control_before: Values,
    control_after: Values, *, statistic: Statistic = "median", resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED, min_n: int = MIN_N, confidence: float = 0.95,
) -> DiD:
    """How much more the pilot group changed than the control group, across the pilot start."""
    resamples = check_parameters(statistic, resamples, confidence, min_n, min_n)
    groups = {"pilot team before": pilot_before, "pilot team after": pilot_after,
              "control team before": control_before, "control team after": control_after}
    pb, pa, cb, ca = (as_array(values, f"{metric} ({name})") for name, values in groups.items())
    short = [changes_of(x.size, name)
             for x, name in zip((pb, pa, cb, ca), groups, strict=True) if x.size < min_n]
    reduce = np.median if statistic == "median" else np.mean

    def level(x: Array) -> float | None:
        return float(reduce(x)) if x.size else None

    interval = Interval(None, None, None, None)
    pilot_change = control_change = None
    if not short:
        samples = [Sample((x,), statistic) for x in (pb, pa, cb, ca)]
        (interval,) = intervals(samples, _did, resamples=resamples, seed=seed, confidence=confidence)
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
    return rows((pa - pb) - (ca - cb))


# --- input -------------------------------------------------------------------------------------------


def check_parameters(statistic: str, resamples: int, confidence: float, min_n: int, min_stratum: int) -> int:
    """Refuse parameters a user could mistype; the resample count as a plain int."""
    if statistic not in ("median", "mean"):
        raise UserError(f"the statistic is median or mean, not {statistic!r}")
    if isinstance(resamples, bool) or not isinstance(resamples, int | np.integer) or resamples < 1:
        raise UserError(f"resamples is a positive whole number, not {resamples!r}")
    if not 0 < confidence < 1:
        raise UserError(f"the confidence level is a fraction between 0 and 1, not {confidence!r}")
    if min(min_n, min_stratum) < 2:
        raise UserError(f"a cohort needs at least 2 changes for an interval, not {min(min_n, min_stratum)}")
    return int(resamples)


def as_array(values: Values, what: str) -> Array:
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
