"""The derive step on the fixture history: changes, their commits, releases and git milestones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadlens.derive.changes import derive_repo
from leadlens.pipeline import ingest_git
from leadlens.store import Store


@pytest.fixture
def derived(store: Store, history_repo: tuple[Path, dict[str, str]]) -> dict[str, str]:
    report = ingest_git(store, [history_repo[0]])
    assert report.outcomes[0].changes == 10  # derived right after the ingest
    return history_repo[1]


def change(store: Store, merge_sha: str) -> tuple[object, ...]:
    rows = store.con.execute(
        "SELECT id, number, title, author, is_merge, commits, lines_added, lines_deleted, files,"
        " release FROM changes WHERE merge_sha = ?", [merge_sha]).fetchall()
    assert len(rows) == 1
    return tuple(rows[0])


def milestones(store: Store, change_id: str) -> dict[str, tuple[datetime, bool]]:
    rows = store.con.execute(
        'SELECT name, "at", proxy FROM milestones WHERE change_id = ?', [change_id]).fetchall()
    return {name: (at, proxy) for name, at, proxy in rows}


def test_every_mainline_commit_lands_one_change(store: Store, derived: dict[str, str]) -> None:
    s = derived
    mainline = [r[0] for r in store.con.execute(
        "SELECT sha FROM mainline ORDER BY position").fetchall()]
    assert mainline == [s["root"], s["merge_pr7"], s["squash12"], s["rename"], s["revert"],
                        s["octopus"], s["merge_mr34"], s["old"], s["future"], s["latin1"]]
    # All 16 commits belong to exactly one change.
    assert store.con.execute("SELECT count(*), count(DISTINCT sha) FROM change_commits"
                             ).fetchall() == [(16, 16)]


def test_github_merge_change(store: Store, derived: dict[str, str]) -> None:
    s = derived
    # PR title from the merge body's first line, author from "from bob/...", 3 commits.
    assert change(store, s["merge_pr7"]) == (
        "history#7", 7, "Add the app", "bob", True, 3, 7, 1, 1, "v1.0")
    commits = {r[0] for r in store.con.execute(
        "SELECT sha FROM change_commits WHERE change_id = 'history#7'").fetchall()}
    assert commits == {s["merge_pr7"], s["feature1"], s["feature2"]}
    # Hand-checked: feature1 authored 2024-01-02 09:00-07:00 = 16:00Z, feature2 15:30-07:00 =
    # 22:30Z, merged 2024-01-03 12:00+05:30 = 06:30Z, v1.0 tagged 2024-01-06 18:00+01:00 = 17:00Z.
    assert milestones(store, "history#7") == {
        "work_started": (datetime(2024, 1, 2, 16, 0, tzinfo=UTC), False),
        "ready_for_review": (datetime(2024, 1, 2, 22, 30, tzinfo=UTC), True),
        "merged": (datetime(2024, 1, 3, 6, 30, tzinfo=UTC), False),
        "released": (datetime(2024, 1, 6, 17, 0, tzinfo=UTC), False),
    }


def test_octopus_gitlab_and_squash(store: Store, derived: dict[str, str]) -> None:
    s = derived
    octo = change(store, s["octopus"])
    assert octo[0] == f"history@{s['octopus']}" and octo[4:] == (True, 4, 3, 0, 3, "v1.1")
    assert change(store, s["merge_mr34"])[:2] == ("history#34", 34)
    assert change(store, s["merge_mr34"])[-1] is None  # 2.0.0rc1 is a pre-release: in flight
    assert change(store, s["squash12"]) == (
        "history#12", 12, "Add login (#12)", "Dan Dare", False, 1, 2, 0, 1, "v1.0")
    # Clock skew kept as recorded: committed (11:00Z) before it was authored (11:15Z).
    ms = milestones(store, "history#12")
    assert ms["merged"][0] < ms["work_started"][0]


def test_unreleased_changes_have_no_released_milestone(store: Store,
                                                       derived: dict[str, str]) -> None:
    rows = store.con.execute(
        "SELECT count(*) FILTER (WHERE release IS NULL), count(*) FROM changes").fetchall()
    assert rows == [(4, 10)]
    assert "released" not in milestones(store, f"history@{derived['latin1']}")


def test_derive_is_idempotent_and_pattern_configurable(store: Store,
                                                       derived: dict[str, str]) -> None:
    first = store.con.execute("SELECT * FROM changes ORDER BY id").fetchall()
    derive_repo(store, "history")
    assert store.con.execute("SELECT * FROM changes ORDER BY id").fetchall() == first
    result = derive_repo(store, "history", release_pattern=r"^\d+\.\d+\.\d+rc\d+$")
    assert result.released == 7  # now 2.0.0rc1 counts, and it contains everything before it
    assert change(store, derived["merge_mr34"])[-1] == "2.0.0rc1"


def test_no_default_branch_gives_a_warning_not_an_error(store: Store, tmp_path: Path) -> None:
    from gitfixtures import Git, build_linear

    shas = build_linear(tmp_path / "r", 3)
    g = Git.open(tmp_path / "r")
    g.run("checkout", "-q", "--detach", shas[1])
    g.run("branch", "-q", "-D", "main")
    report = ingest_git(store, [tmp_path / "r"])
    # Detached HEAD: the mainline falls back to HEAD's first-parent chain.
    assert report.outcomes[0].changes == 2
