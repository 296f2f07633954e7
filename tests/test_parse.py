"""The numstat log parser on captured and generated streams."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadlens.model import Commit, FileChange, Trailer
from leadlens.sources.git.mapping import date_flags
from leadlens.sources.git.parse import (
    LogParseError,
    LogStreamParser,
    parse_log,
    parse_tz_offset,
    split_message,
)

SHA1 = "a" * 40
SHA2 = "b" * 40


def record(sha: str = SHA1, parents: str = "", message: bytes = b"subject\n",
           trailers: bytes = b"", numstat: bytes = b"", a_tz: bytes = b"+0200",
           a_ts: bytes = b"1700000000", c_ts: bytes = b"1700003600") -> bytes:
    fields = [sha.encode(), parents.encode(), b"Ann", b"ann@example.com", a_ts, a_tz,
              b"Cid", b"cid@example.com", c_ts, b"-0530", message, trailers]
    head = b"\x1e" + b"".join(f + b"\0" for f in fields) + b"\0"
    return head + (b"\n" + numstat if numstat else b"")


def test_parses_one_commit_with_files_renames_and_binary() -> None:
    stream = record(numstat=b"3\t1\tsrc/a.py\0-\t-\tlogo.png\0" b"0\t0\t\0old name\0new\tname\0")
    (c,) = parse_log(stream)
    assert c.sha == SHA1
    assert c.parents == ()
    assert c.author_time == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert c.author_tz_offset_min == 120
    assert c.committer_tz_offset_min == -330
    assert c.files == (
        FileChange("src/a.py", None, 3, 1, False),
        FileChange("logo.png", None, None, None, True),
        FileChange("new\tname", "old name", 0, 0, False),
    )


def test_merge_without_diff_and_trailers() -> None:
    stream = record(parents=f"{SHA2} {SHA1}", message=b"Merge\n\nbody\n\nAcked-by: X <x@y>\n",
                    trailers=b"Acked-by\x1dX <x@y>\x1fCo-authored-by\x1dY <y@z>") + record(SHA2)
    first, second = parse_log(stream)
    assert first.is_merge and first.parents == (SHA2, SHA1)
    assert first.files == ()
    assert first.trailers == (Trailer("Acked-by", "X <x@y>"), Trailer("Co-authored-by", "Y <y@z>"))
    assert first.subject == "Merge" and first.body == "body\n\nAcked-by: X <x@y>"
    assert second.sha == SHA2


def test_non_utf8_is_replaced_not_fatal() -> None:
    (c,) = parse_log(record(message=b"caf\xe9\n", numstat=b"1\t0\tna\xefve\0"))
    assert c.subject == "caf\ufffd"
    assert c.files[0].path == "na\ufffdve"


def test_truncated_stream_is_an_error() -> None:
    with pytest.raises(LogParseError):
        parse_log(record()[:30])
    with pytest.raises(LogParseError):
        parse_log(b"garbage")


@pytest.mark.parametrize("raw", [
    b"",  # git prints nothing for a date it cannot parse (missing, negative, not a number)
    b"9223372036854775808",  # 2^63: beyond a signed 64-bit time
    b"18446744073709551617",  # beyond 2^64: git prints the digits as written
    b"253402300800",  # 10000-01-01: beyond the last year a datetime holds
])
def test_malformed_or_extreme_dates_are_unknown_not_fatal(raw: bytes) -> None:
    c, d = parse_log(record(a_ts=raw) + record(SHA2, c_ts=raw))
    assert c.author_time is None and c.committer_time is not None
    assert date_flags(c, datetime(2024, 1, 1, tzinfo=UTC)) == ["author_malformed"]
    assert d.committer_time is None and d.author_time is not None
    assert date_flags(d, datetime(2024, 1, 1, tzinfo=UTC)) == ["committer_malformed"]


def test_extreme_but_readable_dates_are_kept_and_flagged() -> None:
    (c,) = parse_log(record(a_ts=b"0", c_ts=b"99999999999"))
    assert c.author_time == datetime(1970, 1, 1, tzinfo=UTC)
    assert c.committer_time == datetime(5138, 11, 16, 9, 46, 39, tzinfo=UTC)
    assert date_flags(c, datetime(2024, 1, 1, tzinfo=UTC)) == [
        "author_before_1990", "committer_in_future"]
    with pytest.raises(LogParseError):  # not a date git could print: the stream is not ours
        parse_log(record(a_ts=b"yesterday"))


def test_split_message_and_offsets() -> None:
    assert split_message("one\ntwo\n\nbody\n") == ("one two", "body")
    assert split_message("only") == ("only", "")
    assert parse_tz_offset("+0530") == 330
    assert parse_tz_offset("-0000") == 0
    assert parse_tz_offset("-1200") == -720
    assert parse_tz_offset("bogus") is None


# --- property: any generated stream, cut anywhere, parses back to what was rendered -------------

_text = st.text(st.characters(blacklist_characters="\0\x1d\x1f", blacklist_categories=("Cs",)),
                max_size=30)
_path = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)),
                min_size=1, max_size=20)
_count = st.one_of(st.none(), st.integers(0, 10_000))


@st.composite
def commits(draw: st.DrawFn) -> Commit:
    sha = draw(st.text("0123456789abcdef", min_size=40, max_size=40))
    parents = tuple(draw(st.lists(st.text("0123456789abcdef", min_size=40, max_size=40),
                                  max_size=3)))
    subject = draw(st.text(st.characters(blacklist_characters="\0\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
                                         "\x85\u2028\u2029", blacklist_categories=("Cs",)),
                           min_size=1, max_size=20).filter(lambda s: s.strip() == s and s))
    body = draw(st.sampled_from(["", "body text", "line one\nline two"]))
    files = []
    for _ in range(draw(st.integers(0, 4))):
        added = draw(_count)
        renamed = draw(st.booleans())
        files.append(FileChange(
            path=draw(_path), old_path=draw(_path) if renamed else None,
            added=added, deleted=None if added is None else draw(st.integers(0, 999)),
            is_binary=added is None,
        ))
    trailers = tuple(Trailer(k, v) for k, v in draw(st.lists(
        st.tuples(st.sampled_from(["Reviewed-by", "co-authored-by", "Assisted-by"]),
                  _text.filter(lambda s: s.strip() == s and "\n" not in s)), max_size=3)))
    ts = draw(st.integers(0, 4_000_000_000))
    tz = draw(st.integers(-720, 840))
    when = datetime.fromtimestamp(ts, UTC)
    return Commit(sha, parents, "A", "a@x", when, tz, "C", "c@x", when, tz, subject, body,
                  trailers, tuple(files))


def render(c: Commit) -> bytes:
    def tz(m: int | None) -> bytes:
        assert m is not None
        sign = "-" if m < 0 else "+"
        return f"{sign}{abs(m) // 60:02d}{abs(m) % 60:02d}".encode()

    assert c.author_time is not None and c.committer_time is not None
    msg = c.subject + ("\n\n" + c.body if c.body else "") + "\n"
    trailers = "\x1f".join(f"{t.key}\x1d{t.value}" for t in c.trailers)
    fields = [c.sha, " ".join(c.parents), c.author_name, c.author_email,
              str(int(c.author_time.timestamp()))]
    out = b"\x1e" + b"".join(f.encode() + b"\0" for f in fields) + tz(c.author_tz_offset_min)
    out += b"\0" + b"".join(f.encode() + b"\0" for f in [c.committer_name, c.committer_email,
                                                        str(int(c.committer_time.timestamp()))])
    out += tz(c.committer_tz_offset_min) + b"\0" + msg.encode() + b"\0" + trailers.encode()
    out += b"\0\0"
    if c.files:
        out += b"\n"
        for f in c.files:
            counts = b"-\t-\t" if f.is_binary else f"{f.added}\t{f.deleted}\t".encode()
            if f.old_path is not None:
                out += counts + b"\0" + f.old_path.encode() + b"\0" + f.path.encode() + b"\0"
            else:
                out += counts + f.path.encode() + b"\0"
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(commits(), max_size=6), st.lists(st.integers(1, 400), max_size=8))
def test_roundtrip_through_any_chunking(generated: list[Commit], cuts: list[int]) -> None:
    stream = b"".join(render(c) for c in generated)
    parser = LogStreamParser()
    parsed: list[Commit] = []
    pos = 0
    for size in cuts:
        parsed += parser.feed(stream[pos : pos + size])
        pos += size
    parsed += parser.feed(stream[pos:])
    parsed += parser.close()
    assert parsed == generated
