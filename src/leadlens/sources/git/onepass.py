"""Parser for the one line-history pass: ``git log -p -U1`` with the commit fields of LOG_FORMAT.

One diff gives both things leadlens stores. git trims the common tail of a diff's two sides only
when it has no context (``trim_common_tail``, when ``ctxlen == 0``), so a ``-U1`` diff is the same
edit script ``--numstat`` (context 3) counts:

- **commit_files**: per hunk, the body's lines ``L`` (without ``\\ No newline at end of file``)
  are ``ctx + del + add`` while the header says ``old = ctx + del`` and ``new = ctx + add``, so
  ``del = L - new`` and ``add = L - old``. A ``Binary files`` line is numstat's null counts. A
  diff that shows no content (a pure rename or copy, a mode change, an empty file) or a path shown
  twice (a type change, which ``--numstat`` counts as one diff of the two blobs) cannot say what
  numstat says (a binary blob counts ``-``; a type change's lines): such commits are listed in
  :attr:`OnePassParser.recount`, and the reader counts them again with ``--numstat``.
- **line_hunks**: the changes of the untrimmed diff, as ``-U0`` prints ranges. A ``-U1`` hunk
  holds changes 1 or 2 context lines apart; when its context lines are only its first and last
  (``ctx == lead + trail``) it is one change whose range follows from the header; otherwise its
  body is split at its context lines. An empty range prints the line before it (``-5,0``), as
  git's ``xdl_emit_hunk_hdr`` does.

Commit records are found by their fields (NUL-terminated, so a message may hold anything), then
the diff runs to the next ``\\n\\x1e``: no diff line starts with ``\\x1e`` (content lines start
with ``+ - \\`` or a space, and git quotes control characters in paths).
"""

from __future__ import annotations

import re
from itertools import accumulate

import pyarrow as pa

from leadlens.model import Commit, FileChange
from leadlens.sources.git.hunks import changes
from leadlens.sources.git.parse import LOG_FIELDS, LogParseError, commit_from_text, decode
from leadlens.sources.git.patch import HUNK_SCHEMA, Finished, header_path, unquote_path

__all__ = ["HunkRows", "OnePassParser"]

_REC = b"\n\x1e"
_FILE = b"\ndiff --git "
_FIELDS = re.compile(rb"\x1e(?:[^\0]*\0){%d}" % len(LOG_FIELDS))  # a record's fields
_PARSE_BYTES = 1 << 20


class HunkRows:
    """The hunks of whole commits, column by column: one row per commit and file with hunks."""

    def __init__(self) -> None:
        self.sha: list[str] = []
        self.path: list[str] = []
        self.lengths: list[int] = []
        self.cols: tuple[list[int], list[int], list[int], list[int]] = ([], [], [], [])

    def __len__(self) -> int:
        return len(self.sha)

    def split(self, rows: int) -> HunkRows:
        """Keep the first ``rows`` rows; return the others."""
        cut = sum(self.lengths[:rows])
        rest = HunkRows()
        rest.sha, rest.path, rest.lengths = self.sha[rows:], self.path[rows:], self.lengths[rows:]
        rest.cols = tuple(c[cut:] for c in self.cols)  # type: ignore[assignment]
        self.sha, self.path, self.lengths = self.sha[:rows], self.path[:rows], self.lengths[:rows]
        self.cols = tuple(c[:cut] for c in self.cols)  # type: ignore[assignment]
        return rest

    def table(self, repo: str) -> pa.Table:
        offsets = pa.array([0, *accumulate(self.lengths)], pa.int32())
        lists = [pa.ListArray.from_arrays(offsets, pa.array(c, pa.int32())) for c in self.cols]
        n = len(self.sha)
        return pa.Table.from_arrays(
            [pa.array([repo] * n, pa.string()), pa.array(self.sha, pa.string()),
             pa.array(self.path, pa.string()), *lists], schema=HUNK_SCHEMA)


