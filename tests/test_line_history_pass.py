"""A fresh ``ingest --line-history`` reads new commits and their line history in one paired pass
(``git log --numstat`` and ``git log -p -U0`` side by side). It must store exactly what the two
passes store — an ingest without line history, then ``--line-history`` over the stored commits —
on the diffs that make ``-p`` and ``--numstat`` differ: renames (with and without edits), binary
files, whitespace-only and mode-only changes, a file replaced by a symlink (two diffs of one path
in one commit), paths git quotes, a missing final newline, merges (no diff of their own) and
commits with no change at all."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from gitfixtures import Git
from leadlens.sources.git import ingest as git_ingest
from leadlens.sources.git.ingest import ingest_git
from leadlens.store import Store, open_store

TABLES = ("commits", "commit_files", "line_hunks", "refs", "tags")


def tricky_repo(path: Path) -> dict[str, str]:
    g = Git(path)
    s: dict[str, str] = {}
    day = iter(range(1, 28))

    def commit(label: str, message: str | None = None) -> None:
        s[label] = g.commit(f"{message or label}\n", date=f"2024-02-{next(day):02d}T10:00:00Z")

    body = "".join(f"line {i}\n" for i in range(40))
    g.write("src/app.py", body)
    g.write("data.bin", bytes(range(256)) * 4)
    g.write("sp ace/t\tab \"q\".txt", "one\ntwo\n")
    g.write("caf\u00e9.txt", "x\n")
    g.write("link-me.txt", "target\n")
    commit("root")
    g.run("mv", "src/app.py", "src/main.py")
    commit("pure-rename")
    g.run("mv", "src/main.py", "src/entry.py")
    g.write("src/entry.py", body.replace("line 7\n", "line seven\n") + "line 40\n")
    commit("rename-and-edit")
    g.write("data.bin", bytes(range(255, -1, -1)) * 4)
    commit("binary-edit")
    g.write("src/entry.py", body.replace("line 3\n", "line 3  \n").replace("line 7\n", "line seven\n")
            + "line 40\n")
    commit("whitespace-only")
    (path / "src/entry.py").chmod(0o755)
    commit("mode-only")
    (path / "link-me.txt").unlink()
    os.symlink("src/entry.py", path / "link-me.txt")
    commit("type-change")
    g.write("sp ace/t\tab \"q\".txt", "one\ntwo\nthree")  # no final newline
    g.write("caf\u00e9.txt", "x\ny\n")
    commit("quoted-paths")
    g.run("checkout", "-q", "-b", "side")
    g.write("side.txt", "a\nb\n")
    commit("side")
    g.run("checkout", "-q", "main")
    g.write("src/entry.py", "first\n" + body)
    commit("main-edit")
    s["merge"] = g.merge("side", message="Merge branch 'side'", date="2024-02-27T10:00:00Z")
    s["empty"] = g.commit("empty\n", date="2024-02-28T10:00:00Z", allow_empty=True)
    g.run("tag", "v1", s["merge"])
    return s


def rows(store: Store, table: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in store.con.execute(f"SELECT * FROM {table}").fetchall()]


def differences(a: Path, b: Path, *, runs: bool = True) -> dict[str, tuple[int, int]]:
    """Per table, the rows of ``a`` not in ``b`` and of ``b`` not in ``a`` (EXCEPT ALL: multisets);
    ``runs=False`` leaves out which ingest run stored a commit."""
    with open_store(a) as st:
        con = st.con
        con.execute(f"ATTACH '{b}' AS other (READ_ONLY)")
        out = {}
        for t in TABLES:
            cols = "* EXCLUDE (run_id)" if t == "commits" and not runs else "*"
            one = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {t} EXCEPT ALL"
                              f" SELECT {cols} FROM other.{t})").fetchall()[0][0]
            two = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM other.{t} EXCEPT ALL"
                              f" SELECT {cols} FROM {t})").fetchall()[0][0]
            out[t] = (one, two)
        con.execute("DETACH other")
    return out


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("tricky") / "repo"
    return path, tricky_repo(path)


@pytest.mark.parametrize("jobs", [1, 2])
def test_paired_pass_stores_what_two_passes_store(
        tmp_path: Path, repo: tuple[Path, dict[str, str]], jobs: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path, s = repo
    paired, two = tmp_path / "paired.duckdb", tmp_path / "two.duckdb"
    with open_store(two) as st:
        ingest_git(st, [path], jobs=jobs)
        report = ingest_git(st, [path], line_history=True, jobs=jobs)
        assert report.outcomes[0].hunks_commits == len(s)
    # Batches of two commits, so that a batch boundary falls inside the history.
    monkeypatch.setattr(git_ingest, "BATCH_COMMITS", 2)
    with open_store(paired) as st:
        report = ingest_git(st, [path], line_history=True, jobs=jobs)
        outcome = report.outcomes[0]
        assert not report.failed and outcome.commits_added == len(s)
        assert outcome.hunks_commits == len(s)
        assert rows(st, "commits")  # the comparison below is not between two empty stores
    assert differences(paired, two) == {t: (0, 0) for t in TABLES}


def file_rows(con: duckdb.DuckDBPyConnection, sha: str) -> list[tuple[object, ...]]:
    """A commit's ``commit_files`` rows, by path."""
    return [tuple(r) for r in con.execute(
        "SELECT path, old_path, added, deleted, is_binary FROM commit_files WHERE sha = ?"
        " ORDER BY path", [sha]).fetchall()]


