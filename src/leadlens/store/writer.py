"""The single writer: every write is one transaction, idempotent by the source's keys."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from leadlens import __version__
from leadlens.store.db import scalar

__all__ = [
    "GitRunEnd",
    "begin_run",
    "delete_groups",
    "finish_git_run",
    "forget_commits",
    "load_cursor",
    "record_skipped",
    "save_cursor",
    "transaction",
    "upsert",
    "write_commits",
    "write_hunks",
]

_ARROW = {
    "VARCHAR": pa.string(), "JSON": pa.string(), "BIGINT": pa.int64(), "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(), "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
    "VARCHAR[]": pa.list_(pa.string()), "DOUBLE": pa.float64(),
}
_schemas: dict[tuple[int, str], pa.Schema] = {}


class transaction:
    """BEGIN/COMMIT, or ROLLBACK on any error: no half-written batch is ever visible."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con.execute("BEGIN TRANSACTION")
        return self.con

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.con.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def begin_run(con: duckdb.DuckDBPyConnection, repo: str, source: str, origin: str) -> int:
    with transaction(con):
        run_id = int(scalar(con, "SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs"))
        con.execute(
            "INSERT INTO ingest_runs (run_id, repo, source, origin, connector_version, started_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [run_id, repo, source, origin, __version__, datetime.now(UTC)],
        )
    return run_id


def write_commits(con: duckdb.DuckDBPyConnection, commits: pa.Table, files: pa.Table,
                  hunks: pa.Table | None = None) -> int:
    """Insert commits not stored yet, with their files, in one transaction; returns rows added.
    With ``hunks`` (every commit's line history, read in the same pass) the commits are stored
    with their line history, marked done."""
    if commits.num_rows == 0:
        return 0
    batches = {"batch_commits": commits, "batch_files": files}
    if hunks is not None:
        batches["batch_hunks"] = hunks
    for name, table in batches.items():
        con.register(name, table)
    new = "SELECT b.* FROM batch_commits b ANTI JOIN commits c ON c.repo = b.repo AND c.sha = b.sha"
    try:
        with transaction(con):
            if hunks is not None:
                con.execute(f"INSERT INTO line_hunks SELECT h.* FROM batch_hunks h SEMI JOIN ({new})"
                            " n ON n.sha = h.sha")
            con.execute(
                "INSERT INTO commit_files SELECT f.* FROM batch_files f "
                "ANTI JOIN commits c ON c.repo = f.repo AND c.sha = f.sha"
            )
            cols = ", ".join(commits.schema.names)
            done = (", line_history", ", TRUE") if hunks is not None else ("", "")
            added = scalar(con, f"INSERT INTO commits ({cols}{done[0]})"
                                f" SELECT n.*{done[1]} FROM ({new}) n")
    finally:
        for name in batches:
            con.unregister(name)
    return int(added or 0)


def forget_commits(con: duckdb.DuckDBPyConnection, repo: str, shas: Sequence[str]) -> None:
    """Delete ``shas`` with their files and line history, in one transaction, to be read again
    (a shallow clone's boundary commits, once the clone has their parents)."""
    if not shas:
        return
    con.register("forget_shas", pa.table({"sha": pa.array(list(shas), pa.string())}))
    try:
        with transaction(con):
            for table in ("line_hunks", "commit_files", "commits"):
                con.execute(f"DELETE FROM {table} WHERE repo = ? AND sha IN"
                            " (SELECT sha FROM forget_shas)", [repo])
    finally:
        con.unregister("forget_shas")


def write_hunks(
    con: duckdb.DuckDBPyConnection, repo: str, shas: Sequence[str], hunks: pa.Table
) -> None:
    """Store line history for ``shas`` and mark them done, in one transaction (idempotent)."""
    if not shas:
        return
    done = pa.table({"sha": pa.array(list(shas), pa.string())})
    con.register("batch_done", done)
    con.register("batch_hunks", hunks)
    try:
        with transaction(con):
            con.execute(
                "INSERT INTO line_hunks SELECT h.* FROM batch_hunks h SEMI JOIN ("
                " SELECT c.sha FROM commits c SEMI JOIN batch_done d ON c.sha = d.sha"
                " WHERE c.repo = ? AND NOT c.line_history) p ON p.sha = h.sha",
                [repo],
            )
            con.execute(
                "UPDATE commits SET line_history = TRUE WHERE repo = ? AND NOT line_history"
                " AND sha IN (SELECT sha FROM batch_done)",
                [repo],
            )
    finally:
        con.unregister("batch_done")
        con.unregister("batch_hunks")


def load_cursor(con: duckdb.DuckDBPyConnection, repo: str, source: str, resource: str) -> object:
    text = scalar(
        con,
        "SELECT cursor FROM sync_state WHERE repo = ? AND source = ? AND resource = ?",
        [repo, source, resource],
    )
    return json.loads(text) if text else None


def save_cursor(
    con: duckdb.DuckDBPyConnection, repo: str, source: str, resource: str, cursor: object
) -> None:
    """Call inside the transaction that writes the data the cursor covers."""
    con.execute(
        "INSERT OR REPLACE INTO sync_state (repo, source, resource, cursor, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [repo, source, resource, json.dumps(cursor, sort_keys=True), datetime.now(UTC)],
    )


