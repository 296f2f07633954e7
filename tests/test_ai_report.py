"""AI attribution over the store and the AI report, on fixture repositories whose stages are known
by construction (tests/aifixtures.py) and a tiny one with a hand-counted line history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aifixtures import PILOT_START, Planned, build_pilot
from forgefixtures import pr
from gitfixtures import ALICE, Git, build_flow
from leadlens.analysis.impact import Cohorts
from leadlens.attribution import Rules
from leadlens.derive.forge import derive_forge
from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.pipeline import ingest_git
from leadlens.report.build import build_ai
from leadlens.report.changes import change_rows
from leadlens.store import open_store

RESAMPLES = 999


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Planned]]:
    base = tmp_path_factory.mktemp("pilot")
    plan = build_pilot(base / "pilot")
    store = base / "store.duckdb"
    with open_store(store) as st:
        ingest_git(st, [base / "pilot"], line_history=True)
    return store, plan


def _rows(store: Path) -> dict[int, dict[str, object]]:
    with open_store(store, read_only=True) as st:
        _, rows, _ = change_rows(connect(st), Filters(), Rules.configured())
        return {int(r["number"]): r for r in rows if r["number"] is not None}


def test_every_ai_change_carries_its_evidence_and_line_share(pilot: tuple[Path, list[Planned]]) -> None:
    store, plan = pilot
    rows = _rows(store)
    for p in plan:
        row = rows[p.number]
        assert row["ai_assisted"] is p.ai
        if p.ai:
            (ev,) = row["ai_evidence"]  # type: ignore[misc]
            assert ev["rule"] == "co-authored-by-assistant"
            assert ev["text"] == "Co-authored-by: Claude <noreply@anthropic.com>"
            assert ev["sha"] == row["commits"][0]  # type: ignore[index]
            assert ev["tool"] == row["ai_tool"] == "Claude Code"
            # The trailer is on the first commit, which wrote half of the file's lines.
            assert row["ai_line_share"] == pytest.approx((p.lines // 2) / p.lines)
        else:
            assert row["ai_evidence"] == [] and row["ai_line_share"] is None
            assert row["ai_tool"] is None


def test_ai_vs_other_figures_match_the_changes_they_come_from(
        pilot: tuple[Path, list[Planned]]) -> None:
    store, plan = pilot
    rows = _rows(store)
    with open_store(store, read_only=True) as st:
        section = build_ai(connect(st), Filters(), Rules.configured(), Cohorts(resamples=RESAMPLES))
    assert section.changes == 73 and section.ai_changes == 24  # 72 PRs and the initial commit
    lead = {c.metric: c for c in section.comparisons}["lead_time_s"]
    ai_lead = [float(r["lead_time_s"]) for r in rows.values() if r["ai_assisted"]]  # type: ignore[arg-type]
    assert lead.n_treatment == 24 and lead.n_baseline == 49
    assert lead.median_treatment == pytest.approx(np.median(ai_lead))
    coding = {c.metric: c for c in section.comparisons}["stage:coding"]
    # Coding = first to last commit, pinned by construction: 3-6 h with AI, 8-12 h without.
    assert coding.median_treatment == pytest.approx(np.median([p.coding_s for p in plan if p.ai]))
    assert coding.median_baseline == pytest.approx(np.median([p.coding_s for p in plan if not p.ai]))
    assert coding.enough and coding.ci_high is not None and coding.ci_high < 0
    assert section.rules[0].rule == "co-authored-by-assistant" and section.rules[0].changes == 24


def test_amdahl_prediction_is_amdahls_law_on_the_baseline_shares(
        pilot: tuple[Path, list[Planned]]) -> None:
    store, plan = pilot
    rows = _rows(store)
    with open_store(store, read_only=True) as st:
        section = build_ai(connect(st), Filters(), Rules.configured(), Cohorts(resamples=RESAMPLES))
    a = section.amdahl
    assert a is not None and a.enough and section.amdahl_basis == "AI-assisted vs other changes"
    human = [r for r in rows.values() if not r["ai_assisted"]]
    coding_b = np.array([p.coding_s for p in plan if not p.ai])
    lead_b = np.array([float(r["lead_time_s"]) for r in human])  # type: ignore[arg-type]
    # The initial commit is a baseline change with no coding stage.
    share = coding_b.sum() / (lead_b.sum() + _initial_lead(rows, store))
    k = coding_b.sum() / 49 / np.mean([p.coding_s for p in plan if p.ai])
    assert a.share == pytest.approx(share)
    assert a.stage_speedup == pytest.approx(k)
    assert a.predicted_speedup == pytest.approx(1 / ((1 - share) + share / k))
    assert a.predicted_low is not None and a.predicted_low <= a.predicted_speedup  # type: ignore[operator]
    assert section.headline.startswith("24 of 73 changes are AI-assisted (33%).")
    assert "Amdahl's law predicts mean lead time" in section.headline


def _initial_lead(rows: dict[int, dict[str, object]], store: Path) -> float:
    with open_store(store, read_only=True) as st:
        _, all_rows, _ = change_rows(connect(st), Filters(), Rules.configured())
        (initial,) = [r for r in all_rows if r["number"] is None]
    return float(initial["lead_time_s"])


def test_pilot_before_after_and_not_enough_evidence_for_a_small_control(
        pilot: tuple[Path, list[Planned]]) -> None:
    store, plan = pilot
    with open_store(store, read_only=True) as st:
        section = build_ai(connect(st), Filters(), Rules.configured(), Cohorts(
            pilot_start=PILOT_START, pilot_team=("ann",), control_team=("ben",),
            resamples=RESAMPLES))
    lead = {c.metric: c for c in section.pilot}["lead_time_s"]
    ann = [p for p in plan if p.author.startswith("Ann")]
    assert lead.n_baseline == sum(1 for p in ann if p.merged < PILOT_START)
    assert lead.n_treatment == sum(1 for p in ann if p.merged >= PILOT_START)
    did = {d.metric: d for d in section.did}["lead_time_s"]
    # Ben has 8 changes before the pilot: too few to stand for a control group.
    assert not did.enough and did.estimate is None and "need 20" in (did.reason or "")
    assert section.amdahl_basis == "after vs before the pilot (pilot team)"


def test_all_human_repository_reports_no_ai_cohort(tmp_path: Path) -> None:
    build_flow(tmp_path / "flow")
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [tmp_path / "flow"])
        section = build_ai(connect(st), Filters(), Rules.configured(), Cohorts(resamples=RESAMPLES))
    assert section.ai_changes == 0 and section.ai_change_share == 0.0
    assert section.comparisons == [] and section.amdahl is None and section.rules == []
    assert section.headline.startswith("No AI-assisted changes among 5 changes")


def test_survival_counts_ai_lines_rewritten_within_each_window(tmp_path: Path) -> None:
    g = Git(tmp_path / "surv")
    g.write("a.txt", "".join(f"h{i}\n" for i in range(10)))
    g.commit("Human lines\n", author=ALICE, date="2024-01-01T00:00:00Z")
    g.write("b.txt", "".join(f"ai{i}\n" for i in range(10)))
    g.commit("AI lines\n\nAssisted-by: Claude Code [claude-sonnet-4]\n", author=ALICE,
             date="2024-01-02T00:00:00Z")
    lines = [f"ai{i}\n" for i in range(10)]
    lines[1:5] = [f"fixed{i}\n" for i in range(1, 5)]
    g.write("b.txt", "".join(lines))
    g.commit("Rewrite four AI lines 5 days later\n", author=ALICE, date="2024-01-07T00:00:00Z")
    del lines[5:7]
    g.write("b.txt", "".join(lines))
    g.commit("Delete two AI lines 30 days later\n", author=ALICE, date="2024-02-01T00:00:00Z")
    g.write("c.txt", "later\n")
    g.commit("Much later\n", author=ALICE, date="2024-05-01T00:00:00Z")
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [g.path], line_history=True)
        section = build_ai(connect(st), Filters(), Rules.configured(), Cohorts(resamples=RESAMPLES))
    s21, s90 = section.survival
    assert (s21.days, s21.ai_commits, s21.ai_lines, s21.ai_rewritten) == (21, 1, 10, 4)
    assert s21.ai_rewritten_share == pytest.approx(0.4)
    assert (s90.days, s90.ai_lines, s90.ai_rewritten) == (90, 10, 6)
    # Human commits at least a window older than the newest (May 1): Jan 1 (10 lines), Jan 7 (4)
    # and Feb 1 (a deletion: 0 lines; exactly 90 days before May 1 in 2024), none rewritten
    # since. The May 1 commit is too young for either window.
    assert (s21.human_commits, s21.human_lines, s21.human_rewritten) == (3, 14, 0)
    assert (s90.human_commits, s90.human_lines, s90.human_rewritten) == (3, 14, 0)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


def test_ai_report_cli_formats_and_settings(pilot: tuple[Path, list[Planned]], tmp_path: Path) -> None:
    store, _ = pilot
    proc = _cli("ai", "report", "--store", str(store), "--format", "json", "--resamples", "199",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ai_changes"] == 24 and doc["comparisons"][0]["metric"] == "lead_time_s"
    proc = _cli("ai", "report", "--store", str(store), "--format", "html", "--out",
                str(tmp_path / "ai.html"), "--resamples", "199", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "ai.html").read_text()
    assert "Co-authored-by: Claude &lt;noreply@anthropic.com&gt;" in html
    assert "<noreply@anthropic.com>" not in html and 'id="ai-amdahl"' in html
    proc = _cli("ai", "report", "--store", str(store), "--resamples", "199", cwd=tmp_path)
    assert proc.returncode == 0 and "24 of 73 changes are AI-assisted" in proc.stdout
    # Switch the matching rule off, add one of our own: the cohort follows the settings.
    (tmp_path / "leadlens.toml").write_text(
        'ai_disabled_rules = ["co-authored-by-assistant"]\n'
        '[[ai_rules]]\nname = "finish-subject"\nfield = "subject"\npattern = "^Finish pr1[0-9]$"\n')
    proc = _cli("ai", "report", "--store", str(store), "--format", "json", "--resamples", "199",
                cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert doc["ai_changes"] == 10 and [r["rule"] for r in doc["rules"]] == ["finish-subject"]
    assert "co-authored-by-assistant" not in doc["rules_in_force"]


@pytest.mark.parametrize(("args", "message"), [
    (["--pilot-start", "soon"], "not a date: 'soon'"),
    (["--pilot-team", "ann"], "--pilot-team and --control-team need --pilot-start"),
    (["--format", "xml"], "--format must be table, json or html"),
])
def test_ai_report_bad_input(pilot: tuple[Path, list[Planned]], tmp_path: Path, args: list[str],
                             message: str) -> None:
    store, _ = pilot
    proc = _cli("ai", "report", "--store", str(store), *args, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert message in proc.stderr


def test_bad_rule_in_settings_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "leadlens.toml").write_text(
        '[[ai_rules]]\nname = "x"\nfield = "subject"\npattern = "(unclosed"\n')
    proc = _cli("ai", "report", "--store", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert proc.returncode == 2 and "not a valid regular expression" in proc.stderr
    assert "Traceback" not in proc.stderr



def test_pull_request_labels_and_body_markers_once_pr_data_exists(tmp_path: Path) -> None:
    s = build_flow(tmp_path / "flow")
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [tmp_path / "flow"])
        pr(st.con, "acme/flow", 1, created="2024-03-04T14:00", merged="2024-03-05T09:00",
           merge_sha=s["pr1"], body="Adds a.\n\n🤖 Generated with [Claude Code](https://claude.com)")
        pr(st.con, "acme/flow", 2, created="2024-03-05T11:00", merged="2024-03-07T10:00",
           merge_sha=s["pr2"], author="dan")
        st.con.execute("UPDATE pull_requests SET labels = ['AI-assisted'] WHERE number = 2")
        derive_forge(st, "acme/flow")
        _, rows, _ = change_rows(connect(st), Filters(), Rules.configured())
        by = {r["number"]: r for r in rows}
    assert by[1]["ai_assisted"] and by[1]["ai_evidence"] == [
        {"sha": None, "rule": "pr-body-marker",
         "text": "🤖 Generated with [Claude Code](https://claude.com)", "tool": "Claude Code"}]
    assert by[1]["ai_tool"] == "Claude Code"
    # A label that says AI, not which.
    assert by[2]["ai_evidence"] == [{"sha": None, "rule": "ai-label", "text": "AI-assisted",
                                     "tool": None}]
    assert by[2]["ai_tool"] == "unknown"
    # A marked pull request makes all of its commits' lines AI-assisted.
    assert by[1]["ai_line_share"] == 1.0 and by[2]["ai_line_share"] == 1.0
    assert not by[3]["ai_assisted"] and by[3]["ai_tool"] is None