def hunk_rows(con: duckdb.DuckDBPyConnection, sha: str) -> list[tuple[object, ...]]:
    """A commit's ``line_hunks`` rows, by path."""
    return [tuple(r) for r in con.execute(
        "SELECT path, old_start, old_count, new_start, new_count FROM line_hunks"
        " WHERE sha = ? ORDER BY path", [sha]).fetchall()]


def test_exact_rows(tmp_path: Path, repo: tuple[Path, dict[str, str]]) -> None:
    path, s = repo
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [path], line_history=True)
        con = st.con

        def files(label: str) -> list[tuple[object, ...]]:
            return file_rows(con, s[label])

        def hunks(label: str) -> list[tuple[object, ...]]:
            return hunk_rows(con, s[label])

        assert con.execute("SELECT count(*) FROM commits WHERE NOT line_history"
                           ).fetchall() == [(0,)]
        assert files("pure-rename") == [("src/main.py", "src/app.py", 0, 0, False)]
        assert hunks("pure-rename") == []
        assert files("rename-and-edit") == [("src/entry.py", "src/main.py", 2, 1, False)]
        assert hunks("rename-and-edit") == [("src/entry.py", [8, 40], [1, 0], [8, 41], [1, 1])]
        assert files("binary-edit") == [("data.bin", None, None, None, True)]
        assert hunks("binary-edit") == []
        assert hunks("whitespace-only") == [("src/entry.py", [4], [1], [4], [1])]
        assert files("mode-only") == [("src/entry.py", None, 0, 0, False)]
        assert hunks("mode-only") == []
        # A file replaced by a symlink: git shows the path twice; both diffs' hunks are its row.
        assert hunks("type-change") == [("link-me.txt", [1, 0], [1, 0], [0, 1], [0, 1])]
        assert hunks("quoted-paths") == [
            ("caf\u00e9.txt", [1], [0], [2], [1]),
            ("sp ace/t\tab \"q\".txt", [2], [0], [3], [1]),
        ]
        assert files("merge") == [] and hunks("merge") == []
        assert hunks("empty") == []
        # Every text file's hunks add up to numstat's counts here (they need not: docs/benchmarks.md).
        assert con.execute("""
            SELECT count(*) FROM commit_files f JOIN (
                SELECT sha, path, list_sum(new_count) AS a, list_sum(old_count) AS d
                FROM line_hunks) h USING (sha, path)
            WHERE f.added <> h.a OR f.deleted <> h.d""").fetchall() == [(0,)]


def test_old_commits_without_line_history_are_read_after_the_new_ones(
        tmp_path: Path, repo: tuple[Path, dict[str, str]]) -> None:
    """Commits stored earlier without line history get it from the -p pass; the new ones come
    with theirs: every commit has it once, and the hunks equal a fresh store's."""
    path, s = repo
    g = Git.open(path)
    old, fresh = tmp_path / "old.duckdb", tmp_path / "fresh.duckdb"
    with open_store(old) as st:
        ingest_git(st, [path])
    g.run("checkout", "-q", "-b", "later", s["empty"])
    g.write("later.txt", "later\n")
    new = g.commit("later\n", date="2024-03-01T10:00:00Z")
    try:
        with open_store(old) as st:
            report = ingest_git(st, [path], line_history=True)
            assert report.outcomes[0].commits_added == 1
            assert report.outcomes[0].hunks_commits == len(s) + 1
            assert st.con.execute("SELECT count(*) FROM commits WHERE NOT line_history"
                                  ).fetchall() == [(0,)]
        with open_store(fresh) as st:
            ingest_git(st, [path], line_history=True)
        assert differences(old, fresh, runs=False) == {t: (0, 0) for t in TABLES}
    finally:
        g.run("checkout", "-q", "main")
        g.run("branch", "-q", "-D", "later")
    assert new
