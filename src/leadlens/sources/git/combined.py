"""Pure parser for one ``git log -p -U0`` pass that yields commits *and* their line history.

With ``--line-history``, new commits are read once: the header is the NUL-delimited format of
parse.py, the body is the ``-U0`` patch. Per-file counts come from the hunk headers (with ``-U0``
a hunk ``-a,b +c,d`` deletes ``b`` lines and adds ``d``: the sums are ``--numstat``'s counts),
binary files from git's ``Binary files ... differ``, renames from ``rename from``. A record ends
where a line starts with ``\\x1e``, which no patch line can (they start with ``+ - space \\``).
"""

from __future__ import annotations

from dataclasses import replace

from leadlens.model import Commit, FileChange, FileHunks
from leadlens.sources.git.parse import _NFIELDS, RECORD_START, LogParseError, _commit
from leadlens.sources.git.patch import file_sections

__all__ = ["CombinedStreamParser"]


class CombinedStreamParser:
    """Incremental: ``feed`` bytes, ``close`` at the end; each returns complete commits."""

    def __init__(self) -> None:
        self._buf = b""
        self._scan_from = 0  # where to resume looking for the end of the pending record

    def feed(self, data: bytes) -> tuple[list[Commit], list[FileHunks]]:
        self._buf += data
        return self._drain(final=False)

    def close(self) -> tuple[list[Commit], list[FileHunks]]:
        out = self._drain(final=True)
        if self._buf.strip(b"\0\n"):
            raise LogParseError(f"truncated record at end of stream: {self._buf[:80]!r}")
        self._buf = b""
        return out

    def _drain(self, final: bool) -> tuple[list[Commit], list[FileHunks]]:
        commits: list[Commit] = []
        hunks: list[FileHunks] = []
        buf, pos, n = self._buf, 0, len(self._buf)
        while True:
            while pos < n and buf[pos] in (0, 10):
                pos += 1
            if pos >= n:
                break
            if buf[pos] != RECORD_START:
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
            stop = buf.find(b"\n\x1e", max(cur, self._scan_from))
            if stop < 0:
                if not final:
                    self._scan_from = max(cur, n - 1)
                    break
                stop = n
            self._scan_from = 0
            commit, file_hunks = _record(fields, buf[cur:stop])
            commits.append(commit)
            hunks.extend(file_hunks)
            pos = stop + 1 if stop < n else n
        self._buf = buf[pos:]
        if self._scan_from:
            self._scan_from -= pos
        return commits, hunks


def _record(fields: list[bytes], region: bytes) -> tuple[Commit, list[FileHunks]]:
    commit = _commit(fields, [])
    merged: dict[str, tuple[str | None, bool, list[list[int]]]] = {}
    for path, old, binary, h in file_sections(region):
        if path in merged:  # a type change is two sections (delete, create) for one path
            prev_old, prev_binary, prev = merged[path]
            for i in range(4):
                prev[i].extend(h[i])
            merged[path] = (prev_old or old, prev_binary or binary, prev)
        else:
            merged[path] = (old, binary, h)
    files = []
    hunks = []
    for path, (old, binary, h) in merged.items():
        files.append(FileChange(path, old, None if binary else sum(h[3]),
                                None if binary else sum(h[1]), binary))
        if h[0]:
            hunks.append(FileHunks(commit.sha, path, *(tuple(x) for x in h)))
    return replace(commit, files=tuple(files)), hunks
