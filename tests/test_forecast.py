"""`leadlens forecast`: Monte Carlo from throughput, calibrated on data with a known rate, and its
walk-forward backtest — which says so when the forecast fails it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from clirun import leadlens as run
from gitfixtures import build_linear
from leadlens.analysis.forecast import backtest, days_to_finish, done_by, forecast


def test_a_steady_team_is_forecast_exactly() -> None:
    steady = np.full(30, 2.0)  # two a day, every day
    assert set(days_to_finish(steady, 10, runs=500, seed=1)) == {5}
    assert set(done_by(steady, 7, runs=500, seed=1)) == {14.0}
    f = forecast(steady, date(2026, 1, 1), basis="change", history_days=14, horizon_days=7,
                 count=10, by=date(2026, 1, 7), runs=500, seed=1)
    # Done on the 5th day of the forecast (1 January is its first): 5 January at every level.
    assert f.finish == {"50%": date(2026, 1, 5), "85%": date(2026, 1, 5), "95%": date(2026, 1, 5)}
    assert f.done_by == {"50%": 14, "85%": 14, "95%": 14}
    assert f.backtest.hit_rate_85 == 1.0 and f.backtest.passed


def test_the_85_interval_covers_about_85_percent_of_held_out_outcomes() -> None:
    """Throughput with a known rate (Poisson, 3 a day): walking forward over 2,000 days, the
    85% interval of each next 14 days' count holds the actual about 85% of the time."""
    daily = np.random.default_rng(11).poisson(3.0, 2000).astype(float)
    bt = backtest(daily, 84, 14, runs=2000, seed=5)
    assert bt.windows == 136  # (2,000 - 84 - 14) // 14 + 1 and bt.hit_rate_85 is not None
    assert 0.78 <= bt.hit_rate_85 <= 0.95 and bt.passed
    assert bt.median_abs_error_pct is not None and bt.median_abs_error_pct < 20


def test_a_forecast_that_fails_its_backtest_says_so() -> None:
    # Throughput that keeps changing regime (10 a day, then 1): the past does not predict.
    daily = np.tile(np.repeat([10.0, 1.0], 21), 10)
    f = forecast(daily, date(2026, 1, 1), basis="change", history_days=14, horizon_days=14,
                 count=50, by=None, runs=1000, seed=2)
    assert f.backtest.passed is False
    assert "FAILS its backtest" in f.headline


def test_determinism_with_a_seed() -> None:
    daily = np.random.default_rng(3).poisson(2.0, 200).astype(float)
    a, b = (forecast(daily, date(2026, 1, 1), basis="change", history_days=84, horizon_days=14,
                     count=100, by=date(2026, 2, 1), runs=1000, seed=9) for _ in range(2))
    assert a == b


def test_too_little_history_for_a_backtest() -> None:
    bt = backtest(np.ones(20), 14, 14, runs=100, seed=1)
    assert bt.windows == 0 and bt.passed is None and "14 + 14 days" in (bt.reason or "")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """480 direct pushes, 24 a day from 1 to 20 March 2024: each is a change merged when made."""
    base = tmp_path_factory.mktemp("forecast")
    build_linear(base / "repo", 480)
    path = base / "s.duckdb"
    proc = run("ingest", "git", str(base / "repo"), "--store", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def test_forecast_on_a_real_history(store: Path) -> None:
    proc = run("forecast", "--store", str(store), "--as-of", "2024-03-21", "--history", "14",
               "--horizon", "3", "--count", "48", "--by", "2024-03-23", "--format", "json",
               "--runs", "500")
    assert proc.returncode == 0, proc.stderr
    f = json.loads(proc.stdout)
    # 24 a day: 48 more on the second day (22 March), 72 by the 23rd, whatever the confidence.
    assert f["basis"] == "change" and f["per_day"] == 24.0 and f["history_done"] == 336
    assert set(f["finish"].values()) == {"2024-03-22"}
    assert set(f["done_by"].values()) == {72}
    assert f["backtest"]["windows"] == 2 and f["backtest"]["hit_rate_85"] == 1.0


@pytest.mark.parametrize(("args", "message"), [
    ([], "ask something"),
    (["--count", "0"], "--count 0: at least 1"),
    (["--count", "5", "--history", "7"], "--history 7: at least 14"),
    (["--count", "5", "--runs", "10"], "--runs 10: at least 100"),
    (["--count", "5", "--history", "60"], "too little history: 20 day(s)"),
    (["--by", "2024-03-01"], "before the forecast starts"),
    (["--count", "5", "--basis", "item"], "no work item was delivered"),
    (["--count", "5", "--basis", "people"], "--basis must be"),
])
def test_bad_input_is_one_line_exit_2(store: Path, args: list[str], message: str) -> None:
    proc = run("forecast", "--store", str(store), "--as-of", "2024-03-21", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_nothing_done_lately_says_when_the_last_was(store: Path) -> None:
    proc = run("forecast", "--store", str(store), "--count", "5", "--as-of", "2025-06-01")
    assert proc.returncode == 2 and "the last was done on 2024-03-20" in proc.stderr
