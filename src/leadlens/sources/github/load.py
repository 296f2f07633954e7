"""A batch of mapped GitHub objects and its upsert: one call inside the caller's transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leadlens.sources.base import RunSummary, Skipped
from leadlens.sources.github.mapping import (
    KEYS,
    MAPPERS,
    SOURCE,
    Context,
    MappingError,
    Row,
    closing_rows,
    map_object,
    raw_json,
    utf8,
)
from leadlens.store import Store
from leadlens.store.writer import delete_groups, record_skipped, upsert

# A group of rows a source reads in full, so that the stored group is replaced, not added to.
Group = tuple[tuple[str, Any], ...]

__all__ = ["Batch", "write_batch"]


@dataclass
class Batch:
    """Rows by table, deduplicated by key (the last one seen wins), and the objects skipped."""

    repo: str
    rows: dict[str, dict[tuple[Any, ...], Row]] = field(default_factory=dict)
    skipped: list[tuple[Skipped, str | None]] = field(default_factory=list)  # with the raw object
    seen: Counter[str] = field(default_factory=Counter)  # objects read, by resource
    not_stored: Counter[str] = field(default_factory=Counter)  # by design (issue PRs, ...)
    keys: dict[str, set[tuple[Any, ...]]] = field(default_factory=dict)  # stored, by resource
    replaced: dict[str, set[Group]] = field(default_factory=dict)  # by table

    def add(self, resource: str, obj: object, ctx: Context) -> Row | None:
        """Map ``obj`` and keep its row; an object the mapping cannot read is kept as skipped."""
        self.seen[resource] += 1
        try:
            table, row = map_object(resource, obj, ctx)
        except MappingError as exc:
            url = obj.get("url") if isinstance(obj, Mapping) else None
            url = utf8(url) if isinstance(url, str) else ctx.url
            self.skipped.append((Skipped(resource, url, str(exc)), raw_json(obj)))
            return None
        if row is None:
            self.not_stored[resource] += 1
            return None
        # An object routed to another table than its resource's is counted under that table.
        self._keep(resource if table == MAPPERS[resource][0] else table, table, row)
        if table == "pull_requests" and isinstance(obj, Mapping):
            # The body as fetched now says which issues the pull request closes: the stored
            # references (and any this batch holds from an earlier copy) give way to these.
            if self.replace("closing_references", repo=row["repo"], number=row["number"],
                            how="body_keyword"):
                kept = self.rows.get("closing_references", {})
                for key in [k for k in kept if k[:2] == (row["repo"], row["number"])
                            and k[4] == "body_keyword"]:
                    del kept[key]
                    self.keys["closing_references"].discard(key)
            for ref in closing_rows(row, obj, ctx):
                self._keep("closing_references", "closing_references", ref)
        return row

    def replace(self, table: str, **group: Any) -> bool:
        """Mark ``group`` (column values) of ``table`` as read in full: its stored rows are
        deleted before this batch's rows are written. True if it was marked already."""
        key = tuple(group.items())
        marked = self.replaced.setdefault(table, set())
        seen = key in marked
        marked.add(key)
        return seen

    def put(self, table: str, row: Row) -> None:
        """Keep a row made elsewhere than the REST mapping (GraphQL), counted under its table."""
        self._keep(table, table, row)

    def _keep(self, counted: str, table: str, row: Row) -> None:
        key = tuple(row[k] for k in KEYS[table])
        self.rows.setdefault(table, {})[key] = row
        self.keys.setdefault(counted, set()).add(key)

    def absorb(self, other: Batch) -> None:
        """Take ``other``'s rows (later ones win by key), groups, skipped objects and counts: one
        write for many batches."""
        for table, keyed in other.rows.items():
            self.rows.setdefault(table, {}).update(keyed)
        for counted, keys in other.keys.items():
            self.keys.setdefault(counted, set()).update(keys)
        for table, groups in other.replaced.items():
            self.replaced.setdefault(table, set()).update(groups)
        self.skipped.extend(other.skipped)
        self.seen.update(other.seen)
        self.not_stored.update(other.not_stored)

    def stored(self) -> dict[str, int]:
        """Distinct objects kept, by resource."""
        return {resource: len(keys) for resource, keys in self.keys.items()}

    def report_to(self, summary: RunSummary) -> None:
        """Count what this batch stored and skipped in ``summary``."""
        summary.stored.update(self.stored())
        summary.not_stored.update(self.not_stored)
        summary.skipped.extend(skip for skip, _ in self.skipped)
        if self.repo not in summary.repos:
            summary.repos.append(self.repo)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def write_batch(store: Store, batch: Batch) -> dict[str, int]:
    """Upsert the batch's rows and record its skipped objects; call inside a transaction.
    Returns rows written by table."""
    con = store.con
    for table, groups in batch.replaced.items():
        delete_groups(con, table, [dict(g) for g in groups])
    written = {table: upsert(con, table, list(keyed.values()))
               for table, keyed in batch.rows.items() if keyed}
    for skip, raw in batch.skipped:
        record_skipped(con, batch.repo, SOURCE, skip.resource, skip.url, skip.reason, raw)
    return written
