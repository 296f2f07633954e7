"""The single writer: every write is one transaction, idempotent by the source's keys."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from leadlens import __version__
from leadlens.store.db import scalar

__all__ = [
    "begin_run",
    "load_cursor",
    "save_cursor",
    "transaction",
    "write_commits",
    "write_hunks",
]


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


def write_commits(con: duckdb.DuckDBPyConnection, commits: pa.Table, files: pa.Table) -> int:
    """Insert commits not stored yet, with their files, in one transaction; returns rows added."""
    if commits.num_rows == 0:
        return 0
    con.register("batch_commits", commits)
    con.register("batch_files", files)
    try:
        with transaction(con):
            con.execute(
                "INSERT INTO commit_files SELECT f.* FROM batch_files f "
                "ANTI JOIN commits c ON c.repo = f.repo AND c.sha = f.sha"
            )
            cols = ", ".join(commits.schema.names)
            added = scalar(
                con,
                f"INSERT INTO commits ({cols}) SELECT b.* FROM batch_commits b "
                "ANTI JOIN commits c ON c.repo = b.repo AND c.sha = b.sha",
            )
    finally:
        con.unregister("batch_commits")
        con.unregister("batch_files")
    return int(added or 0)


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
