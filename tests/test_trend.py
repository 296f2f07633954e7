"""The trend (DESIGN.md, `trend`) on lead times whose medians and intervals are known by construction.

as_of 2026-12-01: the current window is [2025-12-01, 2026-12-01), the previous [2024-12-01,
2025-12-01); the monthly series runs 2024-12 ... 2026-11.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.stats

from gitfixtures import build_trend
from leadlens.analysis import bootstrap
from leadlens.analysis.bootstrap import BCA, PERCENTILE
from leadlens.analysis.headline import SPEC_STAGE_HINT, trend_headline
from leadlens.analysis.trend import median_interval, months_before, trend
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED
from leadlens.engines import connect
from leadlens.errors import UserError
from leadlens.metrics import flow as fm
from leadlens.metrics.flow import Filters
from leadlens.report.build import build_report
from leadlens.report.html import render_html
from leadlens.store import open_store

D, H = 86400.0, 3600.0
AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
SEED = 7
RESAMPLES = 999


def spread(start: datetime, n: int, days: int = 360) -> list[datetime]:
    """n deliveries spread evenly over ``days`` from ``start``."""
    return [start + timedelta(days=days * i / n) for i in range(n)]


PREV_START, CUR_START = datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC)


def test_months_before_clamps_the_day() -> None:
    assert months_before(datetime(2026, 3, 31, 5, tzinfo=UTC), 1) == datetime(2026, 2, 28, 5,
                                                                              tzinfo=UTC)
    assert months_before(datetime(2028, 2, 29, tzinfo=UTC), 12) == datetime(2027, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 24) == datetime(2024, 1, 15, tzinfo=UTC)
    assert months_before(datetime(2026, 12, 1, tzinfo=UTC), -1) == datetime(2027, 1, 1, tzinfo=UTC)


def test_constant_windows_give_an_exact_difference_and_a_degenerate_interval() -> None:
    # Previous window: 25 lead times of 10 d; current: 30 of 5 d.
    at = spread(PREV_START, 25) + spread(CUR_START, 30)
    lead = [10 * D] * 25 + [5 * D] * 30
    t = trend(at, lead, basis="change", as_of=AS_OF, resamples=RESAMPLES, seed=SEED)
    assert (t.previous.n, t.previous.median_s, t.current.n, t.current.median_s) == (25, 10 * D, 30,
                                                                                    5 * D)
    assert t.difference_s == -5 * D
    assert t.ci95 == (-5 * D, -5 * D)
    assert t.ratio == 0.5
    # Every resample's difference is -5 d: BCa's bias correction is undefined, the percentile
    # interval is what is left, and the method says so.
    assert t.method == PERCENTILE
    assert t.reason is None
    assert (t.current.from_, t.current.to) == (CUR_START, AS_OF)
    assert (t.previous.from_, t.previous.to) == (PREV_START, CUR_START)


def test_difference_by_hand_and_interval_as_scipy_computes_it() -> None:
    # Previous: 1, 2, ..., 21 d (median 11 d); current: 1.5, 3, ..., 30 d in steps of 1.5 d
    # (20 values: median of the 10th and 11th, (15 + 16.5) / 2 = 15.75 d).
    prev = np.arange(1, 22) * D
    cur = np.arange(1, 21) * 1.5 * D
    at = spread(PREV_START, 21) + spread(CUR_START, 20)
    t = trend(at, np.concatenate([prev, cur]), basis="change", as_of=AS_OF,
              resamples=RESAMPLES, seed=SEED)
    assert t.previous.median_s == 11 * D and t.current.median_s == 15.75 * D
    assert t.difference_s == 4.75 * D
    assert t.ratio == pytest.approx(15.75 / 11)
    assert t.method == BCA

    def difference(b: np.ndarray, c: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(c, axis=axis) - np.median(b, axis=axis)

    ci = scipy.stats.bootstrap(
        (prev, cur), difference, n_resamples=RESAMPLES, vectorized=True, method="BCa",
        batch=bootstrap.batch([prev.size, cur.size], RESAMPLES),
        rng=np.random.default_rng(SEED)).confidence_interval
    assert t.ci95 is not None
    assert t.ci95 == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert t.ci95[0] < t.difference_s < t.ci95[1]


def test_window_boundaries_are_half_open() -> None:
    middle, start = datetime(2025, 12, 1, tzinfo=UTC), datetime(2024, 12, 1, tzinfo=UTC)
    tick = timedelta(microseconds=1)
    at = [middle, middle - tick, start, start - tick, AS_OF, AS_OF - tick]
    lead = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    t = trend(at, lead, basis="change", as_of=AS_OF, resamples=RESAMPLES, seed=SEED)
    # Current [middle, as_of): exactly as_of - 12 months is in, as_of itself is out.
    assert (t.current.n, t.current.median_s) == (2, 3.5)  # 1 and 6
    # Previous [start, middle): exactly as_of - 24 months is in, a microsecond before is out.
    assert (t.previous.n, t.previous.median_s) == (2, 2.5)  # 2 and 3
    by = {m.month: m.n for m in t.monthly}
    assert by["2025-12"] == 1 and by["2025-11"] == 1 and by["2024-12"] == 1 and by["2026-11"] == 1
    assert "2024-11" not in by and "2026-12" not in by


def test_fewer_than_20_in_a_window_is_not_enough_evidence() -> None:
    at = spread(PREV_START, 25) + spread(CUR_START, 19)
    lead = [10 * D] * 25 + [5 * D] * 19
    t = trend(at, lead, basis="change", as_of=AS_OF, resamples=RESAMPLES, seed=SEED)
    assert (t.difference_s, t.ci95, t.ratio, t.method) == (None, None, None, None)
    assert t.reason == ("not enough evidence: n=19 in the current window, n=25 in the previous"
                        " one; at least 20 per window")
    # What is known is still shown.
    assert (t.current.n, t.current.median_s, t.previous.n, t.previous.median_s) == (19, 5 * D, 25,
                                                                                    10 * D)
    empty = trend([], [], basis="item", as_of=AS_OF, resamples=RESAMPLES, seed=SEED)
    assert (empty.current.n, empty.current.median_s, empty.previous.median_s) == (0, None, None)
    assert len(empty.monthly) == 24 and all(m.n == 0 and m.ci95 is None for m in empty.monthly)
    assert trend_headline(t) == [
        "Median change lead time (first commit → production) over the 12 months to 2026-12-01:"
        " not enough evidence (n=19; the 12 months before: n=25; at least 20 per window).",
        SPEC_STAGE_HINT]


def test_ratio_is_null_when_the_previous_median_is_zero() -> None:
    at = spread(PREV_START, 20) + spread(CUR_START, 20)
    t = trend(at, [0.0] * 20 + [H] * 20, basis="change", as_of=AS_OF, resamples=RESAMPLES,
              seed=SEED)
    assert t.difference_s == H and t.ratio is None


def test_monthly_medians_and_intervals_by_hand() -> None:
    # 2026-03: 9 lead times 1..9 h -> median 5 h; B ~ Binomial(9, 1/2): P(B <= 1) = 10/512 <=
    # 2.5% < P(B <= 2) = 46/512, so the interval is the 2nd and 8th values, [2 h, 8 h].
    # 2026-04: 6 values -> [min, max] (P(B = 0) = 1/64). 2026-05: 5 values: no 95% interval.
    # 2026-06: 2 values 1 h and 4 h -> median 2.5 h.
    march = [datetime(2026, 3, 1 + i, tzinfo=UTC) for i in range(9)]
    april = [datetime(2026, 4, 30, 23, tzinfo=UTC)] * 6
    may = [datetime(2026, 5, 1, tzinfo=UTC)] * 5
    june = [datetime(2026, 6, 10, tzinfo=UTC)] * 2
    lead = [h * H for h in range(1, 10)] + [6.0, 1.0, 5.0, 2.0, 4.0, 3.0] + [1.0] * 5 + [H, 4 * H]
    t = trend(march + april + may + june, lead, basis="item", as_of=AS_OF, resamples=RESAMPLES,
              seed=SEED)
    by = {m.month: m for m in t.monthly}
    assert [m.month for m in t.monthly][:2] == ["2024-12", "2025-01"]
    assert len(t.monthly) == 24 and t.monthly[-1].month == "2026-11"
    assert (by["2026-03"].n, by["2026-03"].median_s, by["2026-03"].ci95) == (9, 5 * H, (2 * H, 8 * H))
    assert (by["2026-04"].n, by["2026-04"].median_s, by["2026-04"].ci95) == (6, 3.5, (1.0, 6.0))
    assert (by["2026-05"].n, by["2026-05"].median_s, by["2026-05"].ci95) == (5, 1.0, None)
    assert (by["2026-06"].n, by["2026-06"].median_s, by["2026-06"].ci95) == (2, 2.5 * H, None)
    assert (by["2026-07"].n, by["2026-07"].median_s) == (0, None)


def test_median_interval_is_scipys_quantile_test_interval() -> None:
    rng = np.random.default_rng(1)
    for n in (6, 7, 9, 10, 20, 33, 100, 257):
        x = np.round(rng.lognormal(3, 1, n))
        ci = scipy.stats.quantile_test(x, q=float(np.median(x)), p=0.5).confidence_interval(0.95)
        assert median_interval(x) == (ci.low, ci.high)


def test_a_mid_month_as_of_makes_the_first_and_last_months_partial() -> None:
    as_of = datetime(2026, 12, 15, 12, tzinfo=UTC)
    at = [datetime(2024, 12, 15, 11, tzinfo=UTC), datetime(2024, 12, 15, 12, tzinfo=UTC),
          datetime(2026, 12, 15, 11, tzinfo=UTC)]
    t = trend(at, [1.0, 2.0, 3.0], basis="change", as_of=as_of, resamples=RESAMPLES, seed=SEED)
    assert len(t.monthly) == 25
    assert (t.monthly[0].month, t.monthly[0].n) == ("2024-12", 1)
    assert (t.monthly[-1].month, t.monthly[-1].n) == ("2026-12", 1)
    assert trend_headline(t)[0].startswith(
        "Median change lead time (first commit → production) over the 12 months to"
        " 2026-12-15 12:00 UTC:")


def test_seeded_and_deterministic_and_inputs_alike() -> None:
    rng = np.random.default_rng(5)
    lead = np.round(rng.lognormal(12, 1, 90))
    at = spread(PREV_START, 40) + spread(CUR_START, 50)
    one = trend(at, lead, basis="change", as_of=AS_OF, resamples=RESAMPLES, seed=SEED)
    assert one == trend(at, lead, basis="change", as_of=AS_OF, resamples=RESAMPLES, seed=SEED)
    assert one.ci95 != trend(at, lead, basis="change", as_of=AS_OF, resamples=RESAMPLES,
                             seed=SEED + 1).ci95
    # Naive times are UTC; a numpy datetime64 array is read the same as datetimes.
    naive = [a.replace(tzinfo=None) for a in at]
    assert trend(naive, lead, basis="change", as_of=AS_OF.replace(tzinfo=None),
                 resamples=RESAMPLES, seed=SEED) == one
    array = np.array(naive, dtype="datetime64[us]")
    assert trend(array, lead, basis="change", as_of=AS_OF, resamples=RESAMPLES, seed=SEED) == one


def test_headline_with_numbers_and_the_json_keys() -> None:
    at = spread(PREV_START, 25) + spread(CUR_START, 30)
    t = trend(at, [10 * D] * 25 + [5 * D] * 30, basis="item", as_of=AS_OF, resamples=RESAMPLES,
              seed=SEED)
    assert trend_headline(t) == [
        "Median spec → production over the 12 months to 2026-12-01: 5.0d (n=30); the 12 months"
        " before: 10.0d (n=25); difference -5.0d [95% CI -5.0d, -5.0d]."]
    assert trend_headline(t.model_copy(update={"basis": "change"}), "merged")[0].startswith(
        "Median change lead time (first commit → merge: no release signal) over")
    data = t.model_dump(mode="json")
    assert list(data) == ["basis", "as_of", "current", "previous", "difference_s", "ci95", "ratio",
                          "method", "reason", "monthly"]
    assert data["current"] == {"from": "2025-12-01T00:00:00Z", "to": "2026-12-01T00:00:00Z",
                               "n": 30, "median_s": 5 * D}
    assert data["ci95"] == [-5 * D, -5 * D]
    assert list(data["monthly"][0]) == ["month", "n", "median_s", "ci95"]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="2 delivery times for 1 lead times"):
        trend([AS_OF, AS_OF], [1.0], basis="change", as_of=AS_OF)
    with pytest.raises(ValueError, match="not finite"):
        trend([AS_OF], [float("nan")], basis="change", as_of=AS_OF)
    with pytest.raises(UserError, match="resamples"):
        trend([], [], basis="change", as_of=AS_OF, resamples=0)


# --- the report on a real repository (gitfixtures.build_trend) --------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, "COLUMNS": "400"})


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("trend")
    build_trend(base / "trend")
    store = base / "s.duckdb"
    proc = run("report", str(base / "trend"), "--store", str(store), "--format", "json",
               "--as-of", "2026-12-01")
    assert proc.returncode == 0, proc.stderr
    return store, json.loads(proc.stdout)


def test_report_json_trend_on_release_tags(released: tuple[Path, dict[str, Any]]) -> None:
    _, report = released
    t = report["trend"]
    # By construction (build_trend): 50, 55, ..., 145 h now against 100, 110, ..., 290 h before.
    assert t["basis"] == "change" and t["as_of"] == "2026-12-01T00:00:00Z"
    assert t["current"] == {"from": "2025-12-01T00:00:00Z", "to": "2026-12-01T00:00:00Z",
                            "n": 20, "median_s": 97.5 * H}
    assert t["previous"] == {"from": "2024-12-01T00:00:00Z", "to": "2025-12-01T00:00:00Z",
                             "n": 20, "median_s": 195 * H}
    assert (t["difference_s"], t["ratio"], t["method"], t["reason"]) == (-97.5 * H, 0.5, BCA, None)
    # The interval is the analysis' own on the same lead times, with the default seed.
    at = ([datetime(2024, 12, 5, 10, tzinfo=UTC) + timedelta(days=15 * i, hours=100 + 10 * i)
           for i in range(20)]
          + [datetime(2025, 12, 5, 10, tzinfo=UTC) + timedelta(days=15 * i, hours=50 + 5 * i)
             for i in range(20)])
    lead = [(100 + 10 * i) * H for i in range(20)] + [(50 + 5 * i) * H for i in range(20)]
    direct = trend(at, lead, basis="change", as_of=AS_OF, resamples=DEFAULT_RESAMPLES,
                   seed=DEFAULT_SEED)
    assert t["ci95"] == list(direct.ci95 or ()) and t["ci95"][0] < -97.5 * H < t["ci95"][1]
    months = {m["month"]: m for m in t["monthly"]}
    assert len(t["monthly"]) == 24
    # 2025-12: released 12-07 12:00 (50 h) and 12-22 17:00 (55 h).
    assert (months["2025-12"]["n"], months["2025-12"]["median_s"]) == (2, 52.5 * H)
    assert report["headline"][0].startswith("Median change lead time (first commit → production)")


def test_terminal_leads_with_the_trend(released: tuple[Path, dict[str, Any]]) -> None:
    store, report = released
    proc = run("report", "--store", str(store), "--as-of", "2026-12-01")
    assert proc.returncode == 0, proc.stderr
    lo, hi = (f"{x / D:+.1f}d" for x in report["trend"]["ci95"])
    lines = proc.stdout.splitlines()
    assert lines[0] == (
        "Median change lead time (first commit → production) over the 12 months to 2026-12-01:"
        " 4.1d (n=20); the 12 months before: 8.1d (n=20); difference -4.1d"
        f" [95% CI {lo}, {hi}].")
    assert lines[1] == SPEC_STAGE_HINT


def test_the_trend_keeps_its_windows_whatever_since_and_honours_bots(
        released: tuple[Path, dict[str, Any]]) -> None:
    store, report = released
    with open_store(store, read_only=True) as st:
        narrow = build_report(connect(st), Filters(since=datetime(2026, 6, 1, tzinfo=UTC)),
                              as_of=AS_OF)
        bots = build_report(connect(st), Filters(include_bots=True), as_of=AS_OF, resamples=99)
    assert narrow.changes < report["changes"]
    assert narrow.trend.model_dump(mode="json") == report["trend"]
    # The dependabot commit (50 d) joins the current window: 50, 55, ..., 145 h and 1200 h.
    assert (bots.trend.current.n, bots.trend.current.median_s) == (21, 100 * H)


def test_html_has_the_trend_chart(released: tuple[Path, dict[str, Any]]) -> None:
    store, _ = released
    with open_store(store, read_only=True) as st:
        html = render_html(build_report(connect(st), Filters(), as_of=AS_OF, resamples=99))
    assert 'id="trend"' in html and "Median lead time by month delivered" in html
    assert "last 12 months: 4.1d (n=20)" in html and "previous 12 months: 8.1d (n=20)" in html


def test_a_bad_as_of_exits_2_with_one_line(released: tuple[Path, dict[str, Any]]) -> None:
    store, _ = released
    proc = run("report", "--store", str(store), "--as-of", "first of December")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "not a date" in proc.stderr


def test_deliveries_read_from_the_report_flow_are_the_same(
        released: tuple[Path, dict[str, Any]]) -> None:
    store, _ = released
    with open_store(store, read_only=True) as st:
        backend = connect(st)
        for f in (Filters(), Filters(include_bots=True)):
            fl = fm.flow(backend, f)
            try:
                cols = ["repo", "change_id", "end", "delivered_at", "lead_time_s"]
                own = backend.to_pyarrow(fm.deliveries(backend, f).order_by("change_id")).select(cols)
                shared = backend.to_pyarrow(
                    fm.deliveries(backend, f, fl).order_by("change_id")).select(cols)
            finally:
                fl.release()
            assert own.equals(shared)
            assert own.num_rows == (42 if f.include_bots else 41)  # v0.1's, 40 and the bot's


def test_the_order_of_the_inputs_does_not_move_the_interval() -> None:
    rng = np.random.default_rng(8)
    lead = np.round(rng.lognormal(12, 1, 60))
    at = np.array(spread(PREV_START, 30) + spread(CUR_START, 30))
    order = rng.permutation(60)
    one = trend(list(at), lead, basis="change", as_of=AS_OF, resamples=RESAMPLES, seed=SEED)
    assert trend(list(at[order]), lead[order], basis="change", as_of=AS_OF, resamples=RESAMPLES,
                 seed=SEED) == one
