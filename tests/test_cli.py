"""The CLI as users run it: `make demo`'s command, JSON output, progress quiet off a terminal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, "COLUMNS": "200"})


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_prints_the_report_and_writes_html(history_repo: tuple[Path, dict[str, str]],
                                                     tmp_path: Path) -> None:
    repo, _ = history_repo
    proc = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "demo", f"REPO={repo}", f"STORE={tmp_path / 'd.duckdb'}"],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "history: 16 new commits" in proc.stderr
    assert "Most time waits in release" in proc.stdout
    assert "6 changes with a lead time (to released)" in proc.stdout
    html = tmp_path / "report.html"
    assert proc.stdout.strip().splitlines()[-1] == str(html)
    assert "Where does delivery time go?" in html.read_text(encoding="utf-8")


def test_ingest_json_then_summary(history_repo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    repo, shas = history_repo
    store = str(tmp_path / "s.duckdb")
    proc = run("ingest", "git", str(repo), "--store", store, "--format", "json", "--name", "acme/hist")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" not in proc.stderr  # no progress bar or colours off a terminal
    (row,) = json.loads(proc.stdout)["repositories"]
    assert row["repo"] == "acme/hist"
    assert row["commits"] == 16 and row["merges"] == 3 and row["tags"] == 3
    assert row["first_commit"] == "1985-06-01T12:00:00+00:00"
    again = run("ingest", "git", str(repo), "--store", store, "--name", "acme/hist", "-q")
    assert again.returncode == 0 and "acme/hist: up to date" in again.stderr
    summary = run("summary", "--store", store, "--format", "json")
    assert json.loads(summary.stdout)["repositories"][0]["commits"] == 16
    assert shas["root"]  # the fixture is the one test_git_ingest checks value by value
