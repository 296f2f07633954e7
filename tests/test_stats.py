"""Cohort statistics: hand computations on small samples, and agreement with SciPy called directly."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from leadlens.analysis import amdahl, bootstrap, effects
from leadlens.analysis.amdahl import amdahl_check
from leadlens.analysis.stats import (
    cliffs_delta,
    compare,
    difference_in_differences,
    hodges_lehmann,
)
from leadlens.config import DEFAULT_SEED
from leadlens.errors import UserError

SEED = DEFAULT_SEED


@pytest.fixture(autouse=True)
def no_warnings() -> Iterator[None]:
    # Degenerate data must not warn noisily: every warning fails the test.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def median_difference(b: np.ndarray, t: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(t, axis=axis) - np.median(b, axis=axis)


def mean_difference(b: np.ndarray, t: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(t, axis=axis) - np.mean(b, axis=axis)


def scipy_bca(data: tuple[np.ndarray, ...], statistic, resamples: int, **kw) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    # leadlens resamples each sample in its canonical (sorted) order: scipy gets that order too.
    data = tuple(np.sort(x) for x in data)
    batch = bootstrap.batch([x.size for x in data], resamples)
    ci = scipy.stats.bootstrap(data, statistic, n_resamples=resamples, vectorized=True, method="BCa",
                               batch=batch, rng=np.random.default_rng(SEED), **kw).confidence_interval
    return ci.low, ci.high


def lead_times(seed: int, n: int, scale: float = 1.0) -> np.ndarray:
    # Whole hours, so the samples have ties as real lead times do.
    return np.round(np.random.default_rng(seed).lognormal(3, 1, n) * scale)


# --- effect sizes by hand ---------------------------------------------------------------------------


def test_cliffs_delta_and_hodges_lehmann_by_hand() -> None:
    # B = [1, 2, 3], T = [2, 4, 6]. Pairwise T - B:
    #   t=2: 1, 0, -1     t=4: 3, 2, 1     t=6: 5, 4, 3
    # sorted: -1 0 1 1 2 3 3 4 5 -> median 2 (the 5th of 9).
    # T > B in 7 pairs, T < B in 1 (2 vs 3), one tie (2 vs 2): delta = (7 - 1) / 9 = 2/3.
    assert hodges_lehmann([1, 2, 3], [2, 4, 6]) == 2.0
    assert cliffs_delta([1, 2, 3], [2, 4, 6]) == pytest.approx(2 / 3)
    # Even count: B = [0, 10], T = [1, 2] -> differences 1, 2, -9, -8 -> sorted -9 -8 1 2 -> (-8 + 1) / 2.
    assert hodges_lehmann([0, 10], [1, 2]) == -3.5
    assert cliffs_delta([0, 10], [1, 2]) == 0.0  # 2 pairs each way
    assert cliffs_delta([1, 1], [1, 1]) == 0.0


def test_cliffs_delta_is_scipy_u_rescaled_on_ties() -> None:
    rng = np.random.default_rng(3)
    b, t = rng.integers(0, 8, 57).astype(float), rng.integers(1, 9, 43).astype(float)
    u = scipy.stats.mannwhitneyu(t, b).statistic
    assert cliffs_delta(b, t) == pytest.approx(2 * u / (b.size * t.size) - 1, abs=1e-12)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
samples = st.lists(st.one_of(finite, st.integers(-5, 5).map(float)), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(b=samples, t=samples, direct=st.sampled_from([0, 7, 1 << 16]))
def test_hodges_lehmann_equals_brute_force(b: list[float], t: list[float], direct: int) -> None:
    # direct=0 forces the pivot rounds all the way down; 1 << 16 sorts small samples at once.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(effects, "_DIRECT", direct)
        assert hodges_lehmann(b, t) == np.median(np.subtract.outer(np.asarray(t), np.asarray(b)))


@pytest.mark.parametrize("n, m, ties", [(400, 300, False), (301, 500, True), (1, 100_000, False)])
def test_hodges_lehmann_large_samples_equal_brute_force(n: int, m: int, ties: bool) -> None:
    rng = np.random.default_rng(n + m)
    b, t = rng.lognormal(3, 1, n), rng.lognormal(3.2, 1, m)
    if ties:
        b, t = np.round(b), np.round(t)
    assert hodges_lehmann(b, t) == np.median(np.subtract.outer(t, b))


@pytest.mark.parametrize("window", [6.0, 0.0])  # 0: nearly every resample's middle is outside
@pytest.mark.parametrize("n", [1, 2, 3, 10, 11, 1000, 1001])
def test_resample_medians_equal_numpy(n: int, window: float) -> None:
    rng = np.random.default_rng(n)
    for x in (rng.lognormal(3, 1, n), np.round(rng.lognormal(1, 1, n))):
        idx = rng.integers(0, n, (57, n))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(bootstrap, "_WINDOW", window)
            sample = bootstrap.Sample((x,), "median")
            assert np.array_equal(sample.summarise(idx)[0], np.median(x[idx], axis=-1))
            assert sample.summarise(np.arange(n))[0] == np.median(x)


# --- compare --------------------------------------------------------------------------------------


def test_compare_small_sample_by_hand() -> None:
    c = compare("lead_time", [1, 2, 3, 4], [2, 4, 6], min_n=2, resamples=99)
    assert (c.n_baseline, c.n_treatment) == (4, 3)
    assert (c.median_baseline, c.median_treatment) == (2.5, 4.0)
    assert (c.mean_baseline, c.mean_treatment) == (2.5, 4.0)
    assert c.difference == 1.5 and c.relative_difference == pytest.approx(0.6)
    # Pairwise T - B: t=2: 1 0 -1 -2, t=4: 3 2 1 0, t=6: 5 4 3 2 -> sorted -2 -1 0 0 1 1 2 2 3 3 4 5
    assert c.hodges_lehmann == 1.5
    # T > B: 1 + 3 + 4 = 8, T < B: 2 + 0 + 0 = 2, over 12 pairs.
    assert c.cliffs_delta == pytest.approx(0.5)
    assert c.enough and c.reason is None
    assert c.labels == ("other", "AI-assisted") and c.statistic == "median"


@pytest.mark.parametrize("statistic", ["median", "mean"])
def test_compare_agrees_with_scipy(statistic: str) -> None:
    b, t = lead_times(1, 41), lead_times(2, 33, scale=1.4)
    c = compare("lead_time", b, t, statistic=statistic, resamples=499)  # type: ignore[arg-type]
    assert c.p_value == pytest.approx(scipy.stats.mannwhitneyu(t, b, alternative="two-sided").pvalue)
    stat = median_difference if statistic == "median" else mean_difference
    low, high = scipy_bca((b, t), stat, 499)
    assert c.method == "BCa"
    assert (c.ci_low, c.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    reduce = np.median if statistic == "median" else np.mean
    assert c.difference == pytest.approx(reduce(t) - reduce(b))
    assert c.ci_low < c.difference < c.ci_high


def test_compare_default_resamples_equal_scipy() -> None:
    b, t = lead_times(5, 30), lead_times(6, 25, scale=0.7)
    c = compare("pickup", b, t)
    assert c.resamples == 9999 and c.seed == SEED
    low, high = scipy_bca((b, t), median_difference, 9999)
    assert (c.ci_low, c.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))


def test_compare_batches_like_scipy_on_larger_samples() -> None:
    # 3,000 + 3,000 values: resamples are drawn in several batches, which must not change the draws.
    # (Seconds, not whole hours: with that many ties every leave-one-out median is the same value,
    # BCa is undefined and scipy warns; see test_tied_middle_falls_back_to_percentile.)
    rng = np.random.default_rng(7)
    b, t = rng.lognormal(10, 1, 3000), rng.lognormal(10.1, 1, 3000)
    assert bootstrap.batch([3000, 3000], 999) < 999
    c = compare("lead_time", b, t, resamples=999)
    low, high = scipy_bca((b, t), median_difference, 999)
    assert (c.ci_low, c.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))


def test_compare_is_deterministic_for_a_seed() -> None:
    b, t = lead_times(9, 50), lead_times(10, 50)
    assert compare("x", b, t, resamples=199) == compare("x", b, t, resamples=199)
    assert compare("x", b, t, resamples=199, seed=1).ci_low != compare("x", b, t, resamples=199).ci_low


def test_difference_in_proportions() -> None:
    # Reverted or not: 3 of 30 vs 9 of 30 -> 0.1 vs 0.3.
    b = np.array([1.0] * 3 + [0.0] * 27)
    t = np.array([1.0] * 9 + [0.0] * 21)
    c = compare("revert_rate", b, t, statistic="mean", resamples=499)
    assert c.difference == pytest.approx(0.2) and c.relative_difference == pytest.approx(2.0)
    low, high = scipy_bca((b, t), mean_difference, 499)
    assert (c.ci_low, c.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))


def test_not_enough_evidence_at_19_vs_20() -> None:
    b, t = lead_times(11, 20), lead_times(12, 19)
    c = compare("lead_time", b, t, resamples=99)
    assert not c.enough
    assert c.reason == "not enough evidence: 19 AI-assisted changes, need 20"
    assert (c.n_baseline, c.n_treatment) == (20, 19)
    assert c.median_treatment == np.median(t) and c.mean_baseline == pytest.approx(np.mean(b))
    figures = (c.difference, c.ci_low, c.ci_high, c.method, c.relative_difference, c.p_value,
               c.cliffs_delta, c.hodges_lehmann)
    assert figures == (None,) * 8
    assert compare("lead_time", b, lead_times(12, 20), resamples=99).enough
    both = compare("lead_time", b[:1], [], resamples=99)
    assert both.reason == "not enough evidence: 1 other change and 0 AI-assisted changes, need 20"
    assert both.median_treatment is None and both.mean_treatment is None


def test_degenerate_data_fall_back_to_percentile_without_warnings() -> None:
    # All equal: BCa's acceleration is 0/0 (scipy warns and gives NaN); ours says percentile.
    c = compare("lead_time", [5.0] * 25, [5.0] * 30, resamples=199)
    assert c.enough and c.difference == 0.0 and (c.ci_low, c.ci_high) == (0.0, 0.0)
    assert c.method == bootstrap.PERCENTILE
    assert c.p_value == 1.0 and c.cliffs_delta == 0.0 and c.hodges_lehmann == 0.0
    zero = compare("revert_rate", [0.0] * 25, [0.0] * 25, statistic="mean", resamples=199)
    assert zero.relative_difference is None and zero.method == bootstrap.PERCENTILE
    # One cohort constant, the other not: BCa is still defined (the other sample carries it).
    mixed = compare("lead_time", [5.0] * 25, lead_times(13, 25), resamples=199)
    assert mixed.method == "BCa"


def test_tied_middle_falls_back_to_percentile() -> None:
    # Whole hours, 3,000 each: leaving any one change out never moves either median, so the jackknife
    # has no spread, BCa's acceleration is 0/0, and the interval is the percentile one.
    b, t = np.sort(lead_times(7, 3000)), np.sort(lead_times(8, 3000, scale=1.1))
    c = compare("lead_time", b, t, resamples=199)
    assert c.method == bootstrap.PERCENTILE
    distribution = scipy.stats.bootstrap(
        (b, t), median_difference, n_resamples=199, vectorized=True, method="percentile",
        batch=bootstrap.batch([3000, 3000], 199), rng=np.random.default_rng(SEED)).confidence_interval
    assert (c.ci_low, c.ci_high) == pytest.approx((distribution.low, distribution.high), rel=1e-12)


# --- strata ---------------------------------------------------------------------------------------


def bigger_but_equally_fast() -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    # Within each bucket both cohorts take the same time (equal medians); AI changes are mostly L.
    b = np.concatenate([np.linspace(1, 2, 60), np.linspace(10, 11, 20)])
    t = np.concatenate([np.linspace(1, 2, 20), np.linspace(10, 11, 60)])
    return b, ["XS"] * 60 + ["L"] * 20, t, ["XS"] * 20 + ["L"] * 60


def test_stratified_difference_removes_the_size_mix() -> None:
    b, bs, t, ts = bigger_but_equally_fast()
    c = compare("lead_time", b, t, baseline_strata=bs, treatment_strata=ts, resamples=499)
    assert c.difference == pytest.approx(np.median(t) - np.median(b)) and c.difference > 8
    assert c.ci_low > 5  # pooled, AI changes look much slower
    assert [s.stratum for s in c.strata] == ["XS", "L"]  # the size buckets' order, not the alphabet's
    assert [s.weight for s in c.strata] == [0.5, 0.5]
    assert [s.difference for s in c.strata] == [0.0, 0.0]
    assert c.stratified_difference == 0.0 and c.stratified_coverage == 1.0
    assert c.stratified_ci_low < 0 < c.stratified_ci_high
    assert c.stratified_method == "BCa" and c.stratified_reason is None
    # Each bucket's cohorts are resampled separately: scipy with the four samples gives the same.
    xs, large = slice(0, 60), slice(60, 80)
    data = (b[xs], t[:20], b[large], t[20:])

    def rows(b1, t1, b2, t2, axis=-1):  # type: ignore[no-untyped-def]
        d1, d2 = median_difference(b1, t1, axis), median_difference(b2, t2, axis)
        return np.stack([d1, d2, 0.5 * d1 + 0.5 * d2])

    low, high = scipy_bca(data, rows, 499)
    assert (c.strata[0].ci_low, c.strata[1].ci_low, c.stratified_ci_low) == pytest.approx(low, rel=1e-9)
    assert (c.strata[0].ci_high, c.strata[1].ci_high, c.stratified_ci_high) == pytest.approx(high, rel=1e-9)


def test_stratum_without_enough_evidence_is_left_out_of_the_estimate() -> None:
    b, bs, t, ts = bigger_but_equally_fast()
    b = np.concatenate([b, [100.0] * 9])
    t = np.concatenate([t, [500.0] * 30])
    bs, ts = [*bs, *["XL"] * 9], [*ts, *["XL"] * 30]
    c = compare("lead_time", b, t, baseline_strata=bs, treatment_strata=ts, resamples=199)
    xl = c.strata[-1]
    assert xl.stratum == "XL" and not xl.enough and xl.difference is None
    assert xl.reason == "not enough evidence in XL: 9 other changes, need 10"
    assert xl.weight == pytest.approx(39 / 199)
    assert c.stratified_difference == 0.0  # XS and L only, each weighted 1/2
    assert c.stratified_coverage == pytest.approx(160 / 199)


def test_strata_say_why_when_the_pooled_comparison_lacks_evidence() -> None:
    c = compare("lead_time", lead_times(1, 30), lead_times(2, 15), baseline_strata=["M"] * 30,
                treatment_strata=["M"] * 15, resamples=99, min_stratum=10)
    assert not c.strata[0].enough and c.strata[0].reason == c.reason
    assert c.stratified_difference is None and c.stratified_reason == c.reason


def test_stratum_with_identical_values() -> None:
    b, bs, t, ts = bigger_but_equally_fast()
    b[:60], t[:20] = 3.0, 3.0  # the XS bucket is constant in both cohorts
    c = compare("lead_time", b, t, baseline_strata=bs, treatment_strata=ts, resamples=199)
    assert c.strata[0].difference == 0.0 and c.strata[0].method == bootstrap.PERCENTILE
    assert (c.strata[0].ci_low, c.strata[0].ci_high) == (0.0, 0.0)
    assert c.strata[1].method == "BCa" and c.stratified_method == "BCa"


# --- difference in differences ----------------------------------------------------------------------


def test_difference_in_differences_by_hand() -> None:
    # Pilot medians 2 -> 5 (+3); control 2 -> 3 (+1): the pilot changed by 2 more.
    d = difference_in_differences("lead_time", [1, 2, 3], [4, 5, 6], [1, 2, 3], [2, 3, 4],
                                  min_n=2, resamples=199)
    assert (d.pilot_before, d.pilot_after, d.control_before, d.control_after) == (2, 5, 2, 3)
    assert (d.pilot_change, d.control_change, d.estimate) == (3, 1, 2)
    assert d.enough and d.ci_low is not None and d.ci_high is not None
    short = difference_in_differences("lead_time", [1, 2, 3], [4, 5, 6], [1, 2, 3], [2], min_n=2)
    assert short.reason == "not enough evidence: 1 control team after change, need 2"
    assert short.estimate is None and short.control_after == 2


def test_difference_in_differences_agrees_with_scipy() -> None:
    groups = tuple(lead_times(20 + i, 25 + i) for i in range(4))
    d = difference_in_differences("pickup", *groups, statistic="mean", resamples=499)

    def did(pb, pa, cb, ca, axis=-1):  # type: ignore[no-untyped-def]
        return (pa.mean(axis) - pb.mean(axis)) - (ca.mean(axis) - cb.mean(axis))

    low, high = scipy_bca(groups, did, 499)
    assert d.estimate == pytest.approx(did(*groups))
    assert (d.ci_low, d.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))


# --- Amdahl ---------------------------------------------------------------------------------------


def test_amdahl_check_by_hand() -> None:
    # Baseline: coding 1..20 h, everything else 3x coding -> coding's share is 1/4.
    # Treatment: coding twice as fast, everything else unchanged -> Amdahl predicts
    # 1 / (0.75 + 0.25 / 2) = 1 / 0.875 = 1.142857..., and that is what happened.
    coding = np.arange(1.0, 21.0)
    a = amdahl_check(coding, 4 * coding, coding / 2, 3.5 * coding, resamples=499)
    assert a.share == pytest.approx(0.25) and a.stage_speedup == pytest.approx(2.0)
    assert a.ceiling == pytest.approx(4 / 3)
    assert a.predicted_speedup == pytest.approx(1 / 0.875) == pytest.approx(amdahl.speedup(0.25, 2.0))
    assert a.measured_speedup == pytest.approx(42 / 36.75)
    assert a.predicted_change_pct == pytest.approx(-12.5)  # (5.25 - 10.5) / 42
    assert a.measured_change_pct == pytest.approx(-12.5)
    assert a.predicted_low <= a.predicted_speedup <= a.predicted_high
    assert a.median_stage_ratio == pytest.approx(2.0) and a.median_lead_ratio == pytest.approx(4 / 3.5)
    assert a.enough and a.note is None


def test_amdahl_check_when_the_rest_of_the_pipeline_slows() -> None:
    # Same coding speed-up, but lead times do not move: predicted 1.14x, measured 1.0x.
    coding = np.arange(1.0, 21.0)
    a = amdahl_check(coding, 4 * coding, coding / 2, 4 * coding, resamples=499)
    assert a.predicted_speedup == pytest.approx(1 / 0.875) and a.measured_speedup == pytest.approx(1.0)
    assert a.measured_change_pct == pytest.approx(0.0)


def test_amdahl_interval_equals_scipy_over_paired_indices() -> None:
    rng = np.random.default_rng(4)
    lb, lt = lead_times(30, 40), lead_times(31, 35)
    sb, st_ = lb * rng.uniform(0, 0.5, 40), lt * rng.uniform(0, 0.3, 35)
    a = amdahl_check(sb, lb, st_, lt, resamples=499)
    # Each sample in leadlens' canonical order (sorted on its columns, the stage first).
    b_order, t_order = np.lexsort((lb, sb)), np.lexsort((lt, st_))
    sb, lb, st_, lt = sb[b_order], lb[b_order], st_[t_order], lt[t_order]

    def predicted(i, j, axis=-1):  # type: ignore[no-untyped-def]
        b_lead, b_stage, t_stage = lb[i].mean(axis), sb[i].mean(axis), st_[j].mean(axis)
        return b_lead / (b_lead - b_stage + t_stage)

    low, high = scipy_bca((np.arange(40), np.arange(35)), predicted, 499)
    assert (a.predicted_low, a.predicted_high) == pytest.approx((low, high), rel=1e-9)
    share, k = sb.sum() / lb.sum(), sb.mean() / st_.mean()
    assert a.predicted_speedup == pytest.approx(amdahl.speedup(share, k))


def test_amdahl_check_edges() -> None:
    coding = np.arange(1.0, 21.0)
    gone = amdahl_check(coding, 4 * coding, np.zeros(20), 3 * coding, resamples=199)
    assert gone.stage_speedup is None and gone.predicted_speedup == pytest.approx(gone.ceiling)
    assert gone.ceiling == pytest.approx(4 / 3) and "ceiling" in (gone.note or "")
    none = amdahl_check(np.zeros(20), 4 * coding, coding, 5 * coding, resamples=199)
    assert none.share == 0 and none.predicted_speedup == pytest.approx(1 / (1 + 10.5 / 42))
    assert "no time in coding" in (none.note or "")
    short = amdahl_check(coding[:19], 4 * coding[:19], coding, 4 * coding)
    assert short.reason == "not enough evidence: 19 baseline changes, need 20"
    assert short.predicted_speedup is None and short.median_lead_baseline == 40.0


# --- bad input ------------------------------------------------------------------------------------


def test_bad_parameters_are_user_errors() -> None:
    with pytest.raises(UserError, match="resamples"):
        compare("x", [1.0] * 20, [1.0] * 20, resamples=0)
    with pytest.raises(UserError, match="confidence"):
        compare("x", [1.0] * 20, [1.0] * 20, confidence=95)
    with pytest.raises(UserError, match="median or mean"):
        compare("x", [1.0] * 20, [1.0] * 20, statistic="mode")  # type: ignore[arg-type]


def test_malformed_values_are_refused() -> None:
    with pytest.raises(ValueError, match="not finite"):
        compare("x", [1.0, float("nan")], [1.0])
    with pytest.raises(ValueError, match="2 labels for 3 values"):
        compare("x", [1.0, 2, 3], [1.0], baseline_strata=["XS", "S"], treatment_strata=["XS"])
    with pytest.raises(ValueError, match="both cohorts or for neither"):
        compare("x", [1.0], [1.0], baseline_strata=["XS"])
    with pytest.raises(ValueError, match="never longer"):
        amdahl_check([5.0], [4.0], [1.0], [1.0])


def test_large_cohorts_use_a_rescaled_m_out_of_n_bootstrap(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    base, treat = rng.lognormal(10, 1, 30_000), rng.lognormal(9.9, 1, 6_000)
    monkeypatch.setattr(bootstrap, "MAX_CHANGES", 10**9)
    full = compare("lead_time_s", base, treat, resamples=1999)
    monkeypatch.setattr(bootstrap, "MAX_CHANGES", 9_000)
    sub = compare("lead_time_s", base, treat, resamples=1999)
    # The estimate is the full data's; the interval is resampled on a quarter, scaled by sqrt(1/4).
    assert sub.difference == full.difference
    assert sub.method is not None and "m-out-of-n on 9,000 of 36,000 changes" in sub.method
    assert full.method == "BCa"
    assert full.ci_low is not None and full.ci_high is not None
    assert sub.ci_low is not None and sub.ci_high is not None
    assert sub.ci_low < sub.difference < sub.ci_high  # type: ignore[operator]
    width_full, width_sub = full.ci_high - full.ci_low, sub.ci_high - sub.ci_low
    assert 0.75 < width_sub / width_full < 1.33


def test_intervals_do_not_depend_on_the_order_rows_came_in() -> None:
    """An engine returns rows in any order; the same data and seed give the same interval, on the
    plain and the m-out-of-n bootstrap alike."""
    from leadlens.analysis.bootstrap import Sample, intervals
    from leadlens.analysis.stats import _difference

    rng = np.random.default_rng(7)
    a, b = rng.exponential(5.0, 300), rng.exponential(7.0, 250)
    for cap in (None, 100):
        got = [intervals([Sample((x,), "median"), Sample((y,), "median")], _difference,
                         resamples=999, seed=3, confidence=0.95, max_changes=cap)
               for x, y in ((a, b), (rng.permutation(a), rng.permutation(b)))]
        assert got[0] == got[1] and got[0][0].low is not None
