"""``git blame`` over a revision range, a process per file run in parallel: lines per range commit.

Only I/O and one pure parser live here; what the counts mean (AI or human) is analysis/share.py's.
A file no commit in ``A..B`` touched cannot hold a line from the range, so it is never blamed: one
``git log`` lists the paths the range touched (every parent of a merge, renames as delete + add),
and only files at ``B`` in that list are blamed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from leadlens.errors import UserError
from leadlens.model import Commit, RangeBlame, Revision
from leadlens.patterns import Regex
from leadlens.sources.git.client import GitRepo, _run
from leadlens.sources.git.parse import LOG_FORMAT, decode, parse_log

__all__ = [
    "RangeBlame",
    "Revision",
    "blame_ranges",
    "parse_blame",
    "release_tags",
    "resolve",
    "share_ranges",
]

_HEADER = re.compile(rb"^([0-9a-f]{40}|[0-9a-f]{64}) \d+ \d+(?: (\d+))?$")
_GITLINK = b"160000"
# Config a user may have set that would change what the commands below print.
_QUIET = ("-c", "log.showSignature=false", "-c", "color.ui=never")


def parse_blame(data: bytes) -> dict[str, int]:
    """Lines per commit in ``git blame --incremental`` (or ``--porcelain``) output, leaving out
    boundary commits (outside the range). Pure, so it is tested on captured text.

    Each group opens with ``<sha> <orig> <final> <count>``; git prints a commit's details (and its
    ``boundary`` flag) only the first time the commit appears, so the flag is kept per commit.
    """
    counts: dict[str, int] = {}
    boundary: set[str] = set()
    sha = ""
    for line in data.split(b"\n"):
        if not line or line[0] == 9:  # porcelain's line content (TAB) or the final newline
            continue
        m = _HEADER.match(line)
        if m:
            sha = m.group(1).decode("ascii")
            if m.group(2) is not None:
                counts[sha] = counts.get(sha, 0) + int(m.group(2))
        elif line == b"boundary":
            boundary.add(sha)
    return {s: n for s, n in counts.items() if s not in boundary}


def resolve(repo: GitRepo, rev: str) -> Revision:
    """``rev`` as a commit; a clear error when it names none."""
    if not rev or rev.startswith("-"):
        raise UserError(f"not a revision: {rev!r}")
    sha = repo.peel([rev])[rev]
    if sha is None:
        raise UserError(f"unknown revision {rev!r} in {repo.path} (not a commit, tag or branch)")
    return Revision(rev, sha)


def release_tags(repo: GitRepo, pattern: str) -> list[Revision]:
    """Tags matching ``pattern`` (matched at the start, as the derive step reads it) that point at
    commits, in version order (``git tag --sort=v:refname``)."""
    regex = Regex(pattern, "release_tag_pattern")
    raw = _run(["for-each-ref", "--sort=v:refname", "--format=%(refname:strip=2)%00%(objectname)"
                "%00%(objecttype)%00%(*objectname)%00%(*objecttype)", "refs/tags"], repo.path)
    out = []
    nested = []
    for line in decode(raw).splitlines():
        name, sha, kind, peeled, peeled_kind = line.split("\0")
        if not regex.match(name):
            continue
        if kind == "commit":
            out.append(Revision(name, sha))
        elif peeled_kind == "commit":
            out.append(Revision(name, peeled))
        elif peeled_kind == "tag":  # a tag of a tag: rare, so peeled one by one
            nested.append(len(out))
            out.append(Revision(name, ""))
    for i in nested:
        out[i] = Revision(out[i].name, repo.peel([out[i].name])[out[i].name] or "")
    return [r for r in out if r.sha]


def share_ranges(repo: GitRepo, from_rev: str | None, to_rev: str | None, *, releases: bool = False,
                 release_pattern: str = "") -> list[tuple[Revision, Revision]]:
    """The ranges to blame: ``from..to`` (``to`` defaults to HEAD), or with ``releases`` every
    consecutive pair of release tags in version order, from ``from_rev`` to ``to_rev`` when given
    (both must then be release tags)."""
    if not releases:
        if from_rev is None:
            raise UserError("--from REV is required (or --releases for every pair of release tags)")
        start, end = resolve(repo, from_rev), resolve(repo, to_rev or "HEAD")
        _check_range(repo, start, end)
        return [(start, end)]
    tags = release_tags(repo, release_pattern)
    names = [t.name for t in tags]
    lo, hi = 0, len(tags) - 1
    for flag, rev in (("--from", from_rev), ("--to", to_rev)):
        if rev is not None and rev not in names:
            raise UserError(f"{flag} {rev!r}: with --releases it must be a release tag"
                            f" (tags matching release_tag_pattern {release_pattern!r})")
    if from_rev is not None:
        lo = names.index(from_rev)
    if to_rev is not None:
        hi = names.index(to_rev)
    if hi - lo < 1:
        n = max(0, hi - lo + 1)
        if from_rev or to_rev:
            raise UserError(f"--releases needs at least two release tags from {names[lo]} to"
                            f" {names[hi]} (in version order); there {'is' if n == 1 else 'are'} {n}")
        raise UserError(f"--releases needs at least two release tags; the repository has {len(tags)}"
                        f" matching release_tag_pattern {release_pattern!r}")
    return list(zip(tags[lo:hi], tags[lo + 1:hi + 1], strict=True))


def _check_range(repo: GitRepo, start: Revision, end: Revision) -> None:
    """``start..end`` must be history that leads to ``end``: otherwise blame finds no line of the
    range (or lines of some other branch) and the share would read as a figure."""
    names = f"--from {start.name!r} ({start.sha[:12]}) and --to {end.name!r} ({end.sha[:12]})"
    if start.sha == end.sha:
        raise UserError(f"{names} are the same commit: no commit lies between them")
    if not repo.is_ancestor(start.sha, end.sha):
        swapped = repo.is_ancestor(end.sha, start.sha)
        raise UserError(f"--from {start.name!r} is not an ancestor of --to {end.name!r}: the share"
                        " counts lines at --to written by commits since --from, so --from must be"
                        " an earlier commit of --to's history"
                        + (" (these two look swapped)" if swapped else ""))


def blame_ranges(repo: GitRepo, ranges: Sequence[tuple[Revision, Revision]], *,
                 include: Sequence[str] = (), exclude: Sequence[str] = (),
                 detect_moves: bool = False, jobs: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> list[RangeBlame]:
    """Blame every file at each range's end that matches the globs and that the range touched,
    all ranges' files in one pool of ``jobs`` threads (each waits on its own ``git blame``).
    ``progress(done, total)`` is called as files finish."""
    for pattern in (*include, *exclude):
        _check_glob(pattern)
    plans = []
    for start, end in ranges:
        touched = _touched_paths(repo, start.sha, end.sha)
        files = [p for p in _files_at(repo, end.sha, include, exclude) if p in touched]
        plans.append((start, end, files))
    tasks = [(i, path) for i, (_, _, files) in enumerate(plans) for path in files]
    # Plain `git blame A..B` (the definition, and what published figures such as aider's
    # use): root commits inside the range are flagged boundary by git and so are not counted.
    args = ["-M", "-C"] if detect_moves else []
    results: list[dict[str, dict[str, int]]] = [{} for _ in plans]

    def blame(task: tuple[int, str]) -> tuple[int, str, dict[str, int]]:
        i, path = task
        start, end, _ = plans[i]
        data = _run(["blame", "--incremental", *args, f"{start.sha}..{end.sha}", "--", path],
                    repo.path)
        return i, path, parse_blame(data)

    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, (i, path, counts) in enumerate(pool.map(blame, tasks), 1):
            if counts:
                results[i][path] = counts
            if progress is not None:
                progress(done, len(tasks))
    out = []
    for (start, end, _), blamed in zip(plans, results, strict=True):
        out.append(RangeBlame(start, end, blamed, _range_commits(repo, start.sha, end.sha)))
    return out


def _touched_paths(repo: GitRepo, start: str, end: str) -> set[str]:
    """Every path a commit in ``start..end`` changed against any of its parents: a superset of the
    files that can hold lines from the range (a path no range commit changed is the same blob at
    ``end`` as at the boundary, and blame hands a same-blob file whole to the parent)."""
    raw = _run([*_QUIET, "log", "--root", "--diff-merges=separate", "--no-renames", "--name-only",
                "-z", "--format=", "--no-ext-diff", f"{start}..{end}"], repo.path)
    return {_path(p) for p in raw.split(b"\0") if p}


def _files_at(repo: GitRepo, end: str, include: Sequence[str], exclude: Sequence[str]) -> list[str]:
    """Files (blobs, not submodules) at ``end`` that match an include (or all, without any) and no
    exclude, largest first so the longest blames start early. Git matches the globs
    (pathspec ``:(glob)``); ``ls-tree`` ignores pathspec magic, so ``diff-tree`` from the empty tree
    lists the matches."""
    sizes: dict[str, int] = {}
    for entry in _run(["ls-tree", "-r", "-l", "-z", end], repo.path).split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, kind, _, size = meta.split(maxsplit=3)
        if kind == b"blob" and mode != _GITLINK:
            sizes[_path(name)] = int(size) if size.strip().isdigit() else 0
    if include or exclude:
        empty = decode(_run(["hash-object", "-t", "tree", "--stdin"], repo.path, stdin=b"")).strip()
        specs = [f":(glob){p}" for p in include] + [f":(exclude,glob){p}" for p in exclude]
        raw = _run(["diff-tree", "-r", "-z", "--name-only", "--no-renames", empty, end, "--",
                    *specs], repo.path)
        matched = {_path(p) for p in raw.split(b"\0") if p}
        sizes = {p: s for p, s in sizes.items() if p in matched}
    return sorted(sizes, key=lambda p: (-sizes[p], p))


def _range_commits(repo: GitRepo, start: str, end: str) -> dict[str, Commit]:
    """The range's commits with what attribution reads, in one ``git log``."""
    raw = _run([*_QUIET, "log", "-z", "--no-mailmap", "--no-color", "--date=format:%z",
                f"--format={LOG_FORMAT}", f"{start}..{end}"], repo.path)
    return {c.sha: c for c in parse_log(raw)}


def _path(raw: bytes) -> str:
    # surrogateescape keeps non-UTF-8 names byte-exact on their way back into git's argv.
    return raw.decode("utf-8", "surrogateescape")


def _check_glob(pattern: str) -> None:
    """Catch what git's wildmatch would silently read as matching nothing."""
    if not pattern.strip():
        raise UserError("an empty --include/--exclude pattern matches nothing; leave it out")
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":  # a leading ] is literal
                j += 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "[" and pattern.startswith("[:", j):
                    end = pattern.find(":]", j + 2)
                    j = end + 2 if end >= 0 else n
                    continue
                j += 1
            if j >= n:
                raise UserError(f"bad glob {pattern!r}: '[' at {i + 1} is never closed")
            i = j
        i += 1
