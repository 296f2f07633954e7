"""Offline replay: recorded GitHub API objects (``DIR/*.jsonl``) through the live mapping and writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from leadlens.sources.base import QUIET, Progress, RunSummary, recorded_files, recorded_objects
from leadlens.sources.github.gql_replay import GqlReplay, is_graphql
from leadlens.sources.github.load import Batch, write_batch
from leadlens.sources.github.mapping import Context, route, utf8
from leadlens.store import Store
from leadlens.store.queries import pull_request_numbers
from leadlens.store.writer import transaction

__all__ = ["BATCH_OBJECTS", "replay_dir"]

BATCH_OBJECTS = 1000
# GitHub's objects are kilobytes (a body holds at most 65,536 characters); a longer line is damage.
MAX_LINE_BYTES = 64 * 2**20


def replay_dir(store: Store, directory: Path, *,
               rename: Callable[[str], str] | None = None,
               progress: Progress = QUIET) -> RunSummary:
    """Load every ``*.jsonl`` file of ``directory``: one ``{"url", "input", "data"}`` object per
    line, the repository named by the URL (``rename`` maps it, for benchmarks). Lines that are not
    such objects are reported as ``file:line: reason``; objects the mapping cannot read (a field
    missing or of the wrong type) go to ``skipped_objects``. Nothing is lost to a bad line but that
    line. Files are read a line at a time, and only regular files: a FIFO or a device named
    ``*.jsonl`` (or a link to one) is refused before anything is read."""
    files = recorded_files(directory)
    summary = RunSummary(mode="replay")
    fetched_at = datetime.now(UTC)
    batches: dict[str, Batch] = {}
    kinds = _Kinds()
    graphql = GqlReplay(fetched_at, rename)

    def flush() -> None:
        with transaction(store.con):
            for batch in batches.values():
                write_batch(store, batch)
        for batch in batches.values():
            batch.report_to(summary)
        batches.clear()

    pending = 0
    for path in files:
        for where, record, problem in recorded_objects(path, MAX_LINE_BYTES):
            if problem is not None:
                summary.malformed.append(f"{where}: {problem}")
                continue
            url = utf8(record["url"])
            if is_graphql(url):
                loaded = graphql.load(record, batches)
                if isinstance(loaded, str):
                    summary.not_stored["graphql"] += 1
                    continue
                kinds.prs.setdefault(loaded[0], set()).update(loaded[1])
                pending += 1
                if pending >= BATCH_OBJECTS:
                    flush()
                    progress.advance(pending)
                    pending = 0
                continue
            routed = route(url)
            if routed is None:
                summary.not_stored[path.stem] += 1  # accounts and other objects with no table
                continue
            repo, resource, number = routed
            repo = rename(repo) if rename else repo
            ctx = Context(repo=repo, url=url, fetched_at=fetched_at, number=number)
            kinds.note(repo, resource, record["data"])
            if resource == "timeline":
                settled = kinds.timeline(repo, number)
                if settled is None:  # settled at the end, by all the recording and the store
                    kinds.pending.append((ctx, record["data"]))
                    continue
                resource = settled
            batches.setdefault(repo, Batch(repo)).add(resource, record["data"], ctx)
            pending += 1
            if pending >= BATCH_OBJECTS:
                flush()
                progress.advance(pending)
                pending = 0
    for ctx, data in kinds.pending:
        if ctx.repo not in kinds.stored_prs:
            kinds.stored_prs[ctx.repo] = pull_request_numbers(store, ctx.repo)
        resource = "pr_events" if ctx.number in kinds.stored_prs[ctx.repo] \
            or ctx.number in kinds.prs.get(ctx.repo, ()) else "issue_events"
        batches.setdefault(ctx.repo, Batch(ctx.repo)).add(resource, data, ctx)
        pending += 1
    flush()
    if pending:
        progress.advance(pending)
    return summary


@dataclass
class _Kinds:
    """Which numbers a recording shows to be pull requests or plain issues: the timeline of
    ``/issues/N`` is either's, and its URL does not say which. A timeline whose issue is known by
    then is mapped at once; the rest wait for the end of the recording (then an issue is a pull
    request when the recording or the store has it as one)."""

    prs: dict[str, set[int]] = field(default_factory=dict)
    issues: dict[str, set[int]] = field(default_factory=dict)
    stored_prs: dict[str, set[int]] = field(default_factory=dict)
    pending: list[tuple[Context, object]] = field(default_factory=list)

    def note(self, repo: str, resource: str, data: object) -> None:
        if resource not in ("pull_requests", "issues") or not isinstance(data, dict):
            return
        number = data.get("number")
        if isinstance(number, int):
            pr = resource == "pull_requests" or "pull_request" in data
            (self.prs if pr else self.issues).setdefault(repo, set()).add(number)

    def timeline(self, repo: str, number: int | None) -> str | None:
        if number in self.prs.get(repo, ()):
            return "pr_events"
        if number in self.issues.get(repo, ()):
            return "issue_events"
        return None
