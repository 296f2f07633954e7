"""The bootstrap draws scipy's resamples itself: the same distribution, draw for draw."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import scipy.stats

from leadlens.analysis.bootstrap import Sample, batch, resampled, rows
from leadlens.analysis.impact import _Frame, _rows_of


def _combine(parts: list[np.ndarray]) -> np.ndarray:
    (a, b), (c,) = parts
    return rows(a - c, b / 2)


def test_resampled_equals_scipy_bootstrap_distribution() -> None:
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0])
    y = np.array([6.0, 5.0, 3.0, 5.0, 8.0, 9.0, 7.0])
    z = np.array([2.0, 7.0, 1.0, 8.0, 2.0])
    samples = [Sample((x, y), "mean"), Sample((z,), "median")]
    resamples = 1001

    def statistic(i: np.ndarray, j: np.ndarray, axis: int = -1) -> np.ndarray:
        return _combine([s.summarise(k) for s, k in zip(samples, (i, j), strict=True)])

    ref = scipy.stats.bootstrap(
        (np.arange(7), np.arange(5)), statistic, n_resamples=resamples, vectorized=True,
        batch=batch([7, 5], resamples), method="percentile", rng=np.random.default_rng(42))
    got = resampled(samples, _combine, resamples=resamples, seed=42)
    assert got.shape == (2, resamples)
    assert np.array_equal(got, ref.bootstrap_distribution)


def test_resampled_in_several_batches() -> None:
    # 2**21 values a batch: 300,000 changes make batches of 6 resamples, 20 resamples 4 batches.
    x = np.arange(300_000, dtype=float)
    samples = [Sample((x,), "mean")]
    got = resampled(samples, lambda p: p[0], resamples=20, seed=7)
    rng = np.random.default_rng(7)
    want = np.concatenate([x[rng.integers(0, x.size, (k, x.size))].mean(axis=-1)
                           for k in (6, 6, 6, 2)])
    assert np.array_equal(got[0], want)


def test_rows_of_by_lookup_and_by_search() -> None:
    cids = np.array([5, 2, 9, 1])
    assert _rows_of(cids, np.array([9, 9, 3, 1, 5])).tolist() == [2, 2, -1, 3, 0]
    sparse = np.array([10**12, 7, 10**9])  # too sparse for a lookup table: searched
    assert _rows_of(sparse, np.array([7, 10**12, 8])).tolist() == [1, 0, -1]
    assert _rows_of(np.array([], dtype=np.int64), np.array([1])).tolist() == [-1]


def test_frame_stages_by_change() -> None:
    facts = pa.table({
        "cid": [3, 1, 2], "done": [True, True, False], "lead_time_s": [10.0, 20.0, None],
        "lines": [1, 2, 3], "size": ["XS", "XS", "XS"], "ai_assisted": [False, True, False],
        "reverted": [False, False, False], "rework_changed_lines": pa.array([None] * 3, pa.int64()),
        "rework_recent_lines": pa.array([None] * 3, pa.int64()),
        "merged_at": pa.array([0, 0, 0], pa.timestamp("us", "UTC")),
        "author": ["a", "b", "c"], "authors": [["a"], ["b"], ["c"]]})
    stages = pa.table({"cid": [1, 3, 3, 4], "stage": ["release", "coding", "release", "coding"],
                       "seconds": [5.0, 6.0, 7.0, 8.0]})  # cid 4 is not in facts
    f = _Frame.of(facts, stages)
    assert list(f.stages) == ["coding", "release"]
    assert np.array_equal(f.stages["coding"], [6.0, np.nan, np.nan], equal_nan=True)
    assert np.array_equal(f.stages["release"], [7.0, 5.0, np.nan], equal_nan=True)
