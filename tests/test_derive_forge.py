"""PRs join git changes (one change, never two), and reviews, drafts and deployments become milestones.

The scenario (UTC): PR #1 is a true merge (commit 04-01 10:00, merged 04-02 12:00); PR #2 was
rebase-merged (two commits authored 04-02 13:00 and 14:00, copied onto main 04-03 09:00); PR #3 was
squash-merged ("Add three (#3)", 04-04 08:00); v1.0 tags #3 at 04-04 09:00, and production
deployment 100 of #3's landing commit succeeded at 04-04 10:00; a direct commit (04-05 09:00) ships
in v1.1 (04-06 09:00).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from forgefixtures import comment, deployment, event, pr, pr_commit, review, t
from gitfixtures import BOB, CAROL, DAN, Git
from leadlens.derive.changes import derive_repo
from leadlens.derive.forge import derive_forge
from leadlens.pipeline import ingest_git
from leadlens.store import Store

REPO = "acme/forge"


def build_forge_repo(path: Path) -> dict[str, str]:
    g = Git(path)
    g.run("remote", "add", "origin", f"https://github.com/{REPO}.git")
    s: dict[str, str] = {}
    g.write("README.md", "# forge\n")
    s["root"] = g.commit("Initial commit\n", date="2024-04-01T09:00:00Z")
    g.run("checkout", "-q", "-b", "pr1")
    g.write("one.py", "one = 1\n")
    s["pr1_a"] = g.commit("Add one\n", author=BOB, date="2024-04-01T10:00:00Z")
    g.run("checkout", "-q", "main")
    s["pr1"] = g.merge("pr1", message="Merge pull request #1 from bob/pr1\n\nAdd one",
                       date="2024-04-02T12:00:00Z", author=CAROL)
    # Rebase merge: Dan's commits copied onto main by Carol (author time and subject kept).
    g.write("two.py", "two = 2\n")
    s["r1"] = g.commit("Two part 1\n", author=DAN, date="2024-04-02T13:00:00Z", committer=CAROL,
                       committer_date="2024-04-03T09:00:00Z")
    g.write("two.py", "two = 2\ntoo = 2\n")
    s["r2"] = g.commit("Two part 2\n", author=DAN, date="2024-04-02T14:00:00Z", committer=CAROL,
                       committer_date="2024-04-03T09:00:00Z")
    g.write("three.py", "three = 3\n")
    s["s3"] = g.commit("Add three (#3)\n", author=BOB, date="2024-04-03T10:00:00Z",
                       committer=CAROL, committer_date="2024-04-04T08:00:00Z")
    g.tag("v1.0", message="Release 1.0\n", date="2024-04-04T09:00:00Z")
    g.write("four.py", "four = 4\n")
    s["d4"] = g.commit("Add four\n", date="2024-04-05T09:00:00Z")
    g.tag("v1.1", message="Release 1.1\n", date="2024-04-06T09:00:00Z")
    return s


def add_forge_rows(con: duckdb.DuckDBPyConnection, s: dict[str, str]) -> None:
    pr(con, REPO, 1, created="2024-04-01T11:00", merged="2024-04-02T12:00:05", merge_sha=s["pr1"],
       title="Add one (API title)")
    review(con, REPO, 1, "github-actions[bot]", "COMMENTED", "2024-04-01T11:05", bot=True)
    comment(con, REPO, 1, "bob", "2024-04-01T11:10")  # the author: not a review
    comment(con, REPO, 1, "renovate", "2024-04-01T11:20")  # a bot by the pattern, not the API
    review(con, REPO, 1, "carol", "COMMENTED", "2024-04-01T13:00")
    review(con, REPO, 1, "carol", "APPROVED", "2024-04-02T10:00")
    review(con, REPO, 1, "erin", "DISMISSED", "2024-04-02T11:00")  # a dismissed approval
    review(con, REPO, 1, "frank", "APPROVED", "2024-04-03T10:00")  # after the merge
    pr(con, REPO, 2, created="2024-04-02T12:30", merged="2024-04-03T09:00:10", merge_sha=s["r2"],
       author="dan")
    pr_commit(con, REPO, 2, "b" * 40, authored="2024-04-02T13:00", message="Two part 1\n\nwhy",
              author="Dan Dare")
    pr_commit(con, REPO, 2, "c" * 40, authored="2024-04-02T14:00", message="Two part 2",
              author="Dan Dare")
    event(con, REPO, 2, "ready_for_review", "2024-04-02T15:00", actor="dan")  # opened as a draft
    event(con, REPO, 2, "review_requested", "2024-04-02T15:01", actor="dan")
    pr(con, REPO, 3, created="2024-04-03T10:30", merged="2024-04-04T08:00", merge_sha=s["s3"])
    pr_commit(con, REPO, 3, "d" * 40, authored="2024-04-03T08:00", message="three a")
    pr_commit(con, REPO, 3, "e" * 40, authored="2024-04-03T10:00", message="three b")
    event(con, REPO, 3, "convert_to_draft", "2024-04-03T11:00")  # opened ready: stays created
    event(con, REPO, 3, "ready_for_review", "2024-04-03T12:00")
    deployment(con, REPO, 100, s["s3"], at="2024-04-04T10:00")
    deployment(con, REPO, 101, s["s3"], at="2024-04-04T08:30", environment="staging")
    deployment(con, REPO, 102, s["pr1"], at="2024-04-02T13:00", state="failure")


@pytest.fixture
def forge(store: Store, tmp_path: Path) -> tuple[Store, dict[str, str]]:
    s = build_forge_repo(tmp_path / "forge")
    add_forge_rows(store.con, s)
    ingest_git(store, [tmp_path / "forge"])  # derives, then joins the forge rows
    return store, s


def milestones(store: Store) -> dict[str, dict[str, tuple[datetime, str, bool]]]:
    out: dict[str, dict[str, tuple[datetime, str, bool]]] = {}
    for cid, name, at, source, proxy in store.con.execute(
            "SELECT change_id, name, \"at\", source, proxy FROM milestones WHERE repo = ?",
            [REPO]).fetchall():
        out.setdefault(cid, {})[name] = (at, source, proxy)
    return out


def test_pr_joins_its_change_once(forge: tuple[Store, dict[str, str]]) -> None:
    store, s = forge
    rows = store.con.execute("SELECT id, number, merge_sha, title, author, commits FROM changes"
                             " WHERE repo = ? ORDER BY id", [REPO]).fetchall()
    assert rows == [
        (f"{REPO}#1", 1, s["pr1"], "Add one (API title)", "bob", 2),
        (f"{REPO}#2", 2, s["r2"], "PR 2", "dan", 2),  # the rebase merge: one change, not two
        (f"{REPO}#3", 3, s["s3"], "PR 3", "bob", 1),  # a squash: earlier commits stay apart
        (f"{REPO}@{s['d4']}", None, s["d4"], "Add four", "Alice Liddell", 1),
        (f"{REPO}@{s['root']}", None, s["root"], "Initial commit", "Alice Liddell", 1),
    ]
    cc = store.con.execute("SELECT sha FROM change_commits WHERE repo = ? AND change_id = ?"
                           " ORDER BY author_time", [REPO, f"{REPO}#2"]).fetchall()
    assert cc == [(s["r1"],), (s["r2"],)]
    assert store.con.execute("SELECT count(*), count(DISTINCT sha) FROM change_commits"
                             " WHERE repo = ?", [REPO]).fetchone() == (7, 7)


def test_forge_milestones(forge: tuple[Store, dict[str, str]]) -> None:
    store, s = forge
    ms = milestones(store)
    deployed = (t("2024-04-04T10:00"), "github", False)
    assert ms[f"{REPO}#1"] == {
        "work_started": (t("2024-04-01T10:00"), "git", False),
        "ready_for_review": (t("2024-04-01T11:00"), "github", False),
        # the bot review, the author's comment and renovate's are not the first review
        "first_review": (t("2024-04-01T13:00"), "github", False),
        # the dismissed approval and the one after the merge do not count
        "approved": (t("2024-04-02T10:00"), "github", False),
        "merged": (t("2024-04-02T12:00:05"), "github", False),
        # production deployment 100 contains #1: it wins over the earlier v1.0 tag
        "released": deployed,
    }
    two = ms[f"{REPO}#2"]
    assert two["work_started"][0] == t("2024-04-02T13:00")
    assert two["ready_for_review"] == (t("2024-04-02T15:00"), "github", False)  # draft → ready
    assert "first_review" not in two and "approved" not in two
    assert two["merged"][0] == t("2024-04-03T09:00:10")
    assert two["released"] == deployed
    assert ms[f"{REPO}#3"]["ready_for_review"][0] == t("2024-04-03T10:30")
    assert ms[f"{REPO}#3"]["released"] == deployed
    # After the deployed commit: the v1.1 tag releases it (git's rule).
    four = ms[f"{REPO}@{s['d4']}"]
    assert four["released"] == (t("2024-04-06T09:00"), "git", False)
    assert four["ready_for_review"][2] is True  # no PR: git's proxy stays


def test_derive_again_gives_the_same_rows(forge: tuple[Store, dict[str, str]]) -> None:
    store, _ = forge
    before = milestones(store)
    changes = store.con.execute("SELECT * FROM changes ORDER BY id").fetchall()
    derive_forge(store, REPO)
    assert milestones(store) == before
    derive_repo(store, REPO)
    derive_forge(store, REPO)
    assert milestones(store) == before
    assert store.con.execute("SELECT * FROM changes ORDER BY id").fetchall() == changes


def test_github_release_without_deployment(store: Store, tmp_path: Path) -> None:
    from forgefixtures import release
    s = build_forge_repo(tmp_path / "forge")
    pr(store.con, REPO, 3, created="2024-04-03T10:30", merged="2024-04-04T08:00", merge_sha=s["s3"])
    # Published before the v1.0 tag's date, on main as it was then: the earliest release wins.
    release(store.con, REPO, 7, "v0.9", published="2024-04-04T08:30")
    ingest_git(store, [tmp_path / "forge"])
    ms = milestones(store)
    assert ms[f"{REPO}#3"]["released"] == (t("2024-04-04T08:30"), "github", False)
    assert store.con.execute("SELECT release FROM changes WHERE id = ?",
                             [f"{REPO}#3"]).fetchone() == ("v0.9",)
    assert ms[f"{REPO}@{s['d4']}"]["released"][1] == "git"


def test_git_number_on_another_commit_is_displaced(store: Store, tmp_path: Path) -> None:
    s = build_forge_repo(tmp_path / "forge")
    # The API says PR 3 landed as the direct commit: the "(#3)" commit keeps its sha id.
    pr(store.con, REPO, 3, created="2024-04-03T10:30", merged="2024-04-05T09:00", merge_sha=s["d4"])
    ingest_git(store, [tmp_path / "forge"])
    ids = {r[0]: r[1] for r in store.con.execute(
        "SELECT id, merge_sha FROM changes WHERE repo = ?", [REPO]).fetchall()}
    assert ids[f"{REPO}#3"] == s["d4"]
    assert ids[f"{REPO}@{s['s3']}"] == s["s3"]


def test_pull_requests_without_a_clone(store: Store) -> None:
    con = store.con
    pr(con, "o/r", 5, created="2024-05-01T10:00", merged="2024-05-02T10:00", merge_sha="f" * 40,
       additions=7, deletions=3)
    pr_commit(con, "o/r", 5, "1" * 40, authored="2024-05-01T08:00", message="a")
    pr_commit(con, "o/r", 5, "2" * 40, authored="2024-05-01T09:00", message="b")
    pr(con, "o/r", 6, created="2024-05-03T10:00")  # open: no change yet
    review(con, "o/r", 5, "carol", "APPROVED", "2024-05-01T12:00")
    derive_forge(store, "o/r")
    assert con.execute("SELECT id, merge_sha, commits, lines_added, lines_deleted, authors"
                       " FROM changes WHERE repo = 'o/r'").fetchall() == [
        ("o/r#5", "f" * 40, 2, 7, 3, ["Bob Builder"])]
    ms = {n: at for n, at in con.execute("SELECT name, \"at\" FROM milestones WHERE repo = 'o/r'"
                                         ).fetchall()}
    assert ms == {"work_started": t("2024-05-01T08:00"), "ready_for_review": t("2024-05-01T10:00"),
                  "first_review": t("2024-05-01T12:00"), "approved": t("2024-05-01T12:00"),
                  "merged": t("2024-05-02T10:00")}
