"""Pure parser for the NUL-delimited ``git log --numstat -z`` stream leadlens asks git for.

The parser never calls git: it turns captured bytes into :class:`~leadlens.model.Commit` records,
so it is tested on generated streams. Each record is ``\\x1e`` followed by the fields of
:data:`LOG_FIELDS`, each terminated by NUL, then git's own NUL commit terminator, then (after a
newline) the numstat entries ``added TAB deleted TAB path NUL`` or, for a rename,
``added TAB deleted TAB NUL old NUL new NUL``. Binary files count ``-``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from leadlens.model import Commit, FileChange, Trailer

__all__ = [
    "LOG_FIELDS",
    "LOG_FORMAT",
    "PATCH_FORMAT",
    "LogParseError",
    "LogStreamParser",
    "commit_from_fields",
    "commit_from_text",
    "decode",
    "parse_log",
    "parse_tz_offset",
    "split_message",
    "timestamp",
]

RECORD_START = 0x1E
RECORD_START_BYTE = b"\x1e"
TRAILER_SEP = "\x1f"
TRAILER_KV_SEP = "\x1d"

# Order matters: the parser reads fields by position.
LOG_FIELDS: tuple[tuple[str, str], ...] = (
    ("sha", "%H"),
    ("parents", "%P"),
    ("author_name", "%an"),
    ("author_email", "%ae"),
    ("author_ts", "%at"),
    ("author_tz", "%ad"),  # with --date=format:%z: "+0200"
    ("committer_name", "%cn"),
    ("committer_email", "%ce"),
    ("committer_ts", "%ct"),
    ("committer_tz", "%cd"),
    ("message", "%B"),
    # git's own trailer parser (interpret-trailers rules), unfolded, one separator per trailer.
    ("trailers", "%(trailers:only,unfold,separator=%x1f,key_value_separator=%x1d)"),
)
LOG_FORMAT = "%x1e" + "".join(code + "%x00" for _, code in LOG_FIELDS)
# The line-history pass's record start (`git log -p -U0`): its parser is sources/git/patch.py,
# which needs pyarrow; the format lives here so that the git client (and `gate`) does not.
PATCH_FORMAT = "%x1e%H"
_NFIELDS = len(LOG_FIELDS)
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LogParseError(ValueError):
    """The stream does not have the shape leadlens asked git for."""


def decode(raw: bytes) -> str:
    """Decode git output: UTF-8, with invalid bytes replaced (non-UTF-8 names and messages)."""
    return raw.decode("utf-8", "replace")


def parse_tz_offset(text: str) -> int | None:
    """``+0530`` -> 330 minutes; anything malformed -> None (kept as unknown, never guessed)."""
    if len(text) != 5 or text[0] not in "+-" or not text[1:].isdigit():
        return None
    minutes = int(text[1:3]) * 60 + int(text[3:5])
    return -minutes if text[0] == "-" else minutes


def timestamp(text: str) -> datetime | None:
    """git's epoch seconds as a UTC time; None (unknown) when git printed nothing (a date it could
    not parse: missing, negative, not a number) or one no datetime holds (beyond year 9999, 2^63
    and more): a malformed date is the commit's problem, not the stream's."""
    if not text:
        return None
    try:
        seconds = int(text)
    except ValueError as exc:
        raise LogParseError(f"bad timestamp {text!r}") from exc
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None


def split_message(message: str) -> tuple[str, str]:
    """Split a raw message into git's subject (first paragraph, lines joined) and body."""
    text = message.strip("\n")
    head, sep, rest = text.partition("\n\n")
    subject = " ".join(line.strip() for line in head.split("\n") if line.strip())
    return subject, rest.strip("\n") if sep else ""


def _trailers(text: str) -> tuple[Trailer, ...]:
    out = []
    for item in text.split(TRAILER_SEP):
        item = item.strip("\n")
        if not item:
            continue
        key, _, value = item.partition(TRAILER_KV_SEP)
        out.append(Trailer(key=key.strip(), value=value.strip()))
    return tuple(out)


