"""Git I/O: every git process leadlens starts, and nothing else (parsing lives in parse.py)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from leadlens.errors import FatalSourceError, TransientSourceError
from leadlens.sources.git.parse import LOG_FORMAT, PATCH_FORMAT, decode, parse_tz_offset

__all__ = ["GitRepo", "GitStream", "RefRecord", "check_git", "open_repo"]

_MIN_GIT = (2, 31)  # %(trailers:key_value_separator=...) arrived in 2.31
_READ_SIZE = 1 << 20
_PIPE_SIZE = 1 << 20  # Linux's default limit for a pipe an unprivileged process enlarges
# Commits git shows regardless of config a user may have set (signatures, colour, external diff).
_LOG_OPTS = (
    "-c", "log.showSignature=false", "-c", "color.ui=never", "-c", "core.quotePath=true",
    "log", "--no-walk=unsorted", "--stdin", "--no-color", "--no-ext-diff", "--no-textconv",
    "--no-mailmap", "--date=format:%z",
)
# Dates as git stores them ("<epoch seconds> <offset>"): git's own formatting of a date at or
# beyond 2^63 seconds stops for-each-ref with "Timestamp too large", whatever the other refs hold.
_REF_FIELDS = (
    "%(refname)", "%(objectname)", "%(objecttype)", "%(*objectname)", "%(*objecttype)",
    "%(taggerdate:raw)", "%(committerdate:raw)", "%(*committerdate:raw)",
    "%(taggername)", "%(taggeremail:trim)", "%(contents)",
)
_REF_FORMAT = "".join(f + "%00" for f in _REF_FIELDS)
# Refs that are not project history: notes, stashes, filter-branch backups.
_SKIP_REFS = re.compile(r"^refs/(notes/|stash$|original/)")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(LC_ALL="C", LANG="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0",
               GIT_PAGER="cat", PAGER="cat")
    return env


def _run(args: Sequence[str], cwd: Path, stdin: bytes | None = None, check: bool = True) -> bytes:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, env=_env(), check=False
        )
    except FileNotFoundError as exc:
        raise FatalSourceError("git is not installed or not on PATH") from exc
    if check and proc.returncode != 0:
        raise FatalSourceError(_git_failure(cwd, args, proc.returncode, proc.stderr))
    return proc.stdout


def _git_failure(cwd: Path, args: Sequence[str], code: int, stderr: bytes) -> str:
    lines = [ln for ln in decode(stderr).splitlines() if ln.startswith(("fatal:", "error:"))]
    detail = lines[0] if lines else (decode(stderr).strip().splitlines() or [f"exit {code}"])[0]
    if "unable to read" in detail or "bad object" in detail or "missing" in detail:
        detail += " (the clone is missing objects: partial, corrupt, or pruned during ingest)"
    sub = next((a for a in args if not a.startswith("-") and "=" not in a), "git")
    return f"git {sub} failed in {cwd}: {detail}"


def check_git() -> str:
    """The installed git's version; a clear error when it is missing or too old."""
    out = decode(_run(["--version"], Path.cwd())).strip()
    m = re.search(r"(\d+)\.(\d+)", out)
    if not m or (int(m.group(1)), int(m.group(2))) < _MIN_GIT:
        need = ".".join(map(str, _MIN_GIT))
        raise FatalSourceError(f"leadlens needs git {need} or newer; found {out!r}")
    return out


@dataclass(frozen=True)
class RefRecord:
    """A ref as ``for-each-ref`` reports it, with what tags need."""

    name: str
    sha: str
    object_type: str
    peeled_sha: str | None
    peeled_type: str | None
    tagger_time: datetime | None
    tagger_tz: int | None
    commit_time: datetime | None
    commit_tz: int | None
    tagger_name: str | None
    tagger_email: str | None
    message: str | None


def _ts(text: str) -> datetime | None:
    """Epoch seconds as git prints them; None when absent or beyond what a datetime holds."""
    if not text.lstrip("-").isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _raw_date(text: str) -> tuple[datetime | None, int | None]:
    """``%(...date:raw)``: ``1700000000 +0200`` -> (the UTC time, 120); unknown parts None."""
    seconds, _, offset = text.strip().partition(" ")
    return _ts(seconds), parse_tz_offset(offset)


