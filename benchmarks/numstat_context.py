"""Why a file's added/deleted counts cannot come from its ``-U0`` hunks: compare, per (commit, path),

- ``git log --numstat`` (what leadlens stores: git's default three lines of context),
- ``git -c diff.context=0 log --numstat`` (the same counts, computed without context),
- the sums of the ``-U0`` hunk headers' counts (what ``ingest --line-history`` read before issue
  16's one pass),
- the sums of the changes of ``-p -U1`` (what it reads now: ``sources/git/onepass.py``), and the
  file counts that pass derives (those of the commits it counts again with ``--numstat`` left out).

git trims the common tail of the two sides of a diff before diffing it, but only when the diff has
no context (``trim_common_tail`` in git's xdiff-interface.c); xdiff's choices depend on the whole
input (how often each line occurs, how long the file is), so on a few files a diff without context
aligns differently and counts other lines. Expect the second and third to agree everywhere and the
first to differ from them on a few file changes, and the fourth and fifth to agree with the first
everywhere. Usage: ``numstat_context.py REPO [--limit N]``.
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Iterator
from pathlib import Path

from leadlens.sources.git.client import _LOG_OPTS, GitStream, open_repo
from leadlens.sources.git.onepass import OnePassParser
from leadlens.sources.git.parse import LOG_FORMAT, LogStreamParser
from leadlens.sources.git.patch import PatchStreamParser

Counts = dict[tuple[str, str], tuple[int | None, int | None]]


def numstat(chunks: Iterator[bytes]) -> Counts:
    parser, out = LogStreamParser(), {}
    for chunk in chunks:
        for c in parser.feed(chunk):
            out.update({(c.sha, f.path): (f.added, f.deleted) for f in c.files})
    for c in parser.close():
        out.update({(c.sha, f.path): (f.added, f.deleted) for f in c.files})
    return out


def hunk_sums(chunks: Iterator[bytes]) -> Counts:
    parser = PatchStreamParser()
    for chunk in chunks:
        parser.feed(chunk)
    parser.close()
    return {(h.sha, h.path): (sum(h.new_count), sum(h.old_count))
            for h in parser.take()[1].rows()}


def one_pass(chunks: Iterator[bytes]) -> tuple[Counts, Counts, int]:
    """The one pass's change sums and file counts per (commit, path), and how many commits it
    leaves to --numstat."""
    parser = OnePassParser()
    for chunk in chunks:
        parser.feed(chunk)
    parser.close()
    commits, rows = parser.take()
    t = rows.table("").to_pydict()
    sums: Counts = {(s, p): (sum(n), sum(o)) for s, p, o, n in zip(
        t["sha"], t["path"], t["old_count"], t["new_count"], strict=True)}
    files: Counts = {(c.sha, f.path): (f.added, f.deleted) for c in commits
                     if c.sha not in parser.recount for f in c.files}
    return sums, files, len(parser.recount)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--limit", type=int, help="only the newest N commits")
    args = ap.parse_args()
    git = open_repo(args.repo)
    shas = subprocess.run(["git", "-C", str(git.path), "rev-list", "--all"], check=True,
                          capture_output=True, text=True).stdout.split()[: args.limit]
    default = numstat(git.stream_log(shas))
    args_0 = ["-c", "diff.context=0", *_LOG_OPTS, "-z", "--numstat", f"--format={LOG_FORMAT}"]
    with GitStream(git.path, args_0, shas) as stream:
        no_context = numstat(iter(stream.read, b""))
    hunks = hunk_sums(git.stream_patch_u0(shas))
    u1, files, recount = one_pass(git.stream_patch(shas))
    text = {k: v for k, v in default.items() if v[0] is not None}  # binary files count "-"

    def differ(a: Counts, b: Counts) -> list[tuple[str, str]]:
        return [k for k in text if a[k] != b.get(k, (0, 0))]

    print(f"{len(shas):,} commits, {len(default):,} file changes ({len(text):,} text), "
          f"{len(hunks):,} with hunks")
    print(f"numstat (context 3) vs -U0 hunk sums:         {len(differ(default, hunks)):,} differ")
    print(f"numstat (diff.context=0) vs -U0 hunk sums:    {len(differ(no_context, hunks)):,} differ")
    print(f"numstat (context 3) vs numstat (context 0):   {len(differ(default, no_context)):,} differ")
    print(f"numstat (context 3) vs -U1 change sums:       {len(differ(default, u1)):,} differ")
    print(f"numstat (context 3) vs the one pass's counts: "
          f"{sum(1 for k, v in files.items() if default.get(k) != v):,} differ"
          f" ({len(files):,} compared; {recount:,} commits counted again by --numstat)")
    for sha, path in differ(default, hunks)[:5]:
        print(f"  {sha[:12]} {path}: numstat {default[sha, path]}, -U0 {hunks.get((sha, path))}")


if __name__ == "__main__":
    main()
