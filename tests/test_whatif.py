"""`leadlens whatif`: Amdahl scenarios on the measured shares, by hand, and the bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clirun import leadlens as run
from gitfixtures import build_flow
from leadlens.analysis.figures import Stage
from leadlens.analysis.whatif import needed_speedup, scenario_speedup, what_if


def stage(name: str, share: float) -> Stage:
    return Stage(name=name, share=share, median_s=None, active_s=0.0, waiting_s=0.0,
                 changes_with_stage=1, amdahl_ceiling=None, speedup_if_2x=1.0, speedup_at_k=1.0)


def test_one_stage_is_amdahls_law() -> None:
    # Coding is a quarter of lead time; twice as fast: 1 / (0.75 + 0.125) = 8/7.
    assert scenario_speedup([(0.25, 2.0)]) == pytest.approx(8 / 7)
    # Two stages: 1 / (0.3 + 0.5 / 2 + 0.2 / 4) = 1 / 0.6.
    assert scenario_speedup([(0.5, 2.0), (0.2, 4.0)]) == pytest.approx(1 / 0.6)
    # Slower review (k = 0.5) makes delivery slower: 1 / (0.6 + 0.4 * 2) = 1 / 1.4.
    assert scenario_speedup([(0.4, 0.5)]) == pytest.approx(1 / 1.4)


def test_the_speedup_a_target_needs_and_when_it_is_impossible() -> None:
    # A stage of half of lead time, for 1.5x end to end: 0.5 / (1/1.5 - 0.5) = 3.
    k, why = needed_speedup(0.5, 1.5)
    assert k == pytest.approx(3.0) and why is None
    assert scenario_speedup([(0.5, 3.0)]) == pytest.approx(1.5)
    # At or above the ceiling 1 / (1 - 0.25) = 1.33x: impossible, and it says the ceiling.
    k, why = needed_speedup(0.25, 1.4)
    assert k is None and why == "impossible: the ceiling is 1.33x (share 25.0%)"
    assert needed_speedup(0.25, 4 / 3)[0] is None


def test_a_scenario_over_measured_stages() -> None:
    measured = [stage("coding", 0.2), stage("pickup", 0.3), stage("release", 0.5)]
    w = what_if(measured, 40, "change", {"coding": 2.0, "pickup": 3.0}, 1.25)
    # 1 / (0.5 + 0.1 + 0.1) = 1 / 0.7; the ceiling of both: 1 / 0.5 = 2.
    assert w.speedup == pytest.approx(1 / 0.7) and w.ceiling == pytest.approx(2.0)
    assert w.lead_time_change_pct == pytest.approx(-30.0)
    # Both together for 1.25x: 0.5 / (0.8 - 0.5) = 5/3.
    assert w.needed is not None and w.needed.speedup == pytest.approx(5 / 3)
    assert [s.stage for s in w.measured] == ["coding", "pickup", "release"]
    only = what_if(measured, 40, "change", {"release": None}, 3.0)
    assert only.speedup is None and only.needed is not None and only.needed.speedup is None


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("whatif")
    build_flow(base / "flow")
    path = base / "s.duckdb"
    proc = run("ingest", "git", str(base / "flow"), "--store", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def test_whatif_on_a_real_history(store: Path) -> None:
    report = json.loads(run("report", "--store", str(store), "--format", "json",
                            "--no-coordination").stdout)
    shares = {s["name"]: s["share"] for s in report["stages"]}
    release = shares["release"]
    proc = run("whatif", "--store", str(store), "--stage", "release", "--faster", "100%",
               "--target", "1.2", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    w = json.loads(proc.stdout)
    assert w["basis"] == "change" and w["units"] == report["changes"]
    assert w["speedup"] == pytest.approx(1 / ((1 - release) + release / 2))
    assert w["ceiling"] == pytest.approx(1 / (1 - release))
    assert w["needed"]["speedup"] == pytest.approx(release / (1 / 1.2 - (1 - release)))
    text = run("whatif", "--store", str(store), "--stage", "release", "--speedup", "2").stdout
    assert "release:" in text and "End to end:" in text and "Ceiling" in text


@pytest.mark.parametrize(("args", "message"), [
    (["--stage", "release", "--speedup", "0"], "a speed-up is a positive factor"),
    (["--stage", "release", "--speedup", "-2"], "a speed-up is a positive factor"),
    (["--stage", "release", "--speedup", "fast"], "not a number"),
    (["--stage", "release", "--faster", "-100%"], "100% or more slower"),
    (["--stage", "release"], "say how much faster"),
    ([], "say what changes"),
    (["--arrivals", "+40%"], "--arrivals is a scenario of the simulation: add --simulate"),
    (["--stage", "release", "--speedup", "2", "--simulate", "--target", "1.2"],
     "--target is Amdahl's calculation"),
    (["--stage", "release", "--target", "1"], "above 1"),
    (["--stage", "release", "--speedup", "2", "--faster", "50%"], "give one of them"),
    (["--stage", "release", "--stage", "coding", "--speedup", "2", "--speedup", "3",
      "--speedup", "4"], "3 speed-ups for 2 stages"),
    (["--stage", "release", "--stage", "release", "--speedup", "2"], "names a stage twice"),
    (["--stage", "reveiw", "--speedup", "2"], "not a measured stage of this scope; measured:"),
    (["--stage", "release", "--speedup", "2", "--basis", "item"], "no work item was delivered"),
    (["--stage", "release", "--speedup", "2", "--basis", "team"], "--basis must be"),
])
def test_bad_input_is_one_line_exit_2(store: Path, args: list[str], message: str) -> None:
    proc = run("whatif", "--store", str(store), *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