class LogStreamParser:
    """Incremental parser: ``feed`` bytes as they arrive, ``close`` at end of stream."""

    def __init__(self) -> None:
        self._buf = b""
        self._held: list[bytes] = []  # data read since the buffer was last parsed

    def feed(self, data: bytes) -> list[Commit]:
        # A record is complete only once the next one starts: until some data holds a record
        # start, parsing would go over the same unfinished record again (and again, in small
        # pieces of a big commit), so the data is only kept.
        if RECORD_START_BYTE not in data:
            self._held.append(data)
            return []
        self._buf = b"".join((self._buf, *self._held, data))
        self._held = []
        return self._drain(final=False)

    def close(self) -> list[Commit]:
        self._buf = b"".join((self._buf, *self._held))
        self._held = []
        out = self._drain(final=True)
        if self._buf.strip(b"\0\n"):
            raise LogParseError(f"truncated record at end of stream: {self._buf[:80]!r}")
        self._buf = b""
        return out

    def _drain(self, final: bool) -> list[Commit]:
        out: list[Commit] = []
        buf = self._buf
        pos = 0
        while True:
            parsed = _parse_record(buf, pos, final)
            if parsed is None:
                break
            commit, pos = parsed
            out.append(commit)
        self._buf = buf[pos:]
        return out


def _parse_record(buf: bytes, pos: int, final: bool) -> tuple[Commit, int] | None:
    """Parse one record at ``pos``; None when the buffer does not hold all of it yet."""
    n = len(buf)
    # Skip separators git may leave between records.
    while pos < n and buf[pos] in (0, 10):
        pos += 1
    if pos >= n:
        return None
    if buf[pos] != RECORD_START:
        raise LogParseError(f"expected a record start at byte {pos}: {buf[pos:pos + 40]!r}")
    fields: list[bytes] = []
    cur = pos + 1
    for _ in range(_NFIELDS):
        end = buf.find(b"\0", cur)
        if end < 0:
            return None
        fields.append(buf[cur:end])
        cur = end + 1
    # git's commit terminator and the newline before the diff.
    while cur < n and buf[cur] in (0, 10):
        cur += 1
    files: list[FileChange] = []
    while True:
        if cur >= n:
            if not final:
                return None
            break
        if buf[cur] == RECORD_START:
            break
        entry = _parse_numstat(buf, cur)
        if entry is None:
            if final:
                raise LogParseError(f"truncated numstat entry: {buf[cur:cur + 80]!r}")
            return None
        change, cur = entry
        files.append(change)
    return commit_from_fields(fields, files), cur


def _parse_numstat(buf: bytes, pos: int) -> tuple[FileChange, int] | None:
    tab1 = buf.find(b"\t", pos)
    if tab1 < 0:
        return None
    tab2 = buf.find(b"\t", tab1 + 1)
    if tab2 < 0:
        return None
    added_raw, deleted_raw = buf[pos:tab1], buf[tab1 + 1 : tab2]
    cur = tab2 + 1
    if cur >= len(buf):
        return None
    old_path: str | None = None
    if buf[cur] == 0:  # rename: NUL old NUL new NUL
        mid = buf.find(b"\0", cur + 1)
        if mid < 0:
            return None
        end = buf.find(b"\0", mid + 1)
        if end < 0:
            return None
        old_path = decode(buf[cur + 1 : mid])
        path = decode(buf[mid + 1 : end])
    else:
        end = buf.find(b"\0", cur)
        if end < 0:
            return None
        path = decode(buf[cur:end])
    is_binary = added_raw == b"-"
    try:
        added = None if is_binary else int(added_raw)
        deleted = None if deleted_raw == b"-" else int(deleted_raw)
    except ValueError as exc:
        raise LogParseError(f"bad numstat counts {added_raw!r} {deleted_raw!r}") from exc
    return FileChange(path, old_path, added, deleted, is_binary), end + 1


def commit_from_fields(raw: list[bytes], files: list[FileChange]) -> Commit:
    """A commit from the fields of :data:`LOG_FIELDS` as git printed them, and its files."""
    return commit_from_text([decode(b) for b in raw], files)


def commit_from_text(f: list[str], files: list[FileChange]) -> Commit:
    """A commit from the fields of :data:`LOG_FIELDS`, decoded, and its files."""
    sha = f[0]
    if not _SHA.fullmatch(sha):
        raise LogParseError(f"bad commit id {sha!r}")
    subject, body = split_message(f[10])
    return Commit(
        sha=sha,
        parents=tuple(f[1].split()),
        author_name=f[2],
        author_email=f[3],
        author_time=timestamp(f[4]),
        author_tz_offset_min=parse_tz_offset(f[5]),
        committer_name=f[6],
        committer_email=f[7],
        committer_time=timestamp(f[8]),
        committer_tz_offset_min=parse_tz_offset(f[9]),
        subject=subject,
        body=body,
        trailers=_trailers(f[11]),
        files=tuple(files),
    )


def parse_log(data: bytes) -> list[Commit]:
    """Parse a whole captured stream at once."""
    parser = LogStreamParser()
    return parser.feed(data) + parser.close()

