"""Pure parser for ``git log -p -U0 --format=%x1e%H``: per commit and file, the changed line ranges.

Only three kinds of line matter and none can occur inside a hunk's content (content lines start
with ``+``, ``-``, a space or ``\\``): the ``\\x1e<sha>`` commit marker, ``diff --git`` headers and
``@@ -a,b +c,d @@`` hunk headers. A regular expression finds them in whole buffers, so the content
of big diffs is skipped at C speed rather than line by line in Python.
"""

from __future__ import annotations

import re

from leadlens.model import FileHunks
from leadlens.sources.git.parse import decode

__all__ = ["PATCH_FORMAT", "PatchStreamParser", "parse_patch", "unquote_path"]

PATCH_FORMAT = "%x1e%H"

_MARKS = re.compile(
    rb"^(?:\x1e([0-9a-f]{40,64})$|(diff --git )|@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@)",
    re.M,
)
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


def _header_path(header: bytes) -> str:
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


class PatchStreamParser:
    """Incremental parser: ``feed`` bytes, ``close`` at end; yields one record per commit and file."""

    def __init__(self) -> None:
        self._buf = b""
        self._sha: str | None = None
        self._path: str | None = None
        self._hunks: dict[tuple[str, str], list[list[int]]] = {}
        self._done: list[str] = []

    def take_done(self) -> list[str]:
        """Commits whose every hunk has been returned (including commits with none)."""
        done, self._done = self._done, []
        return done

    def feed(self, data: bytes) -> list[FileHunks]:
        self._buf += data
        # Cut at the last line that starts a commit or a file: everything before it is complete.
        cut = max(self._buf.rfind(b"\n\x1e"), self._buf.rfind(b"\ndiff --git "))
        if cut <= 0:
            return []
        head, self._buf = self._buf[: cut + 1], self._buf[cut + 1 :]
        return self._scan(head)

    def close(self) -> list[FileHunks]:
        out = self._scan(self._buf)
        self._buf = b""
        out.extend(self._flush())
        if self._sha is not None:
            self._done.append(self._sha)
            self._sha = None
        return out

    def _flush(self) -> list[FileHunks]:
        out = [
            FileHunks(sha, path, tuple(h[0]), tuple(h[1]), tuple(h[2]), tuple(h[3]))
            for (sha, path), h in self._hunks.items()
        ]
        self._hunks = {}
        return out

    def _scan(self, buf: bytes) -> list[FileHunks]:
        out: list[FileHunks] = []
        matches = list(_MARKS.finditer(buf))
        for i, m in enumerate(matches):
            sha, diff = m.group(1), m.group(2)
            if sha is not None:
                out.extend(self._flush())
                if self._sha is not None:
                    self._done.append(self._sha)
                self._sha, self._path = sha.decode("ascii"), None
            elif diff is not None:
                end = matches[i + 1].start() if i + 1 < len(matches) else len(buf)
                self._path = _header_path(buf[m.start() : end].rstrip(b"\n"))
            elif self._sha is not None and self._path is not None:
                a, b, c, d = m.group(3, 4, 5, 6)
                key = (self._sha, self._path)
                h = self._hunks.get(key)
                if h is None:
                    h = self._hunks[key] = [[], [], [], []]
                h[0].append(int(a))
                h[1].append(1 if b is None else int(b))
                h[2].append(int(c))
                h[3].append(1 if d is None else int(d))
        return out


def parse_patch(data: bytes) -> list[FileHunks]:
    """Parse a whole captured stream at once."""
    parser = PatchStreamParser()
    return parser.feed(data) + parser.close()

