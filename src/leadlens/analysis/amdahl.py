"""Amdahl's law for a delivery pipeline (DESIGN.md, Aggregates): what speeding up one stage buys."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from leadlens.analysis.bootstrap import Interval, Sample, intervals, rows
from leadlens.analysis.stats import MIN_N, Array, Values, as_array, changes_of, check_parameters
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED

__all__ = ["AmdahlCheck", "amdahl_check", "ceiling", "speedup"]


def ceiling(share: float) -> float:
    """End-to-end speed-up if the stage took no time at all: ``1 / (1 - share)``."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share is a fraction in [0, 1], not {share}")
    return math.inf if share == 1.0 else 1.0 / (1.0 - share)


def speedup(share: float, k: float) -> float:
    """End-to-end speed-up when the stage gets ``k`` times faster: ``1 / ((1 - share) + share / k)``."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share is a fraction in [0, 1], not {share}")
    if k <= 0:
        raise ValueError(f"a speed-up factor is positive, not {k}")
    return 1.0 / ((1.0 - share) + share / k)


@dataclass(frozen=True)
class AmdahlCheck:
    """The end-to-end speed-up Amdahl's law predicts from one stage's speed-up, beside the measured one."""

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
    resamples = check_parameters("mean", resamples, confidence, min_n, min_n)
    sb, lb = _durations(baseline_stage, baseline_lead, f"{stage} (baseline)")
    st, lt = _durations(treatment_stage, treatment_lead, f"{stage} (treatment)")
    short = [changes_of(x.size, name) for x, name in ((lb, "baseline"), (lt, "treatment")) if x.size < min_n]
    reason = f"not enough evidence: {' and '.join(short)}, need {min_n}" if short else None
    if reason is None and not lb.sum() > 0:
        reason = "the baseline's lead times are all zero: no stage has a share of them"
    medians = {name: float(np.median(x)) if x.size else None
               for name, x in (("sb", sb), ("lb", lb), ("st", st), ("lt", lt))}
    means = {name: float(np.mean(x)) if x.size else None
             for name, x in (("sb", sb), ("lb", lb), ("st", st), ("lt", lt))}
    none = Interval(None, None, None, None)
    predicted = measured = predicted_pct = measured_pct = none
    share = top = k = None
    note = None
    if reason is None:
        samples = [Sample((sb, lb), "mean"), Sample((st, lt), "mean")]
        predicted, measured, predicted_pct, measured_pct = intervals(
            samples, _amdahl, resamples=resamples, seed=seed, confidence=confidence)
        share = float(sb.sum() / lb.sum())
        top = _finite(ceiling(min(share, 1.0)))
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
        n_baseline=lb.size, n_treatment=lt.size, share=share, ceiling=top, stage_speedup=k,
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
        return rows(lb / (lb - sb + st), lb / lt, (st - sb) / lb * 100, (lt - lb) / lb * 100)


def _durations(stage: Values, lead: Values, what: str) -> tuple[Array, Array]:
    s, lead_time = as_array(stage, f"{what} stage"), as_array(lead, f"{what} lead time")
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
