"""``-U1`` hunks to ``-U0`` changes, for many files at once, in arrays (sources/git/onepass.py).

Every line of a hunk's body starts with a space (context), ``-``, ``+`` or ``\\`` (``\\ No
newline at end of file``, which is no line of either file). A change is a run of ``-``/``+``
lines; its old start is the old line number where it begins (the line before it, when it
deletes nothing: git's ``xdl_emit_hunk_hdr`` prints an empty range's start as the line before).
Line numbers follow from each hunk header's starts and a running count of the lines of each side,
so the whole conversion is a few passes of numpy over the lines, with no loop per hunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from leadlens.sources.git.parse import LogParseError

__all__ = ["Changes", "changes"]

_HEADER = r"^@@ -(?P<a>\d+)(?:,(?P<b>\d+))? \+(?P<c>\d+)(?:,(?P<d>\d+))? @@"
_SP, _MINUS, _PLUS, _AT, _BACKSLASH = 32, 45, 43, 64, 92

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Changes:
    """Per region (one file's hunks): lines added and deleted, and how many changes; and the
    changes of all regions in order, as git's ``-U0`` would print their ranges."""

    added: Ints
    deleted: Ints
    count: Ints
    old_start: Ints
    old_count: Ints
    new_start: Ints
    new_count: Ints


def changes(buf: bytes, starts: list[int], ends: list[int]) -> Changes:
    """The changes of the hunks in the regions ``buf[starts[i]:ends[i]]``: each starts at an ``@@``
    line and ends at the ``\\n`` that ends its last line (or where ``buf`` ends); regions are in
    order and do not overlap."""
    n = len(starts)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return Changes(empty, empty, empty, empty, empty, empty, empty)
    arr = np.frombuffer(buf, np.uint8)
    st = np.asarray(starts, np.int64)
    en = np.asarray(ends, np.int64)
    nl = np.flatnonzero(arr == 10)
    all_lines = np.concatenate(([0], nl + 1))
    all_lines = all_lines[all_lines < len(arr)]
    # The lines of each region: from its first line to the first line at or after its end.
    first_line = np.searchsorted(all_lines, st)
    last_line = np.searchsorted(all_lines, en)
    marks = np.zeros(len(all_lines) + 1, np.int64)
    np.add.at(marks, first_line, 1)
    np.add.at(marks, last_line, -1)
    keep = np.cumsum(marks[:-1]) > 0
    line = all_lines[keep]
    region = np.repeat(np.arange(n), last_line - first_line)
    first = arr[line]
    is_hdr = first == _AT
    body = (first == _SP) | (first == _MINUS) | (first == _PLUS)
    if int(np.count_nonzero(is_hdr | body | (first == _BACKSLASH))) != len(first):
        raise LogParseError("a line in git's patch that is no hunk line")
    hunk_region = region[is_hdr]
    # The hunk header lines, as one Arrow array over the buffer's lines.
    offsets = np.concatenate((all_lines, [len(arr)])).astype(np.int64)
    lines = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(all_lines), [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
    a, b, c, d = _ranges(lines.take(pa.array(np.flatnonzero(keep)[is_hdr])))
    hunk = (np.cumsum(is_hdr) - 1)[body]
    first = first[body]
    b_region = region[body]
    is_ctx, is_del, is_add = first == _SP, first == _MINUS, first == _PLUS
    old_inc = (is_ctx | is_del).astype(np.int64)
    new_inc = (is_ctx | is_add).astype(np.int64)
    nh = len(hunk_region)
    old_lines = np.bincount(hunk, old_inc, nh).astype(np.int64)
    new_lines = np.bincount(hunk, new_inc, nh).astype(np.int64)
    if not (np.array_equal(old_lines, b) and np.array_equal(new_lines, d)):
        raise LogParseError("git's patch has a hunk whose lines do not match its header")
    # The first body line's number on each side (an empty side's header start is the line before).
    old_first = a + (old_lines == 0)
    new_first = c + (new_lines == 0)
    hunk_start = np.searchsorted(hunk, np.arange(nh))
    old_before = np.cumsum(old_inc) - old_inc
    new_before = np.cumsum(new_inc) - new_inc
    old_no = old_first[hunk] + old_before - old_before[np.minimum(hunk_start, len(hunk) - 1)][hunk]
    new_no = new_first[hunk] + new_before - new_before[np.minimum(hunk_start, len(hunk) - 1)][hunk]
    chg = is_del | is_add
    prev_chg = np.concatenate(([False], chg[:-1]))
    same_hunk = np.concatenate(([False], hunk[1:] == hunk[:-1]))
    run_start = chg & ~(prev_chg & same_hunk)
    run = np.cumsum(run_start) - 1
    nr = int(np.count_nonzero(run_start))
    dels = np.bincount(run[chg], is_del[chg], nr).astype(np.int64)
    adds = np.bincount(run[chg], is_add[chg], nr).astype(np.int64)
    o0, n0 = old_no[run_start], new_no[run_start]
    return Changes(
        added=np.bincount(b_region, is_add, n).astype(np.int64),
        deleted=np.bincount(b_region, is_del, n).astype(np.int64),
        count=np.bincount(b_region[run_start], minlength=n).astype(np.int64),
        old_start=np.where(dels > 0, o0, o0 - 1), old_count=dels,
        new_start=np.where(adds > 0, n0, n0 - 1), new_count=adds)


def _ranges(headers: pa.Array) -> tuple[Ints, Ints, Ints, Ints]:
    parts = pc.extract_regex(headers, _HEADER)
    if parts.null_count:
        raise LogParseError("git's patch has a hunk header the parser cannot read")
    out = []
    for name in ("a", "b", "c", "d"):
        text = parts.field(name).cast(pa.large_string())
        if name in ("b", "d"):  # a count git leaves out is 1
            text = pc.if_else(pc.equal(text, ""), "1", text)
        out.append(text.cast(pa.int64()).to_numpy())
    return out[0], out[1], out[2], out[3]
