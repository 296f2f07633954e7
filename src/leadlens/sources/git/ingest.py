"""Run git ingests: plan each repository, read commits in parallel chunks, write in one thread.

Git does the heavy work (tree and blob diffs for ``--numstat``), so the parallelism that pays is
several git processes at once, each on a contiguous slice of the commits to read: the pool keeps
``jobs`` of them busy across all repositories. Parsing happens in the reading threads; DuckDB is
written only from the calling thread, one transaction per batch.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from leadlens.config import DEFAULT_KNOWN_HOSTS, Settings
from leadlens.errors import LeadlensError, SourceError
from leadlens.model import Commit
from leadlens.sources.base import QUIET, DeriveStart, Progress, RunSummary
from leadlens.sources.git.client import check_git, open_repo
from leadlens.sources.git.mapping import commits_table, files_table
from leadlens.sources.git.parse import LogParseError, LogStreamParser, parse_log
from leadlens.sources.git.source import RepoPlan, finish, plan_repo
from leadlens.store import Store
from leadlens.store.db import capped_memory
from leadlens.store.queries import lacking_line_history
from leadlens.store.writer import (
    begin_run,
    forget_commits,
    write_commits,
    write_hunks,
)

__all__ = ["GitSource", "IngestReport", "RepoOutcome", "chunks", "ingest_git"]

BATCH_COMMITS = 2000
# DuckDB's buffer pool otherwise grows with everything written (its default limit is 80% of RAM);
# a small pool keeps a long ingest's memory flat at no measured cost (docs/benchmarks.md).
INGEST_MEMORY_LIMIT = "64MB"
MIN_CHUNK = 1000
MAX_CHUNK = 20000


@dataclass
class RepoOutcome:
    repo: str
    path: str
    commits_added: int = 0
    hunks_commits: int = 0
    unreachable: int = 0
    changes: int | None = None  # derived after the ingest; None when nothing changed
    up_to_date: bool = False
    rederived: str | None = None  # up to date, yet derived again: why
    derived_how: str | None = None  # incremental, or why derived whole (derive.DeriveResult.how)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class IngestReport(RunSummary):
    """A git run: the shared summary, and one outcome per repository PATH, in the order given.
    ``repos``: the repositories whose history or mainline changed."""

    outcomes: list[RepoOutcome] = field(default_factory=list)

    def derived(self, repo: str, *, changes: int | None, warning: str | None,
                error: str | None, reason: str | None = None, how: str | None = None) -> None:
        mine = [o for o in self.outcomes if o.repo == repo and not o.error]
        if not mine:  # another repository of the store, derived again
            super().derived(repo, changes=changes, warning=warning, error=error, reason=reason)
        for outcome in mine:
            if error:
                outcome.error = error
                self.failed = True
                continue
            outcome.changes, outcome.derived_how = changes, how
            if outcome.up_to_date:
                outcome.rederived = reason
            if warning:
                outcome.warnings.append(warning)


@dataclass(frozen=True)
class GitSource:
    """Local clones (work tree, bare or no-checkout): commits, files, refs, tags, line history."""

    paths: Sequence[Path | str]
    name: str | None = None  # the store's name for the one repository (--name)
    branch: str | None = None
    line_history: bool = False
    jobs: int | None = None

    kind: ClassVar[str] = "git"
    derives_from: ClassVar[DeriveStart] = "changes"

    def ingest(self, store: Store, settings: Settings, progress: Progress = QUIET) -> IngestReport:
        return ingest_git(store, self.paths, name=self.name, branch=self.branch,
                          line_history=self.line_history, jobs=self.jobs or settings.git.jobs,
                          known_hosts=settings.git.known_hosts, progress=progress)


def chunks(shas: Sequence[str], jobs: int) -> list[Sequence[str]]:
    """Contiguous slices (pack locality), several per job so that uneven slices balance out."""
    n = len(shas)
    if n == 0:
        return []
    size = max(MIN_CHUNK, min(MAX_CHUNK, -(-n // (jobs * 4))))
    return [shas[i : i + size] for i in range(0, n, size)]


@dataclass(frozen=True)
class _CommitBatch:
    commits: pa.Table
    files: pa.Table
    size: int
    malformed: int  # commits with a date git could not give as a time


@dataclass(frozen=True)
class _PairBatch:
    commits: pa.Table
    files: pa.Table
    hunks: pa.Table
    size: int
    malformed: int


@dataclass(frozen=True)
class _HunkBatch:
    done: list[str]
    hunks: pa.Table


@dataclass(frozen=True)
class _Finished:
    error: BaseException | None = None


# Messages from reader threads to the writer.
_Msg = tuple[RepoPlan, _CommitBatch | _PairBatch | _HunkBatch | _Finished]


def _read_commits(plan: RepoPlan, shas: Sequence[str], run_id: int, now: datetime,
                  put: Callable[[_Msg], None]) -> None:
    parser = LogStreamParser()
    pending: list[Commit] = []

    def emit(final: bool) -> None:
        nonlocal pending
        while len(pending) >= BATCH_COMMITS or (final and pending):
            batch, pending = pending[:BATCH_COMMITS], pending[BATCH_COMMITS:]
            malformed = sum(1 for c in batch if c.author_time is None or c.committer_time is None)
            put((plan, _CommitBatch(commits_table(plan.name, batch, run_id, now),
                                    files_table(plan.name, batch), len(batch), malformed)))

    for chunk in plan.git.stream_log(shas):
        pending.extend(parser.feed(chunk))
        emit(final=False)
    pending.extend(parser.close())
    emit(final=True)


def _read_lines(plan: RepoPlan, shas: Sequence[str], run_id: int, now: datetime,
                put: Callable[[_Msg], None], *, with_commits: bool) -> None:
    """Commits with their line history, from one ``git log -p -U1`` (sources/git/onepass.py):
    each batch of commits is stored with its files and hunks (``with_commits``), or only the
    hunks of commits stored before without them.

    The files are counted from the same diff as ``--numstat`` counts them; the few commits whose
    diff does not show what numstat would say (a pure rename, a mode change or an empty file, of
    which numstat calls a binary blob's counts unknown; a type change) are counted again by a
    ``git log --numstat`` of those commits alone, before their batch is stored.
    """
    from leadlens.sources.git.onepass import OnePassParser  # only line history needs its arrays

    parser = OnePassParser()

    def emit(n: int) -> None:
        commits, hunks = parser.take(n)
        if not with_commits:
            put((plan, _HunkBatch([c.sha for c in commits], hunks.table(plan.name))))
            return
        commits = _recount(plan, commits, parser.recount)
        malformed = sum(1 for c in commits if c.author_time is None or c.committer_time is None)
        put((plan, _PairBatch(commits_table(plan.name, commits, run_id, now),
                              files_table(plan.name, commits), hunks.table(plan.name),
                              len(commits), malformed)))

    for chunk in plan.git.stream_patch(shas):
        # The parser counts a commit as done only once all of it has been read.
        parser.feed(chunk)
        if parser.done >= BATCH_COMMITS:
            emit(parser.done)
    parser.close()
    emit(parser.done)


def _recount(plan: RepoPlan, commits: list[Commit], recount: set[str]) -> list[Commit]:
    """``commits``, those in ``recount`` with their files as ``git log --numstat`` counts them."""
    need = [c.sha for c in commits if c.sha in recount]
    if not need:
        return commits
    recount.difference_update(need)
    counted = {c.sha: c.files for c in parse_log(b"".join(plan.git.stream_log(need)))}
    if len(counted) != len(need):
        raise LogParseError(f"{plan.name}: git counted {len(counted)} of {len(need)} commits")
    return [replace(c, files=counted[c.sha]) if c.sha in counted else c for c in commits]


def ingest_git(
    store: Store,
    paths: Sequence[Path | str],
    *,
    name: str | None = None,
    branch: str | None = None,
    line_history: bool = False,
    jobs: int | None = None,
    known_hosts: Sequence[str] = DEFAULT_KNOWN_HOSTS,
    progress: Progress = QUIET,
) -> IngestReport:
    """Ingest each repository into ``store``; failures are reported per repository, not raised
    (a bug of ours is raised). The derive step is the caller's (``pipeline.ingest``)."""
    check_git()
    with capped_memory(store, INGEST_MEMORY_LIMIT):
        report = _ingest(store, paths, name=name, branch=branch, line_history=line_history,
                         jobs=max(1, jobs or os.cpu_count() or 1), known_hosts=known_hosts,
                         progress=progress)
    report.failed = any(o.error for o in report.outcomes)
    report.repos = [o.repo for o in report.outcomes if not o.error and not o.up_to_date]
    return report


def _ingest(
    store: Store,
    paths: Sequence[Path | str],
    *,
    name: str | None,
    branch: str | None,
    line_history: bool,
    jobs: int,
    known_hosts: Sequence[str],
    progress: Progress,
) -> IngestReport:
    con = store.con
    now = datetime.now(UTC)
    outcomes: dict[str, RepoOutcome] = {}
    plans: list[tuple[RepoPlan, int]] = []
    order: list[RepoOutcome] = []
    for path in paths:
        outcome = RepoOutcome(repo=str(path), path=str(path))
        order.append(outcome)
        try:
            git = open_repo(path)
            plan = plan_repo(store, git, name=name, branch=branch, known_hosts=known_hosts,
                             line_history=line_history)
        except LeadlensError as exc:
            outcome.error = str(exc)
            continue
        outcome.repo = plan.name
        outcome.warnings = plan.warnings
        outcome.up_to_date = plan.up_to_date
        if plan.name in outcomes:
            outcome.error = f"{path}: {plan.name} is already being ingested from another path"
            continue
        outcomes[plan.name] = outcome
        if not plan.up_to_date:
            plans.append((plan, begin_run(con, plan.name, "git", str(git.path))))
            forget_commits(con, plan.name, plan.deepened)

    total = sum(len(p.to_read) for p, _ in plans)
    if total:
        progress.start(total, "commits")
    # With --line-history, new commits are read with their line history (one git log -p -U1).
    _pump(store, plans, jobs, now, outcomes, progress, kind="both" if line_history else "commits")
    for plan, _ in plans:
        if plan.malformed_dates:
            plan.warnings.append(
                f"{plan.name}: {plan.malformed_dates} commit(s) have a date git cannot give as a"
                " time (empty, or beyond the year 9999): stored as null and flagged"
                " (date_flags *_malformed); a figure that needs such a date leaves it out")
    if line_history:
        # Stored commits still without line history: those of earlier runs without it.
        for plan, _ in plans:
            if not outcomes[plan.name].error:
                plan.line_history = lacking_line_history(store, plan.name)
        hunk_total = sum(len(p.line_history) for p, _ in plans if not outcomes[p.name].error)
        if hunk_total:
            progress.start(hunk_total, "line history")
        _pump(store, plans, jobs, now, outcomes, progress, kind="hunks")
    for plan, run_id in plans:
        outcome = outcomes[plan.name]
        if outcome.error:
            continue
        try:
            outcome.commits_added = finish(store, plan, run_id, datetime.now(UTC))
        except LeadlensError as exc:
            outcome.error = str(exc)
        outcome.unreachable = len(plan.unreachable)
    return IngestReport(mode="git", outcomes=order)


def _pump(store: Store, plans: Sequence[tuple[RepoPlan, int]], jobs: int, now: datetime,
          outcomes: dict[str, RepoOutcome], progress: Progress, kind: str) -> None:
    q: queue.Queue[_Msg] = queue.Queue(maxsize=jobs * 2)
    stop = threading.Event()

    def put(msg: _Msg) -> None:
        while not stop.is_set():
            try:
                q.put(msg, timeout=0.2)
                return
            except queue.Full:
                continue
        raise SourceError("ingest stopped")

    def job(plan: RepoPlan, run_id: int, shas: Sequence[str]) -> None:
        try:
            if kind == "commits":
                _read_commits(plan, shas, run_id, now, put)
            else:
                _read_lines(plan, shas, run_id, now, put, with_commits=kind == "both")
            put((plan, _Finished()))
        except BaseException as exc:  # reported to the writer, which owns the outcome
            with contextlib.suppress(SourceError):  # the writer has stopped already
                put((plan, _Finished(exc)))

    work = []
    for plan, run_id in plans:
        shas = plan.line_history if kind == "hunks" else plan.to_read
        for part in chunks(shas, jobs):
            work.append((plan, run_id, part))
    if not work:
        return
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="leadlens-git")
    try:
        for plan, run_id, part in work:
            pool.submit(job, plan, run_id, part)
        remaining = len(work)
        while remaining:
            plan, msg = q.get()
            outcome = outcomes[plan.name]
            if isinstance(msg, _Finished):
                remaining -= 1
                if isinstance(msg.error, LeadlensError):
                    outcome.error = outcome.error or str(msg.error)
                elif msg.error is not None:
                    # A bug of ours, not bad input: raised with the reader's traceback (exit 1).
                    raise msg.error
            elif outcome.error:
                continue  # a failed repository's cursor stays put; its stored batches are kept
            elif isinstance(msg, _CommitBatch):
                write_commits(store.con, msg.commits, msg.files)
                plan.malformed_dates += msg.malformed
                progress.advance(msg.size)
            elif isinstance(msg, _PairBatch):
                write_commits(store.con, msg.commits, msg.files, msg.hunks)
                plan.malformed_dates += msg.malformed
                outcome.hunks_commits += msg.size
                progress.advance(msg.size)
            else:
                write_hunks(store.con, plan.name, msg.done, msg.hunks)
                outcome.hunks_commits += len(msg.done)
                progress.advance(len(msg.done))
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