@dataclass(frozen=True)
class GitRepo:
    """A local repository (work tree, bare or no-checkout clone) and the git calls made on it."""

    path: Path
    git_dir: Path
    is_bare: bool
    is_shallow: bool

    def config(self, key: str) -> str | None:
        out = decode(_run(["config", "--get", key], self.path, check=False)).strip()
        return out or None

    def symbolic_ref(self, name: str) -> str | None:
        out = decode(_run(["symbolic-ref", "-q", name], self.path, check=False)).strip()
        return out or None

    def head_sha(self) -> str | None:
        out = decode(_run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], self.path, check=False))
        return out.strip() or None

    def resolve_branch(self, name: str) -> str | None:
        """Full ref name of a branch given as ``main``, ``origin/main`` or ``refs/...``."""
        candidates = [name] if name.startswith("refs/") else [
            f"refs/heads/{name}", f"refs/remotes/{name}", f"refs/remotes/origin/{name}"
        ]
        for ref in candidates:
            if _run(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], self.path, check=False):
                return ref
        return None

    def refs(self) -> list[RefRecord]:
        raw = _run(["for-each-ref", f"--format={_REF_FORMAT}"], self.path)
        fields = raw.split(b"\0")
        n = len(_REF_FIELDS)
        out = []
        for i in range(0, len(fields) - n + 1, n):
            f = [decode(x) for x in fields[i : i + n]]
            name = f[0].lstrip("\n")
            if _SKIP_REFS.match(name):
                continue
            annotated = f[2] == "tag"
            tagger_time, tagger_tz = _raw_date(f[5])
            commit_time, commit_tz = _raw_date(f[7] if annotated else f[6])
            out.append(RefRecord(
                name=name, sha=f[1], object_type=f[2],
                peeled_sha=f[3] or None, peeled_type=f[4] or None,
                tagger_time=tagger_time, tagger_tz=tagger_tz,
                commit_time=commit_time, commit_tz=commit_tz,
                tagger_name=f[8] or None, tagger_email=f[9] or None,
                message=f[10].rstrip("\n") if annotated else None,
            ))
        return out

    def peel(self, names: Sequence[str]) -> dict[str, str | None]:
        """Resolve refs to the commit they finally point at (nested tags); None when not a commit."""
        if not names:
            return {}
        if any("\n" in name for name in names):  # no ref's name; a user's revision, no commit
            return {name: None if "\n" in name else self.peel([name])[name] for name in names}
        # One git for all of them: each answer line is "<sha> commit", or "<name> missing" (or
        # "ambiguous") when the name peels to no commit.
        out = _run(["cat-file", "--batch-check=%(objectname) %(objecttype)"], self.path,
                   stdin="".join(f"{name}^{{commit}}\n" for name in names).encode())
        answers = decode(out).splitlines()
        if len(answers) != len(names):
            raise FatalSourceError(f"git cat-file answered {len(answers)} of {len(names)} refs"
                                   f" in {self.path}")
        return {name: line[:-7] if line.endswith(" commit") else None
                for name, line in zip(names, answers, strict=True)}

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """``ancestor`` is in ``descendant``'s history (a commit is its own ancestor)."""
        proc = subprocess.run(["git", "merge-base", "--is-ancestor", ancestor, descendant],
                              cwd=self.path, capture_output=True, env=_env(), check=False)
        if proc.returncode > 1:  # 1 means "no"; anything else, that git could not tell
            raise FatalSourceError(_git_failure(self.path, ["merge-base"], proc.returncode,
                                                proc.stderr))
        return proc.returncode == 0

    def rev_list(self, include: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
        """Commits reachable from ``include`` and not from ``exclude`` (missing objects ignored)."""
        if not include:
            return []
        stdin = "\n".join([*include, *(f"^{sha}" for sha in exclude)]).encode() + b"\n"
        out = _run(["rev-list", "--ignore-missing", "--stdin"], self.path, stdin=stdin)
        return out.decode("ascii").split()

    def shallow_boundary(self) -> list[str]:
        path = self.git_dir / "shallow"
        try:
            return path.read_text(encoding="ascii").split()
        except OSError:
            return []

    def committer_times(self, shas: Sequence[str]) -> list[datetime]:
        """The committer times of ``shas`` that are stored and readable."""
        if not shas:
            return []
        stdin = ("\n".join(shas) + "\n").encode()
        out = _run(["log", "--no-walk", "--stdin", "--ignore-missing", "--format=%ct"], self.path,
                   stdin=stdin)
        return [t for x in decode(out).split() if (t := _ts(x)) is not None]

    def first_parent_root(self, rev: str) -> str | None:
        """The oldest commit on ``rev``'s first-parent chain: the root, or in a shallow clone the
        commit where the chain's stored history stops."""
        out = decode(_run(["rev-list", "--first-parent", "--max-parents=0", rev], self.path,
                          check=False)).split()
        return out[-1] if out else None

    def stream_log(self, shas: Sequence[str]) -> Iterator[bytes]:
        """``git log --numstat -z`` of exactly these commits, as raw chunks."""
        with self.open_log(shas) as stream:
            yield from iter(stream.read, b"")

    def stream_patch(self, shas: Sequence[str]) -> Iterator[bytes]:
        """``git log -p -U1`` of exactly these commits, as raw chunks."""
        with self.open_patch(shas) as stream:
            yield from iter(stream.read, b"")

    def stream_patch_u0(self, shas: Sequence[str]) -> Iterator[bytes]:
        """``git log -p -U0`` of exactly these commits (benchmarks/numstat_context.py)."""
        with GitStream(self.path, [*_LOG_OPTS, "-p", "-U0", "--src-prefix=a/", "--dst-prefix=b/",
                                   f"--format={PATCH_FORMAT}"], shas) as stream:
            yield from iter(stream.read, b"")

    def open_log(self, shas: Sequence[str]) -> GitStream:
        """``git log --numstat -z`` of exactly these commits, in this order, started."""
        return GitStream(self.path, [*_LOG_OPTS, "-z", "--numstat", f"--format={LOG_FORMAT}"], shas)

    def open_patch(self, shas: Sequence[str]) -> GitStream:
        """``git log -p -U1`` of exactly these commits, in this order, with the fields of
        ``--format=LOG_FORMAT``, started: the line-history pass (sources/git/onepass.py)."""
        # A blank context line stays " " (diff.suppressBlankEmpty would make it an empty line).
        return GitStream(self.path, ["-c", "diff.suppressBlankEmpty=false", *_LOG_OPTS, "-p",
                                     "-U1", "--inter-hunk-context=0",
                                     "--src-prefix=a/", "--dst-prefix=b/",
                                     f"--format={LOG_FORMAT}"], shas)


class GitStream:
    """A running ``git log`` over a list of commits; :meth:`read` returns its output as it comes.

    Used as a context manager: on leaving, git must have ended well (else an error is raised), and
    is killed if it still runs (the reader gave up). Its stderr goes to a temporary file, so git
    never waits on a full stderr pipe nobody reads; its stdout pipe is enlarged so that git can
    run ahead of a reader that is busy (with another git process, or parsing).
    """

    def __init__(self, cwd: Path, args: Sequence[str], shas: Sequence[str]) -> None:
        self.cwd, self.args = cwd, list(args)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by __exit__)
        try:
            self._proc = subprocess.Popen(
                ["git", *args], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._stderr, env=_env(),
            )
        except FileNotFoundError as exc:
            self._stderr.close()
            raise FatalSourceError("git is not installed or not on PATH") from exc
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._fd = self._proc.stdout.fileno()
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(self._fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        try:
            # git reads all of stdin before it writes anything, so this cannot deadlock.
            self._proc.stdin.write(("\n".join(shas) + "\n").encode("ascii"))
            self._proc.stdin.close()
        except OSError:  # git ended early: __exit__ says why
            with contextlib.suppress(OSError):
                self._proc.stdin.close()

    def read(self) -> bytes:
        """What git has written since the last call (waiting for some); b"" once it is done."""
        return os.read(self._fd, _READ_SIZE)

    def __enter__(self) -> GitStream:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        proc = self._proc
        assert proc.stdout is not None
        try:
            if exc_type is not None:
                return
            proc.stdout.close()  # read to the end; were it not, git stops rather than waits
            code = proc.wait()
            if code < 0:
                raise TransientSourceError(f"git log in {self.cwd} was killed by signal {-code}")
            if code != 0:
                self._stderr.seek(0)
                raise FatalSourceError(_git_failure(self.cwd, self.args, code,
                                                    self._stderr.read()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            self._stderr.close()


def open_repo(path: Path | str) -> GitRepo:
    """Validate ``path`` as a git repository; a clear error when it is not one."""
    p = Path(path).expanduser()
    if not p.exists():
        raise FatalSourceError(f"{p}: no such file or directory")
    if not p.is_dir():
        raise FatalSourceError(f"{p} is not a directory, so not a git repository")
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--absolute-git-dir", "--is-bare-repository",
             "--is-shallow-repository"],
            cwd=p, capture_output=True, env=_env(), check=False,
        )
    except FileNotFoundError as exc:
        raise FatalSourceError("git is not installed or not on PATH") from exc
    if out.returncode != 0:
        err = decode(out.stderr)
        if "dubious ownership" in err:
            raise FatalSourceError(
                f"{p}: git refuses a repository owned by another user; run "
                f"`git config --global --add safe.directory {p.resolve()}`"
            )
        raise FatalSourceError(f"{p} is not a git repository")
    lines = decode(out.stdout).split("\n")
    git_dir = Path(lines[0])
    is_bare = lines[1] == "true"
    root = p.resolve()
    if not is_bare:  # a subdirectory of a work tree stands for the whole repository
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=p, capture_output=True,
                             env=_env(), check=False)
        if top.returncode == 0 and top.stdout.strip():
            root = Path(decode(top.stdout).strip())
    return GitRepo(path=root, git_dir=git_dir, is_bare=is_bare, is_shallow=lines[2] == "true")