class OnePassParser:
    """Incremental parser: ``feed`` bytes, ``close`` at end; ``take`` the commits done so far,
    each with its files (as ``--numstat`` counts them) and its line hunks."""

    def __init__(self) -> None:
        self._buf = b""
        self._held: list[bytes] = []  # data read since the buffer was last cut
        self._held_bytes = 0
        self._complete = False  # whether the held data starts a record
        self._done: Finished[Commit, HunkRows] = Finished(HunkRows)
        self.recount: set[str] = set()  # commits whose files only --numstat can count

    @property
    def done(self) -> int:
        return len(self._done)

    def take(self, n: int | None = None) -> tuple[list[Commit], HunkRows]:
        """The first ``n`` (default: all) complete commits and their hunk rows."""
        return self._done.take(n)

    def feed(self, data: bytes) -> None:
        # A record is complete once the next starts: until data holds a record start, only keep
        # it. git writes into its pipe in small pieces (12 KB on average, read while it runs), and
        # each parse has a fixed cost in arrays, so records are parsed a megabyte or more at once.
        edge = (self._held[-1] if self._held else self._buf)[-1:] + data
        self._held.append(data)
        self._held_bytes += len(data)
        self._complete = self._complete or _REC in edge
        if not self._complete or self._held_bytes < _PARSE_BYTES:
            return
        self._buf = b"".join((self._buf, *self._held))
        self._held, self._held_bytes, self._complete = [], 0, False
        self._drain(final=False)

    def close(self) -> None:
        self._buf = b"".join((self._buf, *self._held))
        self._held, self._held_bytes, self._complete = [], 0, False
        self._drain(final=True)
        if self._buf.strip(b"\0\n"):
            raise LogParseError(f"truncated record at end of git's patch: {self._buf[:80]!r}")
        self._buf = b""

    def _drain(self, final: bool) -> None:
        buf = self._buf
        n = len(buf)
        pos = 0
        records: list[tuple[int, int, int]] = []  # where the fields start, the diff starts, ends
        while True:
            while pos < n and buf[pos] in (0, 10):
                pos += 1
            if pos >= n:
                break
            if buf[pos] != 0x1E:
                raise LogParseError(f"expected a record start at byte {pos}: {buf[pos:pos + 40]!r}")
            fields = _FIELDS.match(buf, pos)
            if fields is None:
                break
            cur = fields.end()
            nxt = buf.find(_REC, cur)
            if nxt < 0:
                if not final:
                    break
                nxt = n
            records.append((pos + 1, cur, nxt))
            pos = nxt
        self._buf = buf[pos:]
        self._records(buf, records)

    def _records(self, buf: bytes, records: list[tuple[int, int, int]]) -> None:
        # Each file as (path, old path, its region of hunks or -1 binary, -2 no content shown).
        entries: list[list[tuple[str, str | None, int]]] = []
        starts: list[int] = []
        ends: list[int] = []
        for _, d0, d1 in records:
            while d1 > d0 and buf[d1 - 1] == 10:
                d1 -= 1
            while d0 < d1 and buf[d0] in (0, 10):
                d0 += 1
            if d0 < d1 and not buf.startswith(b"diff --git ", d0):
                raise LogParseError(f"expected a diff at byte {d0}: {buf[d0:d0 + 40]!r}")
            files: list[tuple[str, str | None, int]] = []
            f0 = d0 - 1  # at the "\n" before "diff --git"
            while f0 + 1 < d1:
                f1 = buf.find(_FILE, f0 + 1, d1)
                if f1 < 0:
                    f1 = d1
                first = buf.find(b"\n@@ -", f0, f1)
                path, old_path = _paths(buf, f0 + 1, f1 if first < 0 else first)
                if first >= 0:
                    files.append((path, old_path, len(starts)))
                    starts.append(first + 1)
                    ends.append(f1)
                elif buf.find(b"\nBinary files ", f0, f1) >= 0:
                    files.append((path, old_path, -1))
                else:
                    files.append((path, old_path, -2))
                f0 = f1
            entries.append(files)
        ch = changes(buf, starts, ends)
        added, deleted, count = ch.added.tolist(), ch.deleted.tolist(), ch.count.tolist()
        out = self._done.rows
        for col, values in zip(out.cols, (ch.old_start, ch.old_count, ch.new_start,
                                          ch.new_count), strict=True):
            col.extend(values.tolist())
        for (f0, d0, _), files in zip(records, entries, strict=True):
            fields = decode(buf[f0 : d0 - 1]).split("\0")
            sha = fields[0]
            changed: list[FileChange] = []
            rows: dict[str, int] = {}  # path -> its hunk row
            recount = False
            for path, old_path, region in files:
                if region >= 0:
                    changed.append(FileChange(path, old_path, added[region], deleted[region],
                                              False))
                    row = rows.get(path)
                    if row is None:
                        rows[path] = len(out.sha)
                        out.sha.append(sha)
                        out.path.append(path)
                        out.lengths.append(count[region])
                    elif row == len(out.sha) - 1:  # a path's second diff (a type change)
                        out.lengths[row] += count[region]
                    else:
                        raise LogParseError(f"{sha}: {path} shown twice, not in a row")
                elif region == -1:
                    changed.append(FileChange(path, old_path, None, None, True))
                else:  # no content shown: whether numstat counts it binary, only numstat says
                    changed.append(FileChange(path, old_path, 0, 0, False))
                    recount = True
            if recount or len({f.path for f in changed}) != len(changed):
                self.recount.add(sha)  # a type change: numstat counts one diff of two blobs
            self._done.add(commit_from_text(fields, changed), len(rows))


def _paths(buf: bytes, start: int, end: int) -> tuple[str, str | None]:
    """(path, old path of a rename or copy) from a file's header lines ``buf[start:end]``."""
    for key in (b"\nrename from ", b"\ncopy from "):
        i = buf.find(key, start, end)
        if i >= 0:
            j = buf.find(b"\n", i + 1, end)
            old = unquote_path(buf[i + len(key) : end if j < 0 else j])
            to = b"\nrename to " if key == b"\nrename from " else b"\ncopy to "
            k = buf.find(to, start, end)
            if k >= 0:
                m = buf.find(b"\n", k + 1, end)
                return unquote_path(buf[k + len(to) : end if m < 0 else m]), old
    plus = buf.rfind(b"\n+++ b/", start, end)  # the common case, without splitting
    if plus >= 0 and buf[plus + 7 : plus + 8] != b'"':
        eol = buf.find(b"\n", plus + 7, end)
        return decode(buf[plus + 7 : end if eol < 0 else eol].rstrip(b"\t")), None
    return header_path(buf[start:end]), None
