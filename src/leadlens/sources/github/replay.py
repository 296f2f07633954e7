"""Offline replay: recorded GitHub API objects (``DIR/*.jsonl``) through the live mapping and writer."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from leadlens.conventions import BotRule
from leadlens.errors import UserError
from leadlens.sources.base import QUIET, Progress, RunSummary
from leadlens.sources.github.load import Batch, write_batch
from leadlens.sources.github.mapping import Context, route
from leadlens.store import Store
from leadlens.store.writer import transaction

__all__ = ["BATCH_OBJECTS", "replay_dir"]

BATCH_OBJECTS = 1000


def replay_dir(store: Store, directory: Path, *, bots: BotRule | None = None,
               rename: Callable[[str], str] | None = None,
               progress: Progress = QUIET) -> RunSummary:
    """Load every ``*.jsonl`` file of ``directory``: one ``{"url", "input", "data"}`` object per
    line, the repository named by the URL (``rename`` maps it, for benchmarks). Lines that are not
    such objects are reported as ``file:line: reason``; objects the mapping cannot read go to
    ``skipped_objects``. Nothing is lost to a bad line but that line."""
    if not directory.is_dir():
        raise UserError(f"--from-dir {directory}: not a directory")
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise UserError(f"--from-dir {directory}: no *.jsonl files (recorded API objects) in it")
    summary = RunSummary(mode="replay")
    bots = bots or BotRule()
    fetched_at = datetime.now(UTC)
    batches: dict[str, Batch] = {}

    def flush() -> None:
        with transaction(store.con):
            for batch in batches.values():
                write_batch(store, batch)
        for batch in batches.values():
            batch.report_to(summary)
        batches.clear()

    pending = 0
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror}") from exc
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                summary.malformed.append(f"{where}: not JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(record, dict) or not isinstance(record.get("url"), str) \
                    or "data" not in record:
                summary.malformed.append(f"{where}: not a recorded API object (url, data)")
                continue
            routed = route(record["url"])
            if routed is None:
                summary.not_stored[path.stem] += 1  # accounts and other objects with no table
                continue
            repo, resource, number = routed
            repo = rename(repo) if rename else repo
            ctx = Context(repo=repo, url=record["url"], fetched_at=fetched_at, bots=bots,
                          number=number)
            batches.setdefault(repo, Batch(repo)).add(resource, record["data"], ctx)
            pending += 1
            if pending >= BATCH_OBJECTS:
                flush()
                progress.advance(pending)
                pending = 0
    flush()
    if pending:
        progress.advance(pending)
    return summary
