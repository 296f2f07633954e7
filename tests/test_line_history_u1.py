"""The one ``git log -p -U1`` pass: files counted as ``--numstat`` counts them, and hunks as ``-U0``
ranges of the untrimmed diff, on the shapes that make the conversion from ``-U1`` hunks tricky:
several changes in one ``-U1`` hunk (1 and 2 context lines apart), changes at line 1 and at the
end of the file, pure insertions and deletions (an empty range prints the line before it),
missing final newlines on either side, new empty and deleted files, binary files whose diff shows
no content (numstat's unknown counts), and a file over 1 KB whose trimmed common tail makes git's
own ``-U0`` place an insertion elsewhere."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

from gitfixtures import Git
from leadlens.model import Commit
from leadlens.sources.git import onepass
from leadlens.sources.git.client import open_repo
from leadlens.sources.git.ingest import ingest_git
from leadlens.sources.git.onepass import OnePassParser
from leadlens.sources.git.patch import parse_patch
from leadlens.store import open_store
from test_line_history_pass import file_rows, hunk_rows

F20 = "".join(f"l{i}\n" for i in range(1, 21))
# The new f.txt: l1 changed (line 1), l5 changed and l7 deleted (1 line apart: one -U1 hunk),
# "new" inserted after l10 and l13 changed (2 lines apart: one hunk), l21 appended (end of file).
F20_NEW = ("L1\nl2\nl3\nl4\nL5\nl6\nl8\nl9\nl10\nnew\nl11\nl12\nL13\n"
           + "".join(f"l{i}\n" for i in range(14, 22)))
# A file of 1,033 bytes with an insertion whose place git's -U0 (which trims the common tail of
# the two sides, in 1 KB blocks, before diffing) aligns two lines higher than the full diff.
HEAD = "\tcheck 1\n'\n\n"
BLOCK = "test_expect_success \"new\" '\n\tgit config a b &&\n\n\tgit clone x y &&\n\ttest_grep z err\n'\n\n"
TAIL = ("test_expect_success \"next\" '\n"
        + "".join(f"\tfiller line {i:04d} &&\n" for i in range(60)))[:1019] + "\n"


def build(path: Path) -> dict[str, str]:
    g = Git(path)
    g.run("config", "diff.suppressBlankEmpty", "true")  # the pass must not see a blank as an empty line
    s: dict[str, str] = {}
    g.write("f.txt", F20)
    g.write("top.txt", "a\nb\nc\n")
    g.write("nonl.txt", "x\ny")
    g.write("nl.txt", "p\nq\n")
    g.write("gone.txt", "g1\ng2\n")
    g.write("data.bin", bytes(range(256)))
    g.write("big.txt", HEAD + TAIL)
    s["base"] = g.commit("base\n", date="2024-04-01T10:00:00Z")
    g.write("f.txt", F20_NEW)
    g.write("top.txt", "z\na\nb\nc\n")
    g.write("nonl.txt", "x\nY\n")
    g.write("nl.txt", "p\nq")
    (path / "gone.txt").unlink()
    g.write("empty.txt", "")
    s["edits"] = g.commit("edits\n", date="2024-04-02T10:00:00Z")
    g.run("mv", "data.bin", "moved.bin")
    s["binary-rename"] = g.commit("binary rename\n", date="2024-04-03T10:00:00Z")
    (path / "moved.bin").chmod(0o755)
    s["binary-mode"] = g.commit("binary mode\n", date="2024-04-04T10:00:00Z")
    g.write("big.txt", HEAD + BLOCK + TAIL)
    s["slide"] = g.commit("slide\n", date="2024-04-05T10:00:00Z")
    g.run("rm", "-q", "empty.txt")
    s["empty-gone"] = g.commit("empty gone\n", date="2024-04-06T10:00:00Z")
    return s


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("u1") / "repo"
    return path, build(path)


def test_rows(tmp_path: Path, repo: tuple[Path, dict[str, str]]) -> None:
    path, s = repo
    with open_store(tmp_path / "s.duckdb") as st:
        report = ingest_git(st, [path], line_history=True)
        assert not report.failed
        con = st.con

        def files(label: str) -> list[tuple[object, ...]]:
            return file_rows(con, s[label])

        def hunks(label: str) -> list[tuple[object, ...]]:
            return hunk_rows(con, s[label])

        assert files("edits") == [
            ("empty.txt", None, 0, 0, False),
            ("f.txt", None, 5, 4, False),
            ("gone.txt", None, 0, 2, False),
            ("nl.txt", None, 1, 1, False),
            ("nonl.txt", None, 1, 1, False),
            ("top.txt", None, 1, 0, False),
        ]
        assert hunks("edits") == [
            # l1; l5; l7 deleted (after new line 6); "new" inserted (after old line 10) as new
            # line 10; l13; l21 appended after old line 20.
            ("f.txt", [1, 5, 7, 10, 13, 20], [1, 1, 1, 0, 1, 0], [1, 5, 6, 10, 13, 21],
             [1, 1, 0, 1, 1, 1]),
            ("gone.txt", [1], [2], [0], [0]),  # the whole file deleted: "-1,2 +0,0"
            ("nl.txt", [2], [1], [2], [1]),  # the final newline removed
            ("nonl.txt", [2], [1], [2], [1]),  # a final newline added
            ("top.txt", [0], [0], [1], [1]),  # inserted before line 1: "-0,0 +1"
        ]
        # Binary blobs whose diff shows no content: numstat's unknown counts, no hunks.
        assert files("binary-rename") == [("moved.bin", "data.bin", None, None, True)]
        assert files("binary-mode") == [("moved.bin", None, None, None, True)]
        assert hunks("binary-rename") == hunks("binary-mode") == []
        # The full diff places the insertion after the blank line (old line 3); git's -U0 says
        # "-1,0 +2,7" (checked below): the same 7 lines, aligned on the trimmed file.
        assert files("slide") == [("big.txt", None, 7, 0, False)]
        assert hunks("slide") == [("big.txt", [3], [0], [4], [7])]
        assert files("empty-gone") == [("empty.txt", None, 0, 0, False)]
        assert hunks("empty-gone") == []


def test_files_equal_numstat_and_hunks_equal_git_u0(
        tmp_path: Path, repo: tuple[Path, dict[str, str]]) -> None:
    """commit_files equal the ingest without line history (``--numstat``); line_hunks equal git's
    own ``-U0`` on every file but the one whose common tail git trims."""
    path, s = repo
    with open_store(tmp_path / "lh.duckdb") as st:
        ingest_git(st, [path], line_history=True)
        mine = {(sha, p): (a, b, c, d) for sha, p, a, b, c, d in st.con.execute(
            "SELECT sha, path, old_start, old_count, new_start, new_count FROM line_hunks"
        ).fetchall()}
        lh_files = sorted(st.con.execute("SELECT * FROM commit_files").fetchall())
    with open_store(tmp_path / "plain.duckdb") as st:
        ingest_git(st, [path])
        assert sorted(st.con.execute("SELECT * FROM commit_files").fetchall()) == lh_files
    out = subprocess.run(["git", "log", "-p", "-U0", "--format=%x1e%H", "--src-prefix=a/",
                          "--dst-prefix=b/"], cwd=path, capture_output=True, check=True).stdout
    theirs = {(h.sha, h.path): (list(h.old_start), list(h.old_count), list(h.new_start),
                                list(h.new_count)) for h in parse_patch(out)}
    assert theirs.pop((s["slide"], "big.txt")) == ([1], [0], [2], [7])
    assert mine.pop((s["slide"], "big.txt")) == ([3], [0], [4], [7])
    assert mine == theirs
    assert len(mine) == 11  # base: 6 text files; edits: 5 with hunks


@pytest.mark.parametrize("piece", [1, 7, 4096])
def test_any_pieces_parse_alike(repo: tuple[Path, dict[str, str]], piece: int,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """git's pipe is read in pieces of any size: the rows do not depend on where they end, nor on
    how much the parser holds before it parses (here: every piece that completes a record)."""
    path, s = repo
    out = b"".join(open_repo(path).stream_patch([s[k] for k in reversed(s)]))

    def parse(data: bytes, size: int) -> tuple[list[Commit], pa.Table]:
        parser = OnePassParser()
        for i in range(0, len(data), size):
            parser.feed(data[i : i + size])
        parser.close()
        commits, hunks = parser.take()
        return commits, hunks.table("r")

    whole = parse(out, len(out))
    monkeypatch.setattr(onepass, "_PARSE_BYTES", 1)
    pieces = parse(out, piece)
    assert pieces[0] == whole[0] and pieces[1].equals(whole[1])
    assert [c.sha for c in whole[0]] == [s[k] for k in reversed(s)]
    assert whole[1].num_rows == 12  # base: 6 text files; edits: 5 with hunks; slide: 1
