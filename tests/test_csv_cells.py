"""`leadlens changes --format csv` opened in a spreadsheet: no cell is a formula, no title splits a
row, and numbers stay numbers."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest

from gitfixtures import Git
from leadlens.report.changes import write_csv

TITLES = ['=HYPERLINK("https://evil.example","click")', "+SUM(1,2)", "-2+3", "@SUM(A1)",
          "Carriage\rreturn inside", "plain - title = fine"]
EVE = "=Eve Mallory <eve@example.com>"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], str]:
    """The CSV of a repository whose titles and author start like formulas, read back with the
    csv module; and its raw text."""
    base = tmp_path_factory.mktemp("csvcells")
    g = Git(base / "repo")
    for i, title in enumerate(TITLES):
        g.write(f"f{i}.txt", f"{i}\n")
        g.commit(f"{title}\n", author=EVE, date=f"2024-03-0{i + 1}T09:00:00Z")
    store = base / "s.duckdb"
    proc = run("ingest", "git", str(base / "repo"), "--store", str(store), "--name", "@acme/x",
               "-q")
    assert proc.returncode == 0, proc.stderr
    out = base / "changes.csv"
    proc = run("changes", "--store", str(store), "--format", "csv", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_bytes().decode("utf-8")
    with out.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh)), text


def test_formula_cells_are_neutralised(exported: tuple[list[dict[str, str]], str]) -> None:
    rows, _ = exported
    assert [r["title"] for r in rows] == [
        '\'=HYPERLINK("https://evil.example","click")', "'+SUM(1,2)", "'-2+3", "'@SUM(A1)",
        "Carriage\rreturn inside", "plain - title = fine"]
    assert {r["author"] for r in rows} == {"'=Eve Mallory"}
    assert {r["repo"] for r in rows} == {"'@acme/x"}
    assert all(r["id"].startswith("'@acme/x@") for r in rows)


def test_a_carriage_return_stays_inside_its_row(exported: tuple[list[dict[str, str]], str]
                                                ) -> None:
    rows, text = exported
    assert len(rows) == len(TITLES)
    assert '"Carriage\rreturn inside"' in text
    assert text.count("\n") == len(TITLES) + 1 and "\r\n" not in text  # rows end in \n, as before


def test_numbers_stay_numbers(exported: tuple[list[dict[str, str]], str]) -> None:
    rows, _ = exported
    assert {r["lines_added"] for r in rows} == {"1"}
    assert all(r["lead_time_s"] == "0.0" for r in rows)


def test_cells_git_cannot_carry() -> None:
    """git trims a subject's leading tab or CR, a forge title need not; and a negative number is
    a number, not text: only string cells are neutralised."""
    buf = io.StringIO()
    base = {"id": "a/b@1", "repo": "a/b", "number": -3, "title": "-x", "author": "\tTab",
            "merge_sha": "1", "commits": [], "milestones": {}, "stages": {}, "lead_time_s": -5.0,
            "lines_added": 1, "lines_deleted": 0, "files": 1, "bot": False, "ai_assisted": False,
            "ai_tool": None, "ai_line_share": None, "ai_evidence": []}
    write_csv(iter([base, base | {"title": "\rCR first", "author": "x\ry"}]), buf, [])
    first, second = csv.DictReader(io.StringIO(buf.getvalue(), newline=""))
    assert (first["number"], first["lead_time_s"], first["title"], first["author"]) == (
        "-3", "-5.0", "'-x", "'\tTab")
    assert (second["title"], second["author"]) == ("'\rCR first", "x\ry")
