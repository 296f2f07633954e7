"""What one change does to a repository, read from git alone: for ``leadlens gate --base --head``.

The files are ``git diff BASE...HEAD`` (three dots: from the merge base of the two to HEAD, what a
pull request shows, so commits the base branch gained meanwhile are not the change's); the commits
are ``git log BASE..HEAD`` (those HEAD has and BASE has not). Plain data out: the CLI turns it into
the policy's facts (sources never import the policy).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from leadlens.attribution import read_message
from leadlens.errors import UserError
from leadlens.sources.git.client import GitRepo, _run
from leadlens.sources.git.parse import decode

__all__ = ["CODEOWNERS_PATHS", "DiffCommit", "DiffFile", "added_lines", "blobs", "codeowners", "commits",
           "files", "resolve"]

# Where GitHub looks for CODEOWNERS, in its order: the first found is the one it uses.
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
# Options no user configuration may change (colours, external diff tools, prefixes, renames).
_CONFIG = ("-c", "color.ui=never", "-c", "core.quotePath=true", "-c", "diff.noprefix=false",
           "-c", "diff.mnemonicPrefix=false", "-c", "log.showSignature=false")
_DIFF = ("--no-color", "--no-ext-diff", "--no-textconv", "--no-relative", "-M",
         "--submodule=short", "--ignore-submodules=none")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True, slots=True)
class DiffFile:
    path: str
    status: str  # A, M, D, R, C, T (git's letters; the score of R and C dropped)
    old_path: str | None
    added: int | None  # None: binary
    deleted: int | None
    added_lines: tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class DiffCommit:
    sha: str
    author: str  # Name <email>
    committer: str
    committed_at: datetime | None
    message: str
    trailers: tuple[tuple[str, str], ...]


def resolve(repo: GitRepo, rev: str, option: str) -> str:
    """The commit ``rev`` names; a one-line error naming ``option`` when it names none."""
    if not rev or rev.startswith("-") or "\0" in rev:
        raise UserError(f"{option} {rev!r} is not a revision")
    sha = repo.peel([rev]).get(rev)
    if not sha:
        raise UserError(f"{option} {rev!r}: no such commit in {repo.path}")
    return sha


def files(repo: GitRepo, base: str, head: str) -> list[DiffFile]:
    """Every path ``base...head`` touches, with line counts and the added lines (numbered in the
    new file). ``base`` and ``head`` are commit SHAs (see :func:`resolve`)."""
    span = f"{base}...{head}"
    # One diff: the raw records and counts (-z: NUL-separated), one NUL, then the -U0 patch. Git
    # reads each blob once, where a second diff for the patch read them all again.
    out = _run([*_CONFIG, "diff", *_DIFF, "--raw", "--numstat", "-z", "--patch", "-U0",
                "--src-prefix=a/", "--dst-prefix=b/", span], repo.path)
    raw, _, patch = out.partition(b"\0\0")  # no listing has an empty field: this is the seam
    entries = _parse_raw(raw)
    # git writes one `diff --git` section per file pair, in the order of the raw listing.
    sections = re.split(rb"(?m)^diff --git ", patch)[1:]
    if len(sections) != len(entries):
        raise UserError(f"git diff {span} in {repo.path} listed {len(entries)} files but showed"
                        f" {len(sections)}: cannot tell the added lines")
    return [DiffFile(path, status, old, added, deleted, added_lines(section))
            for (path, status, old, added, deleted), section in zip(entries, sections, strict=True)]


def _parse_raw(raw: bytes) -> list[tuple[str, str, str | None, int | None, int | None]]:
    """``--raw --numstat -z``: the raw records (status, paths) first, then the counts, same order."""
    fields = raw.split(b"\0")
    heads: list[tuple[str, str, str | None]] = []
    i = 0
    while i < len(fields) and fields[i].startswith(b":"):
        status = decode(fields[i].split()[-1])[:1]
        if status in ("R", "C"):
            heads.append((decode(fields[i + 2]), status, decode(fields[i + 1])))
            i += 3
        else:
            heads.append((decode(fields[i + 1]), status, None))
            i += 2
    counts: list[tuple[int | None, int | None]] = []
    while i < len(fields) and fields[i]:
        added, deleted, name = fields[i].split(b"\t", 2)
        counts.append((None, None) if added == b"-" else (int(added), int(deleted)))
        i += 3 if name == b"" else 1  # a rename: the old and new names follow
    if len(counts) != len(heads):
        raise UserError("git diff gave counts for a different number of files than it listed")
    return [(p, s, o, a, d) for (p, s, o), (a, d) in zip(heads, counts, strict=True)]


def added_lines(section: bytes) -> tuple[tuple[int, str], ...]:
    """The added lines of one file's ``-U0`` patch: (line number in the new file, text)."""
    out: list[tuple[int, str]] = []
    line_no = 0
    in_hunk = False
    for line in decode(section).split("\n"):
        if line.startswith("@@"):
            m = _HUNK.match(line)
            in_hunk = m is not None
            line_no = int(m.group(1)) if m else 0
        elif in_hunk and line.startswith("+"):
            out.append((line_no, line[1:].rstrip("\r")))
            line_no += 1
    return tuple(out)


def commits(repo: GitRepo, base: str, head: str) -> list[DiffCommit]:
    """``git log base..head``, oldest first, with each message's trailers as git reads them."""
    fmt = "%H%x00%an <%ae>%x00%cn <%ce>%x00%cI%x00%B"
    raw = _run([*_CONFIG, "log", "--no-color", "--no-mailmap", "--reverse", "-z",
                f"--format={fmt}", f"{base}..{head}", "--"], repo.path)
    fields = raw.split(b"\0")
    out: list[DiffCommit] = []
    for i in range(0, len(fields) - 4, 5):
        sha, author, committer, when, message = (decode(f) for f in fields[i:i + 5])
        _, _, trailers = read_message(message)
        try:
            at = datetime.fromisoformat(when) if when else None
        except ValueError:
            at = None
        out.append(DiffCommit(sha, author, committer, at, message.rstrip("\n"),
                              tuple((t.key, t.value) for t in trailers)))
    return out


def codeowners(texts: Mapping[str, str | None]) -> tuple[str, str] | tuple[None, None]:
    """(path, text) of the CODEOWNERS file GitHub would use among ``texts`` (see :func:`blobs`
    of :data:`CODEOWNERS_PATHS`); (None, None) if none."""
    for path in CODEOWNERS_PATHS:
        text = texts.get(path)
        if text is not None:
            return path, text
    return None, None


def blobs(repo: GitRepo, rev: str, paths: Sequence[str]) -> dict[str, str | None]:
    """The text of each of ``paths`` at commit ``rev`` (one ``git cat-file --batch``); None for
    a path that is not a file there. ``paths`` are ours (fixed names), one line each."""
    if any("\n" in p for p in paths):
        raise ValueError("a path with a line break")
    spec = "".join(f"{rev}:{p}\n" for p in paths).encode()
    raw = _run(["cat-file", "--batch"], repo.path, stdin=spec)
    out: dict[str, str | None] = {}
    pos = 0
    for path in paths:
        end = raw.index(b"\n", pos)
        header = raw[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():  # "<spec> missing", "ambiguous"
            out[path] = None
            continue
        size = int(header[2])
        out[path] = decode(raw[pos:pos + size]) if header[1] == b"blob" else None
        pos += size + 1
    return out
