"""Re-runs compare refs only, new commits only are read, rewrites are detected, a kill loses nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from gitfixtures import Git, build_linear
from leadlens.pipeline import ingest_git
from leadlens.sources.git import ingest as ingest_mod
from leadlens.sources.git.client import GitRepo
from leadlens.store import Store, open_store
from leadlens.store.db import migrations


def counts(store: Store) -> tuple[int, int, int]:
    row = store.con.execute(
        "SELECT (SELECT count(*) FROM commits), (SELECT count(*) FROM commits WHERE reachable),"
        " (SELECT count(*) FROM commit_files)").fetchall()[0]
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_unchanged_repo_is_up_to_date_and_idempotent(store: Store, tmp_path: Path) -> None:
    repo = tmp_path / "lin"
    build_linear(repo, 30)
    first = ingest_git(store, [repo])
    assert first.outcomes[0].commits_added == 30
    again = ingest_git(store, [repo])
    assert again.outcomes[0].up_to_date
    assert again.outcomes[0].commits_added == 0
    assert counts(store) == (30, 30, 30)


def test_only_new_commits_are_read(store: Store, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo = tmp_path / "lin"
    build_linear(repo, 10)
    ingest_git(store, [repo])
    build_linear(repo, 5, start_day=20, prefix="d")
    asked: list[int] = []
    real = GitRepo.stream_log

    def spy(self, shas):  # type: ignore[no-untyped-def]
        asked.append(len(shas))
        return real(self, shas)

    monkeypatch.setattr(GitRepo, "stream_log", spy)
    report = ingest_git(store, [repo])
    assert asked == [5]
    assert report.outcomes[0].commits_added == 5
    assert counts(store) == (15, 15, 15)


def test_force_push_marks_unreachable_and_back(store: Store, tmp_path: Path) -> None:
    repo = tmp_path / "lin"
    shas = build_linear(repo, 6)
    ingest_git(store, [repo])
    g = Git.open(repo)
    g.run("reset", "-q", "--hard", shas[3])  # drop the last two commits (a rewrite)
    new = build_linear(repo, 1, start_day=25, prefix="x")
    report = ingest_git(store, [repo])
    outcome = report.outcomes[0]
    assert outcome.commits_added == 1 and outcome.unreachable == 2
    assert any("rewritten" in w for w in outcome.warnings)
    rows = store.con.execute("SELECT sha FROM commits WHERE NOT reachable ORDER BY sha").fetchall()
    assert sorted(r[0] for r in rows) == sorted(shas[4:])
    assert counts(store) == (7, 5, 7)
    # The old history comes back under a branch: reachable again, nothing duplicated.
    g.run("branch", "restored", shas[5])
    ingest_git(store, [repo])
    assert counts(store) == (7, 7, 7)
    assert new[0] in {r[0] for r in store.con.execute("SELECT sha FROM commits").fetchall()}


def test_many_repositories_in_one_store(store: Store, tmp_path: Path,
                                        history_repo: tuple[Path, dict[str, str]]) -> None:
    build_linear(tmp_path / "one", 3)
    build_linear(tmp_path / "two", 4, prefix="t")
    report = ingest_git(store, [tmp_path / "one", tmp_path / "two", history_repo[0]], jobs=2)
    assert [o.commits_added for o in report.outcomes] == [3, 4, 16]
    rows = store.con.execute("SELECT repo, count(*) FROM commits GROUP BY repo ORDER BY repo")
    assert rows.fetchall() == [("history", 16), ("one", 3), ("two", 4)]


def test_chunked_parallel_read_equals_single(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo = tmp_path / "lin"
    build_linear(repo, 60)
    monkeypatch.setattr(ingest_mod, "MIN_CHUNK", 7)
    monkeypatch.setattr(ingest_mod, "BATCH_COMMITS", 5)
    with open_store(tmp_path / "a.duckdb") as a, open_store(tmp_path / "b.duckdb") as b:
        ingest_git(a, [repo], jobs=3, line_history=True)
        ingest_git(b, [repo], jobs=1, line_history=True)
        q = ("SELECT sha, path, added, deleted FROM commit_files ORDER BY sha, path")
        assert a.con.execute(q).fetchall() == b.con.execute(q).fetchall()
        q2 = "SELECT sha, path, new_start FROM line_hunks ORDER BY sha, path"
        assert a.con.execute(q2).fetchall() == b.con.execute(q2).fetchall()
        assert counts(a) == (60, 60, 60)


KILLER = """
import os, signal, sys
sys.path.insert(0, {src!r})
import leadlens.sources.git.ingest as ing
real = ing.write_commits
calls = []
def write_then_die(con, commits, files):
    n = real(con, commits, files)
    calls.append(n)
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return n
ing.write_commits = write_then_die
ing.BATCH_COMMITS = 10
ing.MIN_CHUNK = 1000
from leadlens.store import open_store
ing.ingest_git(open_store({store!r}), [{repo!r}], jobs=1)
"""


def test_sigkill_midway_then_next_run_completes(tmp_path: Path) -> None:
    repo = tmp_path / "lin"
    build_linear(repo, 45)
    db = tmp_path / "killed.duckdb"
    src = str(Path(__file__).resolve().parents[1] / "src")
    proc = subprocess.run([sys.executable, "-c", KILLER.format(src=src, store=str(db),
                                                                repo=str(repo))],
                          capture_output=True, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    with open_store(db) as st:
        # Exactly the two committed batches are visible; no cursor was moved.
        assert counts(st) == (20, 20, 20)
        assert st.con.execute("SELECT count(*) FROM sync_state").fetchall()[0] == (0,)
        report = ingest_git(st, [repo])
        assert report.outcomes[0].commits_added == 25
        assert counts(st) == (45, 45, 45)
        assert ingest_git(st, [repo]).outcomes[0].up_to_date
    assert os.path.exists(db)


def test_line_history_added_later_covers_old_commits(store: Store, tmp_path: Path) -> None:
    repo = tmp_path / "lin"
    build_linear(repo, 8)
    ingest_git(store, [repo])
    assert store.con.execute("SELECT count(*) FROM line_hunks").fetchall()[0] == (0,)
    report = ingest_git(store, [repo], line_history=True)
    assert report.outcomes[0].hunks_commits == 8
    assert store.con.execute("SELECT count(*) FROM line_hunks").fetchall()[0] == (8,)
    assert ingest_git(store, [repo], line_history=True).outcomes[0].up_to_date


def test_line_history_ingest_keeps_numstat_counts(tmp_path: Path,
                                               history_repo: tuple[Path, dict[str, str]]) -> None:
    """A store ingested with --line-history holds exactly the commits and files of one without."""
    extra = tmp_path / "typechange"
    g = Git(extra)
    g.write("a.txt", "one\ntwo\n")
    g.write("gone.bin", b"\0\1\2")
    g.commit("add\n")
    (extra / "a.txt").unlink()
    (extra / "a.txt").symlink_to("target")  # a type change: two patch sections, one numstat row
    (extra / "gone.bin").unlink()
    g.commit("typechange\n", date="2024-01-02T00:00:00Z")
    q_files = "SELECT repo, sha, path, old_path, added, deleted, is_binary FROM commit_files ORDER BY ALL"
    q_commits = ("SELECT * EXCLUDE (run_id, line_history) FROM commits ORDER BY repo, sha")
    repos = [history_repo[0], extra]
    with open_store(tmp_path / "a.duckdb") as a, open_store(tmp_path / "b.duckdb") as b:
        ingest_git(a, repos)
        report = ingest_git(b, repos, line_history=True)
        assert [o.hunks_commits for o in report.outcomes] == [16, 2]
        assert a.con.execute(q_files).fetchall() == b.con.execute(q_files).fetchall()
        assert a.con.execute(q_commits).fetchall() == b.con.execute(q_commits).fetchall()
        assert b.con.execute("SELECT count(*) FROM commits WHERE NOT line_history").fetchall() == [(0,)]


def test_migrations_fill_derived_columns_of_an_older_store(
        tmp_path: Path, history_repo: tuple[Path, dict[str, str]]) -> None:
    path = tmp_path / "old.duckdb"
    with open_store(path) as st:
        ingest_git(st, [history_repo[0]])
        want = st.con.execute("SELECT id, authors FROM changes ORDER BY id").fetchall()
        flagged = st.con.execute("SELECT change_id, name FROM milestones WHERE flagged"
                                 " ORDER BY ALL").fetchall()
        assert len(flagged) == 6  # the 1985 and the 2099 commits: all three git milestones
        # As a store at schema 2 (the previous release) looks: none of 003-005 applied yet.
        st.con.execute("ALTER TABLE changes DROP COLUMN authors")
        st.con.execute("ALTER TABLE change_commits DROP COLUMN author_time")
        st.con.execute("ALTER TABLE change_commits DROP COLUMN committer_time")
        st.con.execute("DROP TABLE line_changes")
        st.con.execute("DROP TABLE rewritten_lines")
        for table, column in (("milestones", "flagged"), ("repos", "shallow_commits"),
                              ("changes", "shallow_cut")):  # 008's
            st.con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        for version, _, sql in migrations():  # and the tables of later migrations
            if version > 5:
                for table in re.findall(r"CREATE TABLE (\w+)", sql):
                    st.con.execute(f"DROP TABLE {table}")
        st.con.execute("DELETE FROM schema_migrations WHERE version > 2")
    with open_store(path) as st:  # applies 003-005 again: 003 and 005 fill from stored rows
        assert st.con.execute("SELECT id, authors FROM changes ORDER BY id").fetchall() == want
        assert st.con.execute("SELECT count(*) FROM change_commits cc JOIN commits c USING"
                              " (repo, sha) WHERE cc.author_time = c.author_time"
                              " AND cc.committer_time = c.committer_time").fetchall() == [(16,)]
        # 008 flags the milestones that came from implausible dates.
        assert st.con.execute("SELECT change_id, name FROM milestones WHERE flagged"
                              " ORDER BY ALL").fetchall() == flagged
