"""A shallow clone (``git clone --depth N --no-single-branch``): the boundary is where the
mainline's first-parent history stops, and a change whose commits reach the boundary is left out
of the figures, and counted (DESIGN.md: nothing is dropped silently).

The history (UTC, 09:00 each day of March 2024): m0 (the 1st); the feature branch f1 (2nd) and f2
(3rd), merged as PR #1 (4th); direct pushes m1..m6 (5th..10th); the feature branch goes on with f3
(6th) and f4 (7th), merged as PR #2 (11th: in the full history it claims f3 and f4 only); n1
(12th), n2 (13th); v1.0 on n2 (14th). Cloned with --depth 4 from both branch tips, the clone keeps
n2, n1, PR #2's merge and m6 (the mainline's boundary, committed the 10th), and f4..f1 (f1 the
feature branch's boundary, the 2nd). PR #2's merge would claim f1 and f2 too, which PR #1 merged:
its history is cut, as is m6's.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitfixtures import BOB, Git, git_env
from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.pipeline import ingest_git
from leadlens.report.build import build_report
from leadlens.report.changes import change_rows
from leadlens.store import Store

H = 3600.0


def _history(path: Path) -> dict[str, str]:
    g = Git(path)
    s: dict[str, str] = {}
    g.write("m.txt", "0\n")
    s["m0"] = g.commit("m0\n", date="2024-03-01T09:00:00Z")
    g.run("checkout", "-q", "-b", "feature")
    for i, day in ((1, 2), (2, 3)):
        g.write("f.txt", f"{i}\n")
        s[f"f{i}"] = g.commit(f"f{i}\n", author=BOB, date=f"2024-03-0{day}T09:00:00Z")
    g.run("checkout", "-q", "main")
    s["pr1"] = g.merge("feature", message="Merge pull request #1 from bob/feature\n\nF one",
                       date="2024-03-04T09:00:00Z")
    for i in range(1, 7):
        g.write("m.txt", f"{i}\n")
        s[f"m{i}"] = g.commit(f"m{i}\n", date=f"2024-03-{4 + i:02d}T09:00:00Z")
    g.run("checkout", "-q", "feature")
    for i, day in ((3, 6), (4, 7)):
        g.write("f.txt", f"{i}\n")
        s[f"f{i}"] = g.commit(f"f{i}\n", author=BOB, date=f"2024-03-0{day}T09:00:00Z")
    g.run("checkout", "-q", "main")
    s["pr2"] = g.merge("feature", message="Merge pull request #2 from bob/feature\n\nF two",
                       date="2024-03-11T09:00:00Z")
    for name, day in (("n1", 12), ("n2", 13)):
        g.write("n.txt", f"{name}\n")
        s[name] = g.commit(f"{name}\n", date=f"2024-03-{day}T09:00:00Z")
    g.tag("v1.0", message="1.0\n", date="2024-03-14T09:00:00Z")
    return s


@pytest.fixture(scope="module")
def shallow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("shallow")
    s = _history(base / "full")
    subprocess.run(["git", "clone", "-q", "--depth", "4", "--no-single-branch",
                    f"file://{base / 'full'}", str(base / "clone")], check=True,
                   env=git_env(base), capture_output=True)
    boundary = (base / "clone" / ".git" / "shallow").read_text().split()
    assert sorted(boundary) == sorted([s["m6"], s["f1"]])  # the shape the docstring describes
    return base / "clone", s


def test_boundary_is_the_mainlines_and_cut_changes_are_left_out(
        store: Store, shallow: tuple[Path, dict[str, str]]) -> None:
    path, s = shallow
    (outcome,) = ingest_git(store, [path], name="acme/shallow").outcomes
    assert outcome.error is None
    # Where the mainline's history stops (m6, the 10th), not the feature branch's (f1, the 2nd).
    assert store.con.execute("SELECT shallow_before FROM repos").fetchone() == (
        datetime(2024, 3, 10, 9, tzinfo=UTC),)
    assert any("the mainline's history before 2024-03-10 is missing" in w
               for w in outcome.warnings)
    cut = dict(store.con.execute("SELECT merge_sha, shallow_cut FROM changes").fetchall())
    assert cut == {s["m6"]: True, s["pr2"]: True, s["n1"]: False, s["n2"]: False}

    r = build_report(connect(store), Filters(), as_of=datetime(2024, 3, 15, tzinfo=UTC))
    assert r.shallow_cut_changes == 2
    assert any("2 change(s) reach the boundary of a shallow clone" in m for m in r.messages)
    # n1: 03-12 → v1.0 (03-14) 48 h; n2: 24 h. PR #2 would have had coding from f1 (the 2nd).
    assert (r.changes, r.lead_time.median_s) == (2, 36 * H)
    assert [st.name for st in r.stages] == ["coding", "pickup+review+merge", "release"]
    assert [(w.week, w.changes) for w in r.weeks] == [("2024-03-11", 2)]
    _, rows, notes = change_rows(connect(store), Filters())
    assert [row["merge_sha"] for row in rows] == [s["n1"], s["n2"]]
    assert notes == ["2 change(s) reaching the boundary of a shallow clone (their history is cut)"
                     " are not listed: fetch the full history (`git fetch --unshallow`) and ingest"
                     " again"]


def test_a_full_clone_cuts_nothing(store: Store, tmp_path: Path) -> None:
    _history(tmp_path / "full")
    (outcome,) = ingest_git(store, [tmp_path / "full"]).outcomes
    assert not any("shallow" in w for w in outcome.warnings)
    assert store.con.execute("SELECT count(*), count(*) FILTER (WHERE shallow_cut),"
                             " any_value(shallow_before) FROM changes, repos").fetchone() == (
        11, 0, None)
    pr2 = store.con.execute("SELECT commits FROM changes WHERE number = 2").fetchone()
    assert pr2 == (3,)  # its merge, f3 and f4


def test_fetching_the_full_history_counts_them_again(
        store: Store, shallow: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """`git fetch --unshallow` moves no tip: the boundary moving is what tells leadlens to read
    the new history and the old boundary commits (stored without parents) again."""
    path, s = shallow
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", "--depth", "4", "--no-single-branch",
                    f"file://{path.parent / 'full'}", str(clone)], check=True,
                   env=git_env(tmp_path), capture_output=True)
    ingest_git(store, [clone], name="acme/shallow")
    assert store.con.execute("SELECT parents FROM commits WHERE sha = ?", [s["m6"]]).fetchone() \
        == ([],)
    subprocess.run(["git", "fetch", "-q", "--unshallow"], cwd=clone, check=True,
                   env=git_env(tmp_path), capture_output=True)
    (outcome,) = ingest_git(store, [clone], name="acme/shallow").outcomes
    assert not outcome.up_to_date and outcome.commits_added == 7 + 2  # the rest, and m6 and f1
    assert not any("shallow" in w for w in outcome.warnings)
    assert store.con.execute("SELECT parents FROM commits WHERE sha = ?", [s["m6"]]).fetchone() \
        == ([s["m5"]],)
    assert store.con.execute("SELECT is_shallow, shallow_before FROM repos").fetchone() == (
        False, None)
    assert store.con.execute("SELECT count(*), count(*) FILTER (WHERE shallow_cut) FROM changes"
                             ).fetchone() == (11, 0)
    assert store.con.execute("SELECT commits FROM changes WHERE number = 2").fetchone() == (3,)
    again = ingest_git(store, [clone], name="acme/shallow").outcomes[0]
    assert again.up_to_date
