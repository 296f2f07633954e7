"""Pure parser for ``git log -p -U0 --format=%x1e%H``: per commit and file, the changed line ranges.

Only three kinds of line matter and none can occur inside a hunk's content (content lines start
with ``+``, ``-``, a space or ``\\``): the ``\\x1e<sha>`` commit marker, ``diff --git`` headers and
``@@ -a,b +c,d @@`` hunk headers. Commit and file headers are found with ``bytes.find``, and each
file's hunk headers with one ``findall`` whose literal prefix (``\\n@@ -``) lets the regular
expression engine skip the content of big diffs at C speed; the numbers stay bytes until Arrow
converts a whole batch of them at once (:meth:`HunkColumns.table`).

The ingest reads ``-U1`` instead (sources/git/onepass.py: git trims the common tail of a diff
without context, so ``-U0`` is not the diff ``--numstat`` counts); this parser serves
benchmarks/numstat_context.py and the tests that compare with git's own ``-U0``, and the path
helpers serve both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import accumulate
from typing import Generic, Protocol, Self, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from leadlens.model import FileHunks
from leadlens.sources.git.parse import PATCH_FORMAT, LogParseError, decode

__all__ = ["HUNK_SCHEMA", "PATCH_FORMAT", "Finished", "HunkColumns", "PatchStreamParser", "header_path",
           "parse_patch", "unquote_path"]


HUNK_SCHEMA = pa.schema(
    [
        ("repo", pa.string()),
        ("sha", pa.string()),
        ("path", pa.string()),
        ("old_start", pa.list_(pa.int32())),
        ("old_count", pa.list_(pa.int32())),
        ("new_start", pa.list_(pa.int32())),
        ("new_count", pa.list_(pa.int32())),
    ]
)
_COMMIT = b"\n\x1e"
_FILE = b"\ndiff --git "
_HUNK_AT = b"\n@@ -"
# A hunk header's ranges, and their parts (Arrow's RE2 syntax; a count git leaves out is 1).
_HUNK = re.compile(rb"\n@@ -(\d+(?:,\d+)? \+\d+(?:,\d+)?) @@")
_RANGE = r"^(?P<a>\d+)(?:,(?P<b>\d+))? \+(?P<c>\d+)(?:,(?P<d>\d+))?$"
_SHA = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_ESCAPES = {
    ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10, ord("v"): 11, ord("f"): 12,
    ord("r"): 13, ord('"'): 34, ord("\\"): 92,
}



def unquote_path(raw: bytes) -> str:
    """Undo git's C-style quoting of a path (``"tab\\there"``, ``"r\\303\\251.txt"``)."""
    if not (len(raw) >= 2 and raw[:1] == b'"' and raw[-1:] == b'"'):
        return decode(raw)
    body = raw[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == 92 and i + 1 < len(body):  # backslash
            nxt = body[i + 1]
            if 48 <= nxt <= 55 and body[i + 1 : i + 4].isdigit():
                out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return decode(bytes(out))


def _strip_prefix(raw: bytes, prefix: bytes) -> bytes:
    # A path with a space gets a trailing TAB on ---/+++ lines; quoted paths keep the prefix inside.
    raw = raw.rstrip(b"\t")
    if raw.startswith(b'"') and raw[1 : 1 + len(prefix)] == prefix:
        return b'"' + raw[1 + len(prefix) :]
    return raw[len(prefix) :] if raw.startswith(prefix) else raw


def header_path(header: bytes) -> str:
    """The file's path (the new one, or the old one when deleted) from a diff header block."""
    minus = plus = rename_to = None
    lines = header.split(b"\n")
    for line in lines[1:]:
        if line.startswith(b"+++ "):
            plus = line[4:]
        elif line.startswith(b"--- "):
            minus = line[4:]
        elif line.startswith(b"rename to "):
            rename_to = line[10:]
    if plus is not None and plus.rstrip(b"\t") != b"/dev/null":
        return unquote_path(_strip_prefix(plus, b"b/"))
    if minus is not None and minus.rstrip(b"\t") != b"/dev/null":
        return unquote_path(_strip_prefix(minus, b"a/"))
    if rename_to is not None:
        return unquote_path(rename_to)
    # Binary or mode-only change: "diff --git a/X b/X" with X twice.
    rest = lines[0][len(b"diff --git ") :]
    if rest.startswith(b'"'):
        end = rest.index(b'"', 1)
        while rest[end - 1] == 92:  # escaped quote
            end = rest.index(b'"', end + 1)
        second = rest[end + 2 :]
        return unquote_path(_strip_prefix(second, b"b/"))
    half = (len(rest) - 1) // 2
    return unquote_path(_strip_prefix(rest[half + 1 :], b"b/"))


class HunkColumns:
    """The hunks of whole commits, column by column: one row per commit and file that has hunks.

    Each hunk is kept as the bytes git printed between ``@@ -`` and `` @@`` (``a,b +c,d``), flat
    across rows (``lengths`` says how many hunks each row has); :meth:`table` splits and converts
    them all at once.
    """

    def __init__(self) -> None:
        self.sha: list[str] = []
        self.path: list[str] = []
        self.lengths: list[int] = []
        self.ranges: list[bytes] = []

    def __len__(self) -> int:
        return len(self.sha)

    def add(self, sha: str, path: str, ranges: list[bytes]) -> None:
        self.sha.append(sha)
        self.path.append(path)
        self.lengths.append(len(ranges))
        self.ranges.extend(ranges)

    def split(self, rows: int) -> HunkColumns:
        """Keep the first ``rows`` rows; return the others."""
        cut = sum(self.lengths[:rows])
        rest = HunkColumns()
        rest.sha, rest.path = self.sha[rows:], self.path[rows:]
        rest.lengths, rest.ranges = self.lengths[rows:], self.ranges[cut:]
        self.sha, self.path = self.sha[:rows], self.path[:rows]
        self.lengths, self.ranges = self.lengths[:rows], self.ranges[:cut]
        return rest

    def table(self, repo: str) -> pa.Table:
        offsets = pa.array([0, *accumulate(self.lengths)], pa.int32())
        parts = pc.extract_regex(pa.array(self.ranges, pa.string()), _RANGE)
        lists = []
        for name in ("a", "b", "c", "d"):
            text = parts.field(name)
            if name in ("b", "d"):  # a count git leaves out is 1
                text = pc.if_else(pc.equal(text, ""), "1", text)
            lists.append(pa.ListArray.from_arrays(offsets, text.cast(pa.int32())))
        n = len(self.sha)
        return pa.Table.from_arrays(
            [pa.array([repo] * n, pa.string()), pa.array(self.sha, pa.string()),
             pa.array(self.path, pa.string()), *lists], schema=HUNK_SCHEMA)

    def rows(self) -> list[FileHunks]:
        """The rows as records (tests, and callers that want a few)."""
        t = self.table("")
        cols = [t.column(name).to_pylist() for name in HUNK_SCHEMA.names[1:]]
        return [FileHunks(sha, path, tuple(a), tuple(b), tuple(c), tuple(d))
                for sha, path, a, b, c, d in zip(*cols, strict=True)]


class _Rows(Protocol):
    def __len__(self) -> int: ...
    def split(self, rows: int) -> Self: ...


T = TypeVar("T")
R = TypeVar("R", bound=_Rows)


class Finished(Generic[T, R]):
    """What a stream parser has finished and not yet handed out: commits (``items``), how many
    of the rows in ``rows`` each has, in order; ``take`` hands out the first ones with theirs."""

    def __init__(self, fresh: Callable[[], R]) -> None:
        self.fresh = fresh
        self.items: list[T] = []
        self.counts: list[int] = []
        self.rows: R = fresh()

    def __len__(self) -> int:
        return len(self.items)

    def add(self, item: T, rows: int) -> None:
        """``item`` is finished; its ``rows`` are the last ones added to ``rows``."""
        self.items.append(item)
        self.counts.append(rows)

    def take(self, n: int | None = None) -> tuple[list[T], R]:
        """The first ``n`` (default: all) finished items and their rows; they are forgotten."""
        n = len(self.items) if n is None else n
        items, self.items = self.items[:n], self.items[n:]
        rows, self.counts = sum(self.counts[:n]), self.counts[n:]
        out = self.rows
        if rows == len(out):
            self.rows = self.fresh()
        else:
            self.rows = out.split(rows)
        return items, out


class PatchStreamParser:
    """Incremental parser: ``feed`` bytes, ``close`` at end; ``take`` the commits done so far."""

    def __init__(self) -> None:
        self._buf = b""
        self._held: list[bytes] = []  # data read since the buffer was last cut
        self._sha: str | None = None
        # The current commit's hunks per path, in order: git shows a path twice when its type
        # changes (a file replaced by a symlink), and both diffs' hunks are the path's.
        self._files: dict[str, list[list[bytes]]] = {}
        self._done: Finished[str, HunkColumns] = Finished(HunkColumns)

    @property
    def done(self) -> int:
        """Commits complete so far and not yet taken."""
        return len(self._done)

    def take(self, n: int | None = None) -> tuple[list[str], HunkColumns]:
        """The first ``n`` (default: all) complete commits, including those without hunks, and
        their rows; they are forgotten here."""
        return self._done.take(n)

    def feed(self, data: bytes) -> None:
        # Nothing is complete until a commit or a file starts: until then the data is only kept,
        # so a big diff read in small pieces is not searched and copied again for each piece.
        edge = (self._held[-1] if self._held else self._buf)[-len(_FILE) :] + data
        if _COMMIT not in edge and _FILE not in edge:
            self._held.append(data)
            return
        self._buf = b"".join((self._buf, *self._held, data))
        self._held = []
        # Cut at the last line that starts a commit or a file: everything before it is complete.
        cut = max(self._buf.rfind(_COMMIT), self._buf.rfind(_FILE))
        if cut <= 0:
            return
        head, self._buf = self._buf[: cut + 1], self._buf[cut + 1 :]
        self._scan(head)

    def close(self) -> None:
        self._buf = b"".join((self._buf, *self._held))
        self._held = []
        self._scan(self._buf)
        self._buf = b""
        self._end_commit()

    def _end_commit(self) -> None:
        if self._sha is None:
            return
        for path, parts in self._files.items():
            self._done.rows.add(self._sha, path, parts[0] if len(parts) == 1 else
                                [h for part in parts for h in part])
        self._done.add(self._sha, len(self._files))
        self._files = {}
        self._sha = None

    def _scan(self, buf: bytes) -> None:
        """``buf`` starts at a commit or file line and ends where one starts (or the stream ends)."""
        n = len(buf)
        nxt_commit = 0 if buf.startswith(b"\x1e") else _next(buf, _COMMIT, 0, n)
        nxt_file = 0 if buf.startswith(b"diff --git ") else _next(buf, _FILE, 0, n)
        while nxt_commit < n or nxt_file < n:
            if nxt_commit < nxt_file:
                start = nxt_commit
                nxt_commit = _next(buf, _COMMIT, start, n)
                self._commit(buf, start, min(nxt_commit, nxt_file))
            else:
                start = nxt_file
                nxt_file = _next(buf, _FILE, start, n)
                self._file(buf, start, min(nxt_commit, nxt_file))

    def _commit(self, buf: bytes, start: int, end: int) -> None:
        self._end_commit()
        line_end = buf.find(b"\n", start, end)
        sha = buf[start + 1 : end if line_end < 0 else line_end]
        if not _SHA.fullmatch(sha):
            raise LogParseError(f"bad commit line in git's patch output: {buf[start:start + 80]!r}")
        self._sha = sha.decode("ascii")

    def _file(self, buf: bytes, start: int, end: int) -> None:
        if self._sha is None:
            return
        first = buf.find(_HUNK_AT, start, end)
        if first < 0:
            return  # binary, mode-only, a pure rename: no hunks, no row
        hunks: list[bytes] = _HUNK.findall(buf, first, end)
        if hunks:
            plus = buf.rfind(b"\n+++ b/", start, first)  # the common case, without splitting
            if plus >= 0 and buf[plus + 7 : plus + 8] != b'"':
                eol = buf.find(b"\n", plus + 7, first + 1)
                path = decode(buf[plus + 7 : eol].rstrip(b"\t"))
            else:
                path = header_path(buf[start:first].rstrip(b"\n"))
            self._files.setdefault(path, []).append(hunks)


def _next(buf: bytes, needle: bytes, start: int, n: int) -> int:
    i = buf.find(needle, start)
    return n if i < 0 else i + 1


def parse_patch(data: bytes) -> list[FileHunks]:
    """Parse a whole captured stream at once."""
    parser = PatchStreamParser()
    parser.feed(data)
    parser.close()
    return parser.take()[1].rows()
