"""`leadlens report` and `leadlens changes` as users run them, including the bad inputs they survive."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitfixtures import Git, build_flow, build_linear

AS_OF = "2024-03-15T09:00:00Z"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("flowcli")
    shas = build_flow(base / "flow")
    store = base / "s.duckdb"
    proc = run("report", str(base / "flow"), "--store", str(store), "--as-of", AS_OF)
    assert proc.returncode == 0, proc.stderr
    assert "Most time waits in release" in proc.stdout
    return store, shas


def test_changes_jsonl(flow: tuple[Path, dict[str, str]]) -> None:
    store, s = flow
    proc = run("changes", "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    # Merge order; every change, dependabot's PR #4 included (DESIGN.md: nothing dropped silently).
    assert [(r["id"], r["bot"]) for r in rows] == [
        (f"acme/flow@{s['root']}", False), ("acme/flow#1", False), ("acme/flow#4", True),
        ("acme/flow#2", False), ("acme/flow#3", False), (f"acme/flow@{s['revert']}", False)]
    pr1 = rows[1]
    assert pr1 | {"milestones": None, "stages": None} == {
        "id": "acme/flow#1", "repo": "acme/flow", "number": 1, "title": "Add a", "author": "bob",
        "merge_sha": s["pr1"], "commits": [s["pr1_a"], s["pr1_b"], s["pr1"]],
        "milestones": None, "stages": None, "lead_time_s": 97 * 3600.0,
        "lines_added": 10, "lines_deleted": 0, "files": 1, "bot": False,
        "ai_assisted": False, "ai_tool": None, "ai_line_share": None, "ai_evidence": []}
    assert pr1["milestones"] == {
        "item_created": None, "item_ready": None, "work_started": "2024-03-04T09:00:00Z",
        "ready_for_review": "2024-03-04T13:00:00Z", "first_review": None, "approved": None,
        "merged": "2024-03-05T09:00:00Z", "released": "2024-03-08T10:00:00Z"}
    assert pr1["stages"] == {"coding": 4 * 3600.0, "pickup+review+merge": 20 * 3600.0,
                             "release": 73 * 3600.0}
    assert rows[4]["lead_time_s"] is None  # in flight
    assert rows[2]["author"] == "acme" and rows[2]["lead_time_s"] == 50 * 3600.0  # 03-06 08:00 → v1.0


def test_changes_exclude_bots_on_request(flow: tuple[Path, dict[str, str]]) -> None:
    store, s = flow
    proc = run("changes", "--store", str(store), "--exclude-bots")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in rows] == [
        f"acme/flow@{s['root']}", "acme/flow#1", "acme/flow#2", "acme/flow#3",
        f"acme/flow@{s['revert']}"]
    assert not any(r["bot"] for r in rows)
    # --include-bots (what listed bot changes before) still works: it is the default now.
    default = run("changes", "--store", str(store), "--include-bots")
    assert default.returncode == 0 and default.stdout == run("changes", "--store", str(store)).stdout
    both = run("changes", "--store", str(store), "--include-bots", "--exclude-bots")
    assert both.returncode == 2 and "Traceback" not in both.stderr
    # The report keeps leaving them out of flow figures, and says how many.
    report = json.loads(run("report", "--store", str(store), "--format", "json",
                            "--as-of", AS_OF).stdout)
    assert report["bot_changes"] == 1 and report["changes"] == 3
    assert any("1 change(s) by automation bots are left out" in m for m in report["messages"])


def test_changes_csv(flow: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    store, s = flow
    out = tmp_path / "out" / "changes.csv"
    proc = run("changes", "--store", str(store), "--format", "csv", "--out", str(out),
               "--since", "2024-03-05", "--until", "2024-03-07")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    # --until with a date includes that day: #1 (03-05) and #2 (03-07).
    assert [(r["id"], r["bot"]) for r in rows] == [
        ("acme/flow#1", "False"), ("acme/flow#4", "True"), ("acme/flow#2", "False")]
    assert rows[0]["commits"] == f"{s['pr1_a']} {s['pr1_b']} {s['pr1']}"
    assert rows[0]["milestone_merged"] == "2024-03-05T09:00:00Z"
    assert rows[0]["stage_release_s"] == "262800.0" and rows[0]["milestone_approved"] == ""
    assert rows[2]["title"] == "Add b <script>alert('pwned')</script> & more"
    assert rows[0]["ai_tool"] == "" and rows[0]["ai_assisted"] == "False"


def test_report_json_and_html_files(flow: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    store, _ = flow
    proc = run("report", "--store", str(store), "--format", "json", "--as-of", AS_OF, "--k", "4")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["lead_time_basis"] == "released" and data["changes"] == 3
    release = next(s for s in data["stages"] if s["name"] == "release")
    assert release["speedup_at_k"] == pytest.approx(1 / (72 / 338 + 266 / 338 / 4))
    assert data["rework_rate"] is None and any("--line-history" in m for m in data["messages"])
    html = tmp_path / "r.html"
    proc = run("report", "--store", str(store), "--format", "html", "--out", str(html))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(html.resolve())
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_line_history_gives_a_rework_rate(tmp_path: Path) -> None:
    build_flow(tmp_path / "flow")
    proc = run("report", str(tmp_path / "flow"), "--store", str(tmp_path / "s.duckdb"),
               "--line-history", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    # Only the revert rewrites old lines: #2's 60 lines, 6 days old -> all recent.
    assert data["rework"]["recent_lines"] == 60
    assert data["rework_rate"] == pytest.approx(60 / data["rework"]["changed_lines"])


def test_repository_without_merges_or_tags(tmp_path: Path) -> None:
    build_linear(tmp_path / "lin", 5)
    proc = run("report", str(tmp_path / "lin"), "--store", str(tmp_path / "s.duckdb"),
               "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["lead_time_basis"] == "merged" and data["changes"] == 5
    assert data["in_flight"]["count"] == 0 and data["releases"] == 0
    assert any("no release signal" in m for m in data["messages"])
    # Direct commits: every stage is zero-length; lead time 0, still a valid report.
    assert data["lead_time"]["median_s"] == 0.0
    assert data["headline"][2].startswith("Every lead time in this scope is zero")
    # No release signal: the trend says its lead times end at merge, even with no change in its
    # windows (the commits are of 2024-01; as_of is now).
    assert data["headline"][0].startswith(
        "Median change lead time (first commit → merge: no release signal) over the 12 months")


def test_unknown_default_branch(tmp_path: Path) -> None:
    g = Git(tmp_path / "odd")
    g.write("x.txt", "x\n")
    g.commit("x\n", date="2024-03-01T09:00:00Z")
    g.run("branch", "-m", "main", "other")
    g.run("symbolic-ref", "HEAD", "refs/heads/gone")  # HEAD names a branch that does not exist
    proc = run("report", str(tmp_path / "odd"), "--store", str(tmp_path / "s.duckdb"),
               "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["changes"] == 0
    assert any("default branch could not be determined" in m for m in data["messages"])


def test_clock_skew_is_clamped_and_counted(tmp_path: Path) -> None:
    g = Git(tmp_path / "skew")
    g.write("a.txt", "a\n")
    g.commit("root\n", date="2024-03-01T09:00:00Z")
    g.run("checkout", "-q", "-b", "f")
    g.write("b.txt", "b\n")
    g.commit("authored after the merge\n", date="2024-03-05T09:00:00Z")  # a skewed clock
    g.run("checkout", "-q", "main")
    g.merge("f", message="Merge pull request #9 from x/f\n\nSkewed", date="2024-03-04T09:00:00Z")
    g.tag("v1.0", message="r\n", date="2024-03-06T09:00:00Z")
    proc = run("report", str(tmp_path / "skew"), "--store", str(tmp_path / "s.duckdb"),
               "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["evidence"]["out_of_order"] == 1
    assert any("clamped" in m for m in data["messages"])
    skewed = run("changes", "--store", str(tmp_path / "s.duckdb"))
    pr9 = next(json.loads(x) for x in skewed.stdout.splitlines() if '"#9"' in x or "#9" in x)
    # merged (03-04) clamps to ready_for_review (03-05): a zero-length segment, none negative.
    assert pr9["stages"] == {"coding": 0.0, "pickup+review+merge": 0.0, "release": 86400.0}
    assert pr9["lead_time_s"] == 86400.0


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "last tuesday"], "not a date: 'last tuesday'"),
    (["--since", "2024-03-02", "--until", "2024-03-01"], "--until must come after --since"),
    (["--format", "xml"], "--format must be table, json or html"),
    (["--k", "0.5"], "greater than or equal to 1"),
])
def test_bad_report_arguments(flow: tuple[Path, dict[str, str]], args: list[str],
                              message: str) -> None:
    store, _ = flow
    proc = run("report", "--store", str(store), *args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_bad_outputs_and_stores(flow: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    store, _ = flow
    (tmp_path / "file").write_text("x")
    proc = run("report", "--store", str(store), "--format", "html", "--out",
               str(tmp_path / "file" / "r.html"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr
    proc = run("report", "--store", str(tmp_path / "missing.duckdb"))
    assert proc.returncode == 2 and "no store at" in proc.stderr
    proc = run("changes", "--store", str(store), "--format", "parquet")
    assert proc.returncode == 2 and "--format must be jsonl or csv" in proc.stderr
    proc = run("report", str(tmp_path / "not-a-repo"), "--store", str(tmp_path / "n.duckdb"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
