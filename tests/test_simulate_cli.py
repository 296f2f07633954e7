"""`leadlens whatif --simulate` on a store with pull requests and reviews: calibrated, backtested,
a scenario beside the baseline; and every bad input as one line, exit 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from clirun import leadlens as run
from forgefixtures import pr, review
from leadlens.derive.forge import derive_forge
from leadlens.errors import UserError
from leadlens.store import open_store

R = "o/team"
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 150
REVIEWERS = ("alice", "bob", "carol")


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M")


def working(at: datetime) -> datetime:
    """The same time if within 09:00-17:00 UTC, else 09:00 the next working morning."""
    if at.hour < 9:
        return at.replace(hour=9, minute=0)
    if at.hour >= 17:
        return (at + timedelta(days=1)).replace(hour=9, minute=0)
    return at


def build(path: Path, *, reviews: bool = True) -> None:
    """Two pull requests a day for 150 days, by six authors; a reviewer picks each up after a
    lognormal delay (median 4 h) moved into their 09-17 working hours, approves 2 h later, and it
    merges an hour after that."""
    rng = np.random.default_rng(42)
    with open_store(path) as st:
        n = 0
        for day in range(DAYS):
            for hour in (10, 14):
                n += 1
                ready = START + timedelta(days=day, hours=hour, minutes=int(rng.integers(0, 60)))
                first = working(ready + timedelta(hours=float(rng.lognormal(np.log(4), 0.8))))
                approved = first + timedelta(hours=2)
                merged = approved + timedelta(hours=1)
                pr(st.con, R, n, created=iso(ready), merged=iso(merged), merge_sha=f"{n:040x}",
                   author=f"dev{n % 6}", additions=int(rng.integers(20, 400)))
                if reviews:
                    who = REVIEWERS[n % 3]
                    review(st.con, R, n, who, "COMMENTED", iso(first))
                    review(st.con, R, n, who, "APPROVED", iso(approved))
        derive_forge(st, R)


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "team.duckdb"
    build(path)
    return path


@pytest.fixture(scope="module")
def unreviewed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "unreviewed.duckdb"
    build(path, reviews=False)
    return path


QUICK = ["--replications", "12", "--days", "60", "--jobs", "1", "--backtest-windows", "2"]


def test_a_scenario_beside_the_baseline_with_its_backtest(team: Path) -> None:
    proc = run("whatif", "--simulate", "--stage", "pickup", "--speedup", "2", "--arrivals", "+20%",
               "--store", str(team), "--format", "json", *QUICK)
    assert proc.returncode == 0, proc.stderr
    sim = json.loads(proc.stdout)
    cal = sim["calibration"]
    # The 90 days before the day after the last merge (2024-05-30): 2 a day.
    assert cal["end"] == "2024-05-31" and cal["start"] == "2024-03-02"
    assert 170 <= cal["changes"] <= 182 and cal["queued"] == cal["changes"]
    assert cal["reviewers"] == 3 and cal["authors"] == 6
    assert cal["arrivals_per_day"] == pytest.approx(2.0, abs=0.05)
    assert cal["simulated_pickup_median_s"] == pytest.approx(cal["measured_pickup_median_s"],
                                                             rel=0.25)
    assert sim["description"] == "pickup 2x as fast; +20% changes arriving"
    assert sim["replications"] == 12 and sim["days"] == 60
    base, pred = sim["baseline"], sim["predicted"]
    assert pred["pickup_median_s"]["mid"] < base["pickup_median_s"]["mid"]
    assert pred["throughput_per_day"]["mid"] == pytest.approx(
        1.2 * base["throughput_per_day"]["mid"], rel=0.15)
    assert [p["speedup"] for p in sim["curve"]] == [1.0, 1.25, 1.5, 2.0, 3.0, 5.0]
    assert sim["amdahl"] == pytest.approx(
        1 / ((1 - cal["stage_shares"]["pickup"]) + cal["stage_shares"]["pickup"] / 2))
    bt = sim["backtest"]
    assert len(bt["windows"]) == 2 and bt["lead_time_hit_rate_85"] is not None
    assert "Backtest:" in sim["headline"]
    text = run("whatif", "--simulate", "--stage", "pickup", "--speedup", "2", "--store",
               str(team), *QUICK)
    assert text.returncode == 0, text.stderr
    assert "median lead time" in text.stdout and "Calibrated on" in text.stdout


def invoke(*args: str) -> Result:
    from typer.testing import CliRunner

    from leadlens.cli import app

    return CliRunner().invoke(app, list(args))


def test_same_seed_same_simulation(team: Path) -> None:
    args = ("whatif", "--simulate", "--reviewers", "+1", "--store", str(team), "--format", "json",
            *QUICK, "--backtest-windows", "1", "--seed", "5")
    one, two = invoke(*args), invoke(*args)
    assert one.exit_code == 0, one.output
    assert one.stdout == two.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--stage", "pickup", "--speedup", "0"], "a speed-up is a positive factor"),
    (["--reviewers", "-3"], "only 3 people reviewed in the calibration window"),
    (["--reviewers", "two"], "a whole number"),
    (["--arrivals", "-100%"], "above -100%"),
    (["--arrivals", "lots"], "a change in percent"),
    (["--wip", "0"], "at least 1 change in flight"),
    (["--review-sla", "0"], "working hours above 0"),
    (["--review-sla", "-4"], "working hours above 0"),
    (["--size-mix", "S=1,Q=2"], "BUCKET=SHARE pairs"),
    (["--size-mix", "S=-1"], "not negative"),
    (["--size-mix", "XL=1"], "no delivered change of size XL"),
    (["--stage", "coding", "--speedup", "2"], "no delivered change in the calibration window has"
                                              " that stage"),
    (["--reviewers", "+1", "--days", "3"], "--days 3: at least 7"),
    (["--reviewers", "+1", "--replications", "5"], "--replications 5: at least 10"),
    (["--reviewers", "+1", "--as-of", "2024-01-08"], "too little history to calibrate"),
    (["--reviewers", "+1", "--as-of", "soon"], "soon"),
])
def test_bad_input_is_a_user_error(team: Path, args: list[str], message: str) -> None:
    # In this process (a user error is what the console entry point prints as one line, exit 2:
    # the test below runs one of them as a process).
    res = invoke("whatif", "--simulate", "--store", str(team), *QUICK, *args)
    assert isinstance(res.exception, UserError), res.output
    assert message in str(res.exception)


def test_bad_input_is_one_line_exit_2(team: Path) -> None:
    proc = run("whatif", "--simulate", "--store", str(team), *QUICK, "--reviewers", "-3")
    assert proc.returncode == 2, proc.stderr
    assert "only 3 people reviewed" in proc.stderr and "Traceback" not in proc.stderr
    # One line (the store, built without `leadlens derive`, also warns that it is stale).
    assert len([x for x in proc.stderr.splitlines() if not x.startswith("warning:")]) == 1


def test_too_little_history_names_the_minimum(team: Path) -> None:
    proc = run("whatif", "--simulate", "--reviewers", "+1", "--store", str(team), "--as-of",
               "2024-01-06", *QUICK)
    assert proc.returncode == 2
    assert "needs at least 20" in proc.stderr


def test_reviewer_scenarios_need_reviews(unreviewed: Path) -> None:
    for args in (["--reviewers", "+1"], ["--review-sla", "4"], ["--pooled-review"]):
        res = invoke("whatif", "--simulate", "--store", str(unreviewed), *args, *QUICK)
        assert "need reviews by people" in str(res.exception), res.output
    # Without reviews nothing queues: more arrivals leave lead time as it was.
    res = invoke("whatif", "--simulate", "--arrivals", "+50%", "--store", str(unreviewed),
                 "--format", "json", *QUICK)
    assert res.exit_code == 0, res.output
    sim = json.loads(res.stdout)
    assert sim["calibration"]["queued"] == 0
    assert sim["gain"]["mid"] == pytest.approx(1.0, abs=0.05)
