"""A batch of mapped Jira objects and its upsert: one call inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadlens.sources.base import RunSummary, Skipped
from leadlens.sources.jira.fields import raw_json
from leadlens.sources.jira.mapping import KEYS, SOURCE, Context, Row, map_object
from leadlens.store import Store
from leadlens.store.writer import record_skipped, upsert

__all__ = ["Batch", "write_batch"]


@dataclass
class Batch:
    """Rows by table, deduplicated by key (the last one seen wins: the overlap window and an issue
    met twice store one row), the objects skipped and the warnings; ``scope`` (a project key, or
    the site for replays) is what ``skipped_objects.repo`` records."""

    scope: str
    rows: dict[str, dict[tuple[Any, ...], Row]] = field(default_factory=dict)
    skipped: list[tuple[Skipped, str | None]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, resource: str, obj: object, ctx: Context) -> None:
        map_object(resource, obj, ctx, self)

    # Out, for the mapping
    def row(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, {})[tuple(row[k] for k in KEYS[table])] = row

    def skip(self, resource: str, obj: object, url: str | None, reason: str) -> None:
        self.skipped.append((Skipped(resource, url, reason), raw_json(obj)))

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def report_to(self, summary: RunSummary, seen: dict[str, set[tuple[Any, ...]]]) -> None:
        """Count what this batch stored (rows by table, ``jira_`` left off; a row an earlier batch
        of the run stored, in ``seen``, is not counted again), skipped and warned."""
        for table, keyed in self.rows.items():
            done = seen.setdefault(table, set())
            new = keyed.keys() - done
            done.update(new)
            summary.stored[table.removeprefix("jira_")] += len(new)
        summary.skipped.extend(skip for skip, _ in self.skipped)
        summary.warnings.extend(w for w in self.warnings if w not in summary.warnings)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def write_batch(store: Store, batch: Batch) -> None:
    """Upsert the batch's rows and record its skipped objects; call inside a transaction."""
    for table, keyed in batch.rows.items():
        upsert(store.con, table, list(keyed.values()))
    for skip, raw in batch.skipped:
        record_skipped(store.con, batch.scope, SOURCE, skip.resource, skip.url, skip.reason, raw)