def _schema(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    cached = _schemas.get((id(con), table))
    if cached is None:
        cols = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()
        cached = pa.schema([(name, _ARROW[kind]) for name, kind in cols])
        _schemas[(id(con), table)] = cached
    return cached


def upsert(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` into ``table``, replacing the stored rows with the same key (the table's
    primary key): a repeated page or an overlap window never duplicates. Call inside a
    transaction. Returns the rows written."""
    if not rows:
        return 0
    schema = _schema(con, table)
    data = pa.Table.from_pylist(list(rows), schema=schema)
    name = f"batch_{table}"
    con.register(name, data)
    try:
        cols = ", ".join(f'"{c}"' for c in schema.names)
        con.execute(f"INSERT OR REPLACE INTO {table} ({cols}) SELECT {cols} FROM {name}")
    finally:
        con.unregister(name)
    return len(rows)


def delete_groups(con: duckdb.DuckDBPyConnection, table: str,
                  groups: Sequence[Mapping[str, Any]]) -> None:
    """Delete the rows of ``table`` that match any of ``groups`` (each a mapping of the same
    columns to values): what a source read again in full replaces (a pull request's closing
    references, an issue's sub-issues). Call inside a transaction, before the new rows' upsert."""
    if not groups:
        return
    schema = _schema(con, table)
    columns = list(groups[0])
    data = pa.Table.from_pylist([dict(g) for g in groups],
                                schema=pa.schema([schema.field(c) for c in columns]))
    name = f"groups_{table}"
    con.register(name, data)
    try:
        match = " AND ".join(f'g."{c}" = {table}."{c}"' for c in columns)
        con.execute(f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {name} g WHERE {match})")
    finally:
        con.unregister(name)


def record_skipped(con: duckdb.DuckDBPyConnection, repo: str, source: str, resource: str,
                   url: str | None, reason: str, raw: str | None) -> None:
    """Keep an object a source could not map, with its reason; the same object skipped again (a
    rerun, a replay) is one row, not two. Call inside a transaction."""
    con.execute(
        "INSERT INTO skipped_objects (repo, source, resource, url, reason, fetched_at, raw)"
        " SELECT ?, ?, ?, ?, ?, now(), ?::JSON WHERE NOT EXISTS (SELECT 1 FROM skipped_objects"
        " WHERE repo = ? AND source = ? AND resource = ? AND url IS NOT DISTINCT FROM ?"
        " AND reason = ?)",
        [repo, source, resource, url, reason, raw, repo, source, resource, url, reason])


@dataclass(frozen=True)
class GitRunEnd:
    """What completes a git run for one repository: its refs and tags, the commits that became
    reachable again or unreachable, its ``repos`` row and the new cursor."""

    repo: str
    refs: pa.Table
    tags: pa.Table
    reachable_again: Sequence[str]
    unreachable: Sequence[str]
    repo_row: Mapping[str, Any]  # the columns of ``repos`` but first/last_ingested_at
    cursor: object
    source: str
    resource: str


def finish_git_run(con: duckdb.DuckDBPyConnection, end: GitRunEnd, run_id: int, now: datetime) -> int:
    """Replace refs and tags, mark reachability, upsert the repository, move the cursor and close
    the run: one transaction. Returns the commits the run added."""
    again = pa.table({"sha": pa.array(list(end.reachable_again), pa.string())})
    lost = pa.table({"sha": pa.array(list(end.unreachable), pa.string())})
    views = (("new_refs", end.refs), ("new_tags", end.tags), ("again_shas", again),
             ("lost_shas", lost))
    for view, tbl in views:
        con.register(view, tbl)
    row = dict(end.repo_row)
    cols = ["repo", *row, "first_ingested_at", "last_ingested_at"]
    updates = ", ".join(f"{c} = excluded.{c}" for c in [*row, "last_ingested_at"])
    try:
        with transaction(con):
            con.execute("DELETE FROM refs WHERE repo = ?", [end.repo])
            con.execute("INSERT INTO refs SELECT * FROM new_refs")
            con.execute("DELETE FROM tags WHERE repo = ?", [end.repo])
            con.execute("INSERT INTO tags SELECT * FROM new_tags")
            con.execute(
                "UPDATE commits SET reachable = FALSE WHERE repo = ? AND reachable"
                " AND sha IN (SELECT sha FROM lost_shas)", [end.repo])
            con.execute(
                "UPDATE commits SET reachable = TRUE WHERE repo = ? AND NOT reachable"
                " AND sha IN (SELECT sha FROM again_shas)", [end.repo])
            con.execute(
                f"INSERT INTO repos ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                f" ON CONFLICT (repo) DO UPDATE SET {updates}",
                [end.repo, *row.values(), now, now])
            save_cursor(con, end.repo, end.source, end.resource, end.cursor)
            added = int(scalar(con, "SELECT count(*) FROM commits WHERE repo = ? AND run_id = ?",
                               [end.repo, run_id]))
            con.execute(
                "UPDATE ingest_runs SET finished_at = ?, commits_added = ?,"
                " commits_unreachable = ? WHERE run_id = ?",
                [now, added, len(end.unreachable), run_id])
    finally:
        for view, _ in views:
            con.unregister(view)
    return added
