"""The line-history (``git log -p -U0``) parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leadlens.model import FileHunks
from leadlens.sources.git.patch import PatchStreamParser, parse_patch, unquote_path

A, B = "a" * 40, "b" * 40

CAPTURED = (
    f"\x1e{A}\n\n"
    "diff --git a/sp ace.txt b/sp ace.txt\n"
    "index 422c2b7..2af1295 100644\n"
    "--- a/sp ace.txt\t\n"
    "+++ b/sp ace.txt\t\n"
    "@@ -1,0 +2 @@ a\n"
    "+c\n"
    "@@ -2,0 +4 @@ b\n"
    "+@@ -9 +9 @@ looks like a hunk but is content\n"
    "diff --git \"a/tab\\there\" \"b/r\\303\\251.txt\"\n"
    "similarity index 100%\n"
    "rename from \"tab\\there\"\n"
    "rename to \"r\\303\\251.txt\"\n"
    "diff --git a/bin.dat b/bin.dat\n"
    "new file mode 100644\n"
    "index 0000000..87dad9c\n"
    "Binary files /dev/null and b/bin.dat differ\n"
    f"\x1e{B}\n\n"
    "diff --git a/gone.txt b/gone.txt\n"
    "deleted file mode 100644\n"
    "--- a/gone.txt\n"
    "+++ /dev/null\n"
    "@@ -1,3 +0,0 @@\n"
    "-x\n-diff --git a/x b/x\n-\x1e" + "c" * 40 + "\n"
).encode()


def test_captured_patch() -> None:
    got = sorted(parse_patch(CAPTURED), key=lambda h: (h.sha, h.path))
    assert got == [
        FileHunks(A, "sp ace.txt", (1, 2), (0, 0), (2, 4), (1, 1)),
        FileHunks(B, "gone.txt", (1,), (3,), (0,), (0,)),
    ]


def test_done_commits_include_those_without_hunks() -> None:
    parser = PatchStreamParser()
    parser.feed(CAPTURED)
    parser.close()
    assert parser.done == 2
    done, hunks = parser.take()
    assert done == [A, B] and len(hunks) == 2 and parser.done == 0


def test_unquote() -> None:
    assert unquote_path(b'"tab\\there"') == "tab\there"
    assert unquote_path(b'"r\\303\\251.txt"') == "r\u00e9.txt"
    assert unquote_path(b'"quote\\"d"') == 'quote"d'
    assert unquote_path(b"plain") == "plain"


_hunk = st.tuples(st.integers(0, 500), st.integers(0, 5), st.integers(0, 500), st.integers(0, 5))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.text("0123456789abcdef", min_size=40, max_size=40),
                       st.dictionaries(st.from_regex(r"[a-z]{1,6}(/[a-z]{1,6})?", fullmatch=True),
                                       st.lists(_hunk, min_size=1, max_size=4), max_size=3)),
             max_size=5, unique_by=lambda t: t[0]),
    st.integers(1, 200),
)
def test_roundtrip(commits: list[tuple[str, dict[str, list[tuple[int, int, int, int]]]]],
                   step: int) -> None:
    out = []
    expected = []
    for sha, files in commits:
        out.append(f"\x1e{sha}\n\n")
        for path, hunks in files.items():
            out.append(f"diff --git a/{path} b/{path}\nindex 1..2 100644\n--- a/{path}\n"
                       f"+++ b/{path}\n")
            for a, b, c, d in hunks:
                out.append(f"@@ -{a},{b} +{c},{d} @@ ctx\n" + "-old\n" * b + "+new\n" * d)
            expected.append(FileHunks(sha, path, *(tuple(h[i] for h in hunks) for i in range(4))))
    data = "".join(out).encode()
    parser = PatchStreamParser()
    got: list[FileHunks] = []
    done: list[str] = []
    for i in range(0, len(data), step):
        parser.feed(data[i : i + step])
        if parser.done >= 2:  # some taken a commit at a time, some in twos
            shas, hunks = parser.take(1 + i % 2)
            done += shas
            got += hunks.rows()
    parser.close()
    shas, hunks = parser.take()
    done += shas
    got += hunks.rows()
    assert got == expected
    assert done == [sha for sha, _ in commits]
