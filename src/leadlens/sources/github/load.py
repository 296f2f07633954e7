"""A batch of mapped GitHub objects and its upsert: one call inside the caller's transaction."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from leadlens.sources.github.mapping import KEYS, MAPPERS, SOURCE, Context, MappingError, Row

__all__ = ["Batch", "Skipped", "write_batch"]

_ARROW = {
    "VARCHAR": pa.string(), "JSON": pa.string(), "BIGINT": pa.int64(), "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(), "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
    "VARCHAR[]": pa.list_(pa.string()),
}
_schemas: dict[tuple[int, str], pa.Schema] = {}


@dataclass(frozen=True)
class Skipped:
    resource: str
    url: str | None
    reason: str


@dataclass
class Batch:
    """Rows by table, deduplicated by key (the last one seen wins), and the objects skipped."""

    repo: str
    rows: dict[str, dict[tuple[Any, ...], Row]] = field(default_factory=dict)
    skipped: list[tuple[Skipped, str]] = field(default_factory=list)  # with the raw object
    seen: Counter[str] = field(default_factory=Counter)  # objects read, by resource
    not_stored: Counter[str] = field(default_factory=Counter)  # by design (issue PRs, ...)
    keys: dict[str, set[tuple[Any, ...]]] = field(default_factory=dict)  # stored, by resource

    def add(self, resource: str, obj: object, ctx: Context) -> Row | None:
        """Map ``obj`` and keep its row; an object the mapping cannot read is kept as skipped."""
        table, mapper = MAPPERS[resource]
        self.seen[resource] += 1
        try:
            if not isinstance(obj, Mapping):
                raise MappingError(f"not a JSON object: {type(obj).__name__}")
            row = mapper(obj, ctx)
        except MappingError as exc:
            url = obj.get("url") if isinstance(obj, Mapping) else None
            self.skipped.append((Skipped(resource, url or ctx.url, str(exc)), json.dumps(obj)))
            return None
        if row is None:
            self.not_stored[resource] += 1
            return None
        key = tuple(row[k] for k in KEYS[table])
        self.rows.setdefault(table, {})[key] = row
        self.keys.setdefault(resource, set()).add(key)
        return row

    def stored(self) -> dict[str, int]:
        """Distinct objects kept, by resource."""
        return {resource: len(keys) for resource, keys in self.keys.items()}

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def _schema(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    cached = _schemas.get((id(con), table))
    if cached is None:
        cols = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()
        cached = pa.schema([(name, _ARROW[kind]) for name, kind in cols])
        _schemas[(id(con), table)] = cached
    return cached


def write_batch(con: duckdb.DuckDBPyConnection, batch: Batch) -> dict[str, int]:
    """Upsert the batch's rows and record its skipped objects; call inside a transaction.
    Returns rows written by table."""
    written: dict[str, int] = {}
    for table, keyed in batch.rows.items():
        if not keyed:
            continue
        schema = _schema(con, table)
        data = pa.Table.from_pylist(list(keyed.values()), schema=schema)
        name = f"batch_{table}"
        con.register(name, data)
        try:
            cols = ", ".join(f'"{c}"' for c in schema.names)
            con.execute(f"INSERT OR REPLACE INTO {table} ({cols}) SELECT {cols} FROM {name}")
        finally:
            con.unregister(name)
        written[table] = len(keyed)
    for skip, raw in batch.skipped:
        # The same object skipped again (a rerun, a replay) is one row, not two.
        con.execute(
            "INSERT INTO skipped_objects (repo, source, resource, url, reason, fetched_at, raw)"
            " SELECT ?, ?, ?, ?, ?, now(), ?::JSON WHERE NOT EXISTS (SELECT 1 FROM skipped_objects"
            " WHERE repo = ? AND source = ? AND resource = ? AND url IS NOT DISTINCT FROM ?"
            " AND reason = ?)",
            [batch.repo, SOURCE, skip.resource, skip.url, skip.reason, raw,
             batch.repo, SOURCE, skip.resource, skip.url, skip.reason])
    return written
