"""Line ages and rework rate on tiny repositories whose every number can be checked by hand."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest

from gitfixtures import Git
from leadlens.derive.line_ages import derive_line_ages
from leadlens.engines import connect
from leadlens.metrics.rework import Rework, rework
from leadlens.pipeline import ingest_git
from leadlens.store import Store


def day(n: int) -> str:
    """Noon UTC on day ``n`` of 2024 (day 1 = 1 January)."""
    return f"2024-01-{n:02d}T12:00:00Z" if n <= 31 else f"2024-02-{n - 31:02d}T12:00:00Z"


def lines(*words: str) -> str:
    return "".join(f"{w}\n" for w in words)


def ingest(store: Store, path: Path, *, line_history: bool = True) -> str:
    report = ingest_git(store, [path], line_history=line_history, jobs=1)
    assert not report.failed, report.outcomes
    return report.outcomes[0].repo


def rewritten(store: Store, sha: str) -> list[tuple[str | None, int]]:
    """(born_sha, lines) of what ``sha`` rewrote or deleted."""
    rows = store.con.execute("SELECT born_sha, lines FROM rewritten_lines WHERE sha = ?"
                             " ORDER BY born_sha NULLS FIRST", [sha]).fetchall()
    return [(r[0], r[1]) for r in rows]


def changed(store: Store, sha: str) -> tuple[int, int, int] | None:
    rows = store.con.execute("SELECT changed_lines, old_lines, new_lines FROM line_changes"
                             " WHERE sha = ?", [sha]).fetchall()
    return (rows[0][0], rows[0][1], rows[0][2]) if rows else None


def rework_of(store: Store, repo: str, shas: list[str] | None = None, days: float = 21
              ) -> Rework | None:
    """Rework over the changes landed by ``shas`` (every change of ``repo`` when None)."""
    backend = connect(store)
    where = "" if shas is None else " AND merge_sha IN (SELECT unnest(?::VARCHAR[]))"
    params: list[object] = [repo] if shas is None else [repo, shas]
    ids = [r[0] for r in store.con.execute(
        f"SELECT id FROM changes WHERE repo = ?{where}", params).fetchall()]
    keys = ibis.memtable({"repo": [repo] * len(ids), "change_id": ids},
                         schema={"repo": "string", "change_id": "string"})
    return rework(backend, keys, days)


def test_line_rewritten_after_four_days(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    g.write("f.txt", lines("a", "b", "c"))
    c1 = g.commit("add f\n", date=day(1))
    g.write("f.txt", lines("a", "B", "c"))
    c2 = g.commit("fix b\n", date=day(5))
    repo = ingest(store, g.path)

    assert changed(store, c1) == (3, 0, 3)  # a new file: three purely new lines
    assert rewritten(store, c1) == []
    assert changed(store, c2) == (1, 1, 1)  # one line rewritten in place, counted once
    assert rewritten(store, c2) == [(c1, 1)]

    # The rewritten line was 4 days old: recent at 21 and 5 days, not at 4 (strictly less) or 3.
    assert rework_of(store, repo, [c2]) == Rework(1.0, 1, 1, 1, 1, 21)
    assert rework_of(store, repo, [c2], days=5) == Rework(1.0, 1, 1, 1, 1, 5)
    assert rework_of(store, repo, [c2], days=4) == Rework(0.0, 0, 1, 1, 1, 4)
    assert rework_of(store, repo, [c2], days=3) == Rework(0.0, 0, 1, 1, 1, 3)
    # Both changes: 1 recent line of 3 + 1 changed lines.
    assert rework_of(store, repo) == Rework(0.25, 1, 4, 2, 2, 21)


def test_line_rewritten_after_forty_days_is_not_recent(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    g.write("f.txt", lines("a", "b"))
    c1 = g.commit("add f\n", date=day(1))
    g.write("f.txt", lines("A", "b"))
    c2 = g.commit("fix a\n", date=day(41))
    repo = ingest(store, g.path)
    assert rewritten(store, c2) == [(c1, 1)]
    assert rework_of(store, repo, [c2]) == Rework(0.0, 0, 1, 1, 1, 21)
    assert rework_of(store, repo, [c2], days=41) == Rework(1.0, 1, 1, 1, 1, 41)


def test_only_added_lines_give_rate_zero(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    g.write("f.txt", lines("a", "b"))
    g.commit("add f\n", date=day(1))
    g.write("f.txt", lines("a", "b", "c", "d"))
    c2 = g.commit("append\n", date=day(2))
    repo = ingest(store, g.path)
    assert changed(store, c2) == (2, 0, 2)
    assert rework_of(store, repo, [c2]) == Rework(0.0, 0, 2, 1, 1, 21)


def test_hunks_apply_last_to_first(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    g.write("f.txt", lines("L1", "L2", "L3", "L4", "L5", "L6"))
    c1 = g.commit("add f\n", date=day(1))
    # Two lines inserted after line 1 and line 4 rewritten: hunks -1,0 +2,2 and -4 +6.
    g.write("f.txt", lines("L1", "N1", "N2", "L2", "L3", "X4", "L5", "L6"))
    c2 = g.commit("insert and fix\n", date=day(2))
    # Lines 2 (N1) and 6 (X4) are both c2's. Applied first to last, line 6 would still be L4.
    g.write("f.txt", lines("L1", "M", "N2", "L2", "L3", "Y", "L5", "L6"))
    c3 = g.commit("fix again\n", date=day(3))
    ingest(store, g.path)
    assert changed(store, c2) == (3, 1, 3)
    assert rewritten(store, c2) == [(c1, 1)]
    assert changed(store, c3) == (2, 2, 2)
    assert rewritten(store, c3) == [(c2, 2)]


def test_rename_then_edit_keeps_births(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    g.write("a.txt", lines("one", "two", "three", "four", "five"))
    c1 = g.commit("add a\n", date=day(1))
    g.run("mv", "a.txt", "b.txt")
    g.commit("rename a to b\n", date=day(2))
    g.write("b.txt", lines("one", "TWO", "three", "four", "five"))
    c3 = g.commit("edit b\n", date=day(3))
    # A rename with an edit in the same commit: its hunks are against the old file.
    g.run("mv", "b.txt", "c.txt")
    g.write("c.txt", lines("one", "TWO", "three", "four", "FIVE"))
    c4 = g.commit("rename b to c and edit\n", date=day(4))
    # A new a.txt is a new file, not the renamed one.
    g.write("a.txt", lines("fresh"))
    c5 = g.commit("new a\n", date=day(5))
    g.write("a.txt", lines("FRESH"))
    c6 = g.commit("edit new a\n", date=day(6))
    repo = ingest(store, g.path)
    assert rewritten(store, c3) == [(c1, 1)]
    assert rewritten(store, c4) == [(c1, 1)]
    assert rewritten(store, c6) == [(c5, 1)]
    assert rework_of(store, repo, [c3, c4, c6]) == Rework(1.0, 3, 3, 3, 3, 21)


def test_file_deletion_rewrites_all_its_lines(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    g.write("keep.txt", lines("k"))
    g.write("x.txt", lines("1", "2", "3", "4"))
    c1 = g.commit("add\n", date=day(1))
    g.write("x.txt", lines("1", "2", "3", "4", "5"))
    c2 = g.commit("append\n", date=day(30))
    (g.path / "x.txt").unlink()
    c3 = g.commit("delete x\n", date=day(40))
    repo = ingest(store, g.path)
    assert changed(store, c3) == (5, 5, 0)
    assert rewritten(store, c3) == sorted([(c1, 4), (c2, 1)])
    # Only the line from day 30 is younger than 21 days.
    assert rework_of(store, repo, [c3]) == Rework(0.2, 1, 5, 1, 1, 21)


def test_lines_before_known_history_are_never_recent(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    g.write("f.txt", lines("a", "b", "c"))
    c1 = g.commit("add f\n", date=day(1))
    g.write("f.txt", lines("a", "b", "C", "d", "e"))
    c2 = g.commit("fix c, append\n", date=day(2))
    g.write("f.txt", lines("a", "B", "C", "D", "e"))
    c3 = g.commit("fix b and d\n", date=day(3))
    repo = ingest(store, g.path)
    # As if the store's history began after c1 (a shallow clone): c1's lines are of unknown birth,
    # and c2's hunk refers to line 3 of a file whose known list is empty.
    store.con.execute("DELETE FROM line_hunks WHERE sha = ?", [c1])
    assert derive_line_ages(store, repo) == 2
    assert changed(store, c1) is None
    assert rewritten(store, c2) == [(None, 1)]
    assert rewritten(store, c3) == sorted([(None, 1), (c2, 1)], key=lambda r: r[0] or "")
    assert rework_of(store, repo, [c2, c3]) == Rework(0.2, 1, 5, 2, 2, 21)


def test_commit_without_line_history_makes_births_unknown(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    g.write("f.txt", lines("a", "b"))
    c1 = g.commit("add f\n", date=day(1))
    repo = ingest(store, g.path, line_history=True)
    g.write("f.txt", lines("a", "b", "c"))
    c2 = g.commit("append\n", date=day(2))
    ingest(store, g.path, line_history=False)  # c2 without hunks
    g.write("f.txt", lines("A", "b", "C"))
    c3 = g.commit("fix\n", date=day(3))
    ingest(store, g.path, line_history=False)
    # Now give c3 alone its hunks (-1 +1 and -3 +3), as if its history had been read.
    store.con.execute("UPDATE commits SET line_history = TRUE WHERE sha = ?", [c3])
    store.con.execute("INSERT INTO line_hunks VALUES (?, ?, 'f.txt', [1, 3], [1, 1], [1, 3], [1, 1])",
                      [repo, c3])
    derive_line_ages(store, repo)
    assert changed(store, c2) is None
    assert rewritten(store, c3) == [(None, 2)]  # c2 touched f.txt: its length is known, not births
    assert rework_of(store, repo, [c1, c2, c3]) == Rework(0.0, 0, 4, 2, 3, 21)
    assert rewritten(store, c1) == []


def test_no_line_history_gives_none(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    g.write("f.txt", lines("a"))
    g.commit("add f\n", date=day(1))
    g.write("f.txt", lines("b"))
    g.commit("fix\n", date=day(2))
    repo = ingest(store, g.path, line_history=False)
    assert rework_of(store, repo) is None
    assert store.con.execute("SELECT count(*) FROM line_changes").fetchall() == [(0,)]


def test_merge_commits_are_not_counted(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    g.write("f.txt", lines("a", "b"))
    c1 = g.commit("add f\n", date=day(1))
    g.run("checkout", "-q", "-b", "topic")
    g.write("f.txt", lines("a", "B"))
    c2 = g.commit("fix b\n", date=day(2))
    g.run("checkout", "-q", "main")
    g.merge("topic", message="Merge pull request #3 from bob/topic\n", date=day(3))
    repo = ingest(store, g.path)
    assert rewritten(store, c2) == [(c1, 1)]
    got = rework_of(store, repo)
    # Two changes (c1, and the merge with c2): 1 recent line of 2 + 1 changed; the merge is no commit.
    assert got == Rework(pytest.approx(1 / 3), 1, 3, 2, 2, 21)  # type: ignore[arg-type]


def test_rederive_gives_identical_rows(store: Store, tmp_path: Path) -> None:
    g = Git(tmp_path / "r")
    for i in range(6):
        g.write("f.txt", lines(*(f"{w}{i if w in 'bd' else ''}" for w in "abcde")))
        g.write(f"g{i % 2}.txt", lines(*(str(j * i) for j in range(i + 2))))
        g.commit(f"c{i}\n", date=day(1 + i * 7))
    repo = ingest(store, g.path)
    q = ("SELECT * FROM line_changes ORDER BY ALL", "SELECT * FROM rewritten_lines ORDER BY ALL")
    before = [store.con.execute(s).fetchall() for s in q]
    assert before[1]
    assert derive_line_ages(store, repo) == len(before[0])
    assert [store.con.execute(s).fetchall() for s in q] == before
