"""The report's what-if section (issue 15, item 5): Amdahl's curves by hand, the AI scenario
simulated on a store with enough history, and why it is not on one without."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from gitfixtures import BOB, Git
from leadlens.analysis import whatif_section as ws
from leadlens.analysis.figures import Stage
from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.pipeline import ingest_git
from leadlens.report.build import build_report
from leadlens.report.html import render_html
from leadlens.report.model import Report
from leadlens.report.terminal import render_terminal
from leadlens.store import open_store

FLOW_AS_OF = datetime(2024, 3, 15, 9, tzinfo=UTC)
# The history store: 60 merged branches, one every second day from 1 January 2025.
FIRST = datetime(2025, 1, 1, 9, tzinfo=UTC)
HISTORY_AS_OF = datetime(2025, 5, 1, tzinfo=UTC)


def stage(name: str, share: float) -> Stage:
    return Stage(name=name, share=share, median_s=None, active_s=0.0, waiting_s=0.0,
                 changes_with_stage=1, amdahl_ceiling=None, speedup_if_2x=1.0, speedup_at_k=1.0)


def test_amdahl_curves_by_hand() -> None:
    got = ws.amdahl_stages([stage("review", 0.2), stage("coding", 0.5), stage("merge", 0.0),
                            stage("release", 0.3)])
    # Largest share first; a stage with no share is left out.
    assert [s.stage for s in got] == ["coding", "release", "review"]
    coding = got[0]
    assert coding.ceiling == pytest.approx(2.0)  # 1 / (1 - 0.5)
    by = {p.speedup: p.gain for p in coding.curve}
    assert list(by) == [1.0, 1.25, 1.5, 2.0, 3.0, 5.0]
    assert by[1.0] == pytest.approx(1.0)
    assert by[2.0] == pytest.approx(1 / (0.5 + 0.25))  # 1.3333
    assert by[5.0] == pytest.approx(1 / (0.5 + 0.1))  # 1.6667
    assert {p.speedup: p.gain for p in got[1].curve}[3.0] == pytest.approx(1 / (0.7 + 0.1))
    # A stage that is all of lead time has no ceiling: k times faster is k times faster.
    whole = ws.amdahl_stages([stage("coding", 1.0)])[0]
    assert whole.ceiling is None and whole.curve[3].gain == pytest.approx(2.0)


@pytest.fixture(scope="module")
def flow_report(flow_store: Path) -> Report:
    with open_store(flow_store, read_only=True) as st:
        return build_report(connect(st), Filters(), as_of=FLOW_AS_OF)


def test_too_little_history_is_the_reason_in_json_terminal_and_html(flow_report: Report) -> None:
    w = flow_report.whatif
    assert w is not None and w.basis == "change" and w.simulation is None
    assert w.scenario == "AI makes coding 50% faster and 40% more changes arrive"
    # The stages are the report's own, largest first, with its ceilings.
    assert [s.stage for s in w.amdahl] == [s.name for s in sorted(
        (s for s in flow_report.stages if s.share > 0), key=lambda s: (-s.share, s.name))]
    for s in w.amdahl:
        assert s.ceiling == pytest.approx(next(
            x.amdahl_ceiling for x in flow_report.stages if x.name == s.stage))
    reason = w.simulation_reason or ""
    assert reason.startswith("too little history to calibrate:")
    assert "from 2023-12-16 to 2024-03-14" in reason and "at least 20" in reason
    doc = json.loads(flow_report.model_dump_json())["whatif"]
    assert doc["simulation"] is None and doc["simulation_reason"] == reason
    assert doc["amdahl"][0]["curve"][0] == {"speedup": 1.0, "gain": 1.0}
    out = io.StringIO()
    render_terminal(flow_report, Console(file=out, width=300, color_system=None))
    text = out.getvalue()
    assert "What if (Amdahl's law on the shares of lead time" in text
    top = flow_report.whatif.amdahl[0] if flow_report.whatif else None
    assert top is not None and f"Largest stages: {top.stage} {top.share:.1%}" in text
    assert ("AI makes coding 50% faster and 40% more changes arrive: not simulated: too little"
            " history") in text
    html = render_html(flow_report)
    assert '<h2 id="whatif">What if</h2>' in html and 'id="whatif-amdahl"' in html
    assert 'id="whatif-reason">Not simulated: too little history to calibrate' in html
    assert "Amdahl: mean lead time gain when one stage gets faster" in html


def test_no_simulate_says_so(flow_store: Path) -> None:
    with open_store(flow_store, read_only=True) as st:
        report = build_report(connect(st), Filters(), as_of=FLOW_AS_OF, simulate=False,
                              coordination=False)
    assert report.whatif is not None and report.whatif.simulation is None
    assert report.whatif.simulation_reason == "--no-simulate"
    assert report.whatif.amdahl  # Amdahl needs no simulation


def test_no_simulate_on_the_command_line(flow_store: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "leadlens", "report", "--store", str(flow_store), "--format",
         "json", "--as-of", "2024-03-15", "--no-simulate", "--no-coordination"],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["whatif"]["simulation_reason"] == "--no-simulate"


def test_a_calibration_window_too_large_for_the_report(flow_store: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The flow fixture delivers 3 changes in the 90 days before its as-of: above a guard of 2.
    monkeypatch.setattr(ws, "MAX_CALIBRATION_CHANGES", 2)
    with open_store(flow_store, read_only=True) as st:
        report = build_report(connect(st), Filters(), as_of=FLOW_AS_OF, coordination=False)
    assert report.whatif is not None and report.whatif.simulation is None
    assert report.whatif.simulation_reason == (
        "the calibration window (2023-12-16 to 2024-03-14) holds 3 changes, more than 2: too"
        " large for the report's time budget; run `leadlens whatif --simulate`")


def build_steady(path: Path) -> None:
    """60 branches, one every second day from 1 January 2025: two commits by Bob (the first at
    09:00, the second 2 + i % 5 hours later), merged by Carol 20 + 3 * (i % 4) hours after the
    first."""
    g = Git(path)
    g.write("README", "start\n")
    g.commit("Start\n", date="2024-12-31T09:00:00Z")
    for i in range(60):
        start = FIRST + timedelta(days=2 * i)
        g.run("checkout", "-q", "-b", f"topic-{i}")
        g.write(f"f{i % 9}.txt", f"{i} one\n")
        g.commit(f"Change {i}\n", author=BOB, date=start.isoformat())
        g.write(f"f{i % 9}.txt", f"{i} two\n")
        g.commit(f"Change {i}, more\n", author=BOB,
                 date=(start + timedelta(hours=2 + i % 5)).isoformat())
        g.run("checkout", "-q", "main")
        g.merge(f"topic-{i}", message=f"Merge topic-{i}\n",
                date=(start + timedelta(hours=20 + 3 * (i % 4))).isoformat())


@pytest.fixture(scope="module")
def history_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("history")
    build_steady(base / "steady")
    path = base / "steady.duckdb"
    with open_store(path) as st:
        ingest_git(st, [base / "steady"])
    return path


def test_enough_history_gets_a_simulation(history_store: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "REPORT_SIM", {"days": 60, "replications": 10, "calibrate_days": 60,
                                           "horizon_days": 14, "windows": 2,
                                           "curve_replications": 10,
                                           "backtest_replications": 10})
    with open_store(history_store, read_only=True) as st:
        report = build_report(connect(st), Filters(), as_of=HISTORY_AS_OF, coordination=False)
    w = report.whatif
    assert w is not None and w.simulation_reason is None and w.simulation is not None
    sim = w.simulation
    assert sim.scenario.speedups == {"coding": 1.5} and sim.scenario.arrivals == 1.4
    assert sim.seed == 20240601 and sim.replications == 10 and sim.days == 60
    # Calibrated on the 60 days before 1 May 2025: the merges of 1 March to 30 April, one every
    # second day (the branches started 28 February to 29 April).
    cal = sim.calibration
    assert (str(cal.start), str(cal.end)) == ("2025-03-02", "2025-05-01")
    assert cal.changes == 30 and cal.reviewers == 0
    assert [c.speedup for c in sim.curve] == [1.0, 1.25, 1.5, 2.0, 3.0, 5.0]
    assert sim.headline.startswith("Simulated coding 1.5x as fast; +40% changes arriving:")
    assert sim.backtest.calibrate_days == 60 and sim.backtest.horizon_days == 14
    # The same store, as-of and seed: the same section, byte for byte (no timing in it).
    with open_store(history_store, read_only=True) as st:
        again = build_report(connect(st), Filters(), as_of=HISTORY_AS_OF, coordination=False)
    assert again.whatif is not None
    assert again.whatif.model_dump_json() == w.model_dump_json()
    out = io.StringIO()
    render_terminal(report, Console(file=out, width=400, color_system=None))
    text = out.getvalue()
    assert ("AI makes coding 50% faster and 40% more changes arrive: Simulated coding 1.5x as"
            " fast") in text
    assert "Bottleneck (largest share of simulated lead time):" in text
    html = render_html(report)
    for marker in ('id="whatif-headline"', 'id="whatif-outcomes"', 'id="whatif-backtest"',
                   "Mean lead time gain against coding", "Changes waiting in queues"):
        assert marker in html, marker
