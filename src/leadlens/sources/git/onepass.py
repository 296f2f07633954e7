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
from leadlens.sources.git.parse import LogParseError, commit_from_fields, decode
from leadlens.sources.git.patch import HUNK_SCHEMA, header_path, unquote_path

__all__ = ["HunkRows", "OnePassParser", "file_hunks"]

_REC = b"\n\x1e"
_FILE = b"\ndiff --git "
_HUNK = re.compile(rb"\n@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NFIELDS = 12


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


def file_hunks(buf: bytes, first: int, end: int,
               cols: tuple[list[int], list[int], list[int], list[int]]) -> tuple[int, int, int]:
    """The ``-U1`` hunks of one file in ``buf[first:end]`` (``first`` at the ``\\n`` before the
    first ``@@``, ``end`` at the ``\\n`` after the last body line, or the end): their ``-U0``
    ranges are appended to ``cols``; returns (changes, lines added, lines deleted)."""
    o_s, o_c, n_s, n_c = cols
    added = deleted = changes = 0
    ms = list(_HUNK.finditer(buf, first, end))
    last_k = len(ms) - 1
    for k, m in enumerate(ms):
        s = buf.find(b"\n", m.end(), end) + 1  # the body's first line
        e = ms[k + 1].start() if k < last_k else end
        a, b, c, d = m.groups()
        old_n = 1 if b is None else int(b)
        new_n = 1 if d is None else int(d)
        lines = buf.count(b"\n", s, e) + 1 - buf.count(b"\n\\", s - 1, e)
        dele, add = lines - new_n, lines - old_n
        added += add
        deleted += dele
        ctx = old_n - dele
        if ctx == 0:  # one change, no context: at both ends of the file
            lead = trail = 0
        else:
            lead = buf[s] == 32
            t = buf.rfind(b"\n", s - 1, e) + 1
            if buf[t] == 92:  # "\ No newline at end of file": the line before it
                t = buf.rfind(b"\n", s - 1, t - 1) + 1
            trail = buf[t] == 32
        if ctx == lead + trail:
            old_a, new_c = int(a), int(c)
            # The change starts `lead` lines into the hunk; an empty side prints the line before.
            o_s.append((old_a - 1 if old_n else old_a) + lead + (1 if dele else 0))
            n_s.append((new_c - 1 if new_n else new_c) + lead + (1 if add else 0))
            o_c.append(dele)
            n_c.append(add)
            changes += 1
        else:
            changes += _split(buf, s, e, int(a), int(c), cols)
    return changes, added, deleted


def _split(buf: bytes, s: int, e: int, old: int, new: int,
           cols: tuple[list[int], list[int], list[int], list[int]]) -> int:
    """A hunk with context lines inside it: one range per run of changed lines."""
    o_s, o_c, n_s, n_c = cols
    changes = 0
    start_o = start_n = -1
    for line in buf[s:e].split(b"\n"):
        ch = line[:1]
        if ch == b" ":
            if start_o >= 0:
                co, cn = old - start_o, new - start_n
                o_s.append(start_o if co else start_o - 1)
                n_s.append(start_n if cn else start_n - 1)
                o_c.append(co)
                n_c.append(cn)
                changes += 1
                start_o = -1
            old += 1
            new += 1
        elif ch == b"-" or ch == b"+":
            if start_o < 0:
                start_o, start_n = old, new
            if ch == b"-":
                old += 1
            else:
                new += 1
    if start_o >= 0:
        co, cn = old - start_o, new - start_n
        o_s.append(start_o if co else start_o - 1)
        n_s.append(start_n if cn else start_n - 1)
        o_c.append(co)
        n_c.append(cn)
        changes += 1
    return changes


class OnePassParser:
    """Incremental parser: ``feed`` bytes, ``close`` at end; ``take`` the commits done so far,
    each with its files (as ``--numstat`` counts them) and its line hunks."""

    def __init__(self) -> None:
        self._buf = b""
        self._held: list[bytes] = []  # data read since the buffer was last cut
        self._commits: list[Commit] = []
        self._rows: list[int] = []  # hunk rows per done commit
        self._out = HunkRows()
        self.recount: set[str] = set()  # commits whose files only --numstat can count

    @property
    def done(self) -> int:
        return len(self._commits)

    def take(self, n: int | None = None) -> tuple[list[Commit], HunkRows]:
        """The first ``n`` (default: all) complete commits and their hunk rows."""
        n = len(self._commits) if n is None else n
        commits, self._commits = self._commits[:n], self._commits[n:]
        rows, self._rows = sum(self._rows[:n]), self._rows[n:]
        out = self._out
        if rows == len(out):
            self._out = HunkRows()
            return commits, out
        self._out = out.split(rows)
        return commits, out

    def feed(self, data: bytes) -> None:
        # A record is complete once the next starts: until data holds a record start, only keep it.
        edge = (self._held[-1] if self._held else self._buf)[-1:] + data
        if _REC not in edge:
            self._held.append(data)
            return
        self._buf = b"".join((self._buf, *self._held, data))
        self._held = []
        self._drain(final=False)

    def close(self) -> None:
        self._buf = b"".join((self._buf, *self._held))
        self._held = []
        self._drain(final=True)
        if self._buf.strip(b"\0\n"):
            raise LogParseError(f"truncated record at end of git's patch: {self._buf[:80]!r}")
        self._buf = b""

    def _drain(self, final: bool) -> None:
        buf = self._buf
        n = len(buf)
        pos = 0
        while True:
            while pos < n and buf[pos] in (0, 10):
                pos += 1
            if pos >= n:
                break
            if buf[pos] != 0x1E:
                raise LogParseError(f"expected a record start at byte {pos}: {buf[pos:pos + 40]!r}")
            fields: list[bytes] = []
            cur = pos + 1
            for _ in range(_NFIELDS):
                end = buf.find(b"\0", cur)
                if end < 0:
                    break
                fields.append(buf[cur:end])
                cur = end + 1
            if len(fields) < _NFIELDS:
                break
            nxt = buf.find(_REC, cur)
            if nxt < 0:
                if not final:
                    break
                nxt = n
            self._record(buf, fields, cur, nxt)
            pos = nxt
        self._buf = buf[pos:]

    def _record(self, buf: bytes, fields: list[bytes], d0: int, d1: int) -> None:
        while d1 > d0 and buf[d1 - 1] == 10:
            d1 -= 1
        while d0 < d1 and buf[d0] in (0, 10):
            d0 += 1
        if d0 < d1 and not buf.startswith(b"diff --git ", d0):
            raise LogParseError(f"expected a diff at byte {d0}: {buf[d0:d0 + 40]!r}")
        files: list[FileChange] = []
        hunks: dict[str, int] = {}  # path -> its row
        out = self._out
        sha = decode(fields[0])
        recount = False
        f0 = d0 - 1  # at the "\n" before "diff --git"
        while f0 + 1 < d1:
            f1 = buf.find(_FILE, f0 + 1, d1)
            if f1 < 0:
                f1 = d1
            first = buf.find(b"\n@@ -", f0, f1)
            head_end = f1 if first < 0 else first
            path, old_path = _paths(buf, f0 + 1, head_end)
            if first >= 0:
                changes, added, deleted = file_hunks(buf, first, f1, out.cols)
                row = hunks.get(path)
                if row is None:
                    hunks[path] = len(out.sha)
                    out.sha.append(sha)
                    out.path.append(path)
                    out.lengths.append(changes)
                else:  # the path's second diff (a type change): its hunks follow the first's
                    out.lengths[row] += changes
                    if row != len(out.sha) - 1:
                        raise LogParseError(f"{sha}: {path} shown twice, not in a row")
                files.append(FileChange(path, old_path, added, deleted, False))
            elif buf.find(b"\nBinary files ", f0, f1) >= 0:
                files.append(FileChange(path, old_path, None, None, True))
            else:  # no content shown: whether numstat counts it binary, only numstat says
                files.append(FileChange(path, old_path, 0, 0, False))
                recount = True
            f0 = f1
        if len({f.path for f in files}) != len(files):
            recount = True  # a type change: numstat counts one diff of the two blobs
        if recount:
            self.recount.add(sha)
        self._commits.append(commit_from_fields(fields, files))
        self._rows.append(len(hunks))


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
