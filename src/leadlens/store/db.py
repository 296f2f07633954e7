"""Open a DuckDB store, apply versioned plain-SQL migrations, and turn DuckDB errors into clear ones."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from leadlens.config import DEFAULT_STORE
from leadlens.errors import StoreDamagedError, StoreError, StoreLockedError, StoreSchemaError

__all__ = ["DEFAULT_STORE", "SCHEMA_VERSION", "Store", "capped_memory", "interrupted_query",
           "limit_memory", "migrations", "open_store", "scalar"]

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
# DuckDB reads a path that starts with a scheme (md:, s3://, https://) or is :memory: as a remote
# or in-memory database; a store is a local file. One letter is a Windows drive, not a scheme.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
# DuckDB fetches and loads an extension the moment a path or a query needs one it lacks (a
# SQLite file asks for sqlite_scanner, md: for MotherDuck): a store needs none beyond those
# built in, so nothing is installed or loaded behind the user's back.
_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False, "autoload_known_extensions": False}
# A DuckDB file: a 4 KiB main header with the magic at byte 8, two 4 KiB database headers, then
# its blocks.
_MAGIC, _MAGIC_AT, _HEADERS = b"DUCK", 8, 3 * 4096
_SQLITE_MAGIC = b"SQLite format 3\x00"


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped with this leadlens, in order."""
    found = []
    for entry in resources.files("leadlens.store").joinpath("migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


SCHEMA_VERSION = migrations()[-1][0]


@dataclass
class Store:
    """An open store. One process writes at a time (DuckDB's file lock enforces it)."""

    path: Path
    con: duckdb.DuckDBPyConnection

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> Any:
    """The first column of the first row, or None. Fetches everything: DuckDB keeps a result
    open (and the connection busy) until it is fully read."""
    rows = con.execute(sql, list(params)).fetchall()
    return rows[0][0] if rows else None


def interrupted_query(exc: BaseException) -> bool:
    """``exc`` is DuckDB's answer to a Ctrl-C during a query. DuckDB takes the SIGINT itself (Python
    never sees a KeyboardInterrupt) and raises a bare ``RuntimeError('Query interrupted')``, or its
    ``InterruptException`` on other paths."""
    return isinstance(exc, duckdb.InterruptException) or (
        type(exc) is RuntimeError and str(exc) == "Query interrupted")


def limit_memory(store: Store, memory_limit: str) -> None:
    """Bound DuckDB's memory for analysis queries (they spill to disk beyond it); results that
    need an order ask for one, so insertion order need not be kept (it costs memory)."""
    try:
        store.con.execute(f"SET memory_limit = '{memory_limit}'")
    except duckdb.Error as exc:
        raise StoreError(f"memory_limit {memory_limit!r} is not a size DuckDB understands"
                         " (e.g. 1GB, 512MB)") from exc
    store.con.execute("SET preserve_insertion_order = false")


@contextmanager
def capped_memory(store: Store, memory_limit: str) -> Iterator[None]:
    """DuckDB's memory limit set to ``memory_limit`` for the block, then restored."""
    before = scalar(store.con, "SELECT current_setting('memory_limit')")
    store.con.execute(f"SET memory_limit = '{memory_limit}'")
    try:
        yield
    finally:
        store.con.execute(f"SET memory_limit = '{before}'")


def _applied_version(con: duckdb.DuckDBPyConnection) -> int:
    if not scalar(con, "SELECT count(*) FROM information_schema.tables"
                  " WHERE table_name = 'schema_migrations'"):
        return 0
    return int(scalar(con, "SELECT coalesce(max(version), 0) FROM schema_migrations"))


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only, config=_CONFIG)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            holder = re.search(r"\(PID (\d+)\)", text)
            who = f" (PID {holder.group(1)})" if holder else ""
            raise StoreLockedError(
                f"store {path} is in use by another process{who}; wait for it to finish "
                "or pass --store to use another file"
            ) from exc
        raise StoreError(f"cannot open store {path}: {_first_line(text)}") from exc
    except duckdb.Error as exc:
        raise StoreError(f"cannot open store {path}: {_first_line(str(exc))}") from exc


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _local(path: Path) -> None:
    """Refuse what DuckDB would open as something other than a local file."""
    text = str(path)
    scheme = _SCHEME.match(text)
    if text.startswith(":memory:") or scheme:
        what = "an in-memory database" if scheme is None else f"a {scheme.group(1)}: database"
        raise StoreError(
            f"store {text} would be {what}; a leadlens store is a local DuckDB file: pass a file"
            " path with --store (an absolute one if its name holds a colon)")


def _whole(path: Path) -> None:
    """Refuse an existing file that is not a DuckDB file, before DuckDB reads it: a FIFO would
    hang the open, and another format would send DuckDB looking for an extension to read it."""
    if not path.is_file():
        raise StoreError(f"store {path} is not a regular file; pass a file path with --store")
    with path.open("rb") as fh:
        head = fh.read(_HEADERS)
    if head[_MAGIC_AT:_MAGIC_AT + len(_MAGIC)] != _MAGIC:
        kind = " (it is a SQLite database)" if head.startswith(_SQLITE_MAGIC) else ""
        raise StoreDamagedError(
            f"store {path} is not a DuckDB file{kind}: damaged, or not a leadlens store;"
            " pass another --store")


def _check_size(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A file shorter than the blocks in use was cut short (a copy or a disk that ran out):
    refused at once, not found out halfway through a report. Free blocks do not count: DuckDB
    shrinks the file when the blocks at its end are free, and the header still counts them."""
    block_size, blocks = con.execute(
        "SELECT block_size, used_blocks FROM pragma_database_size()"
        " WHERE database_name = current_database()").fetchall()[0]
    expected = _HEADERS + int(block_size) * int(blocks)
    size = path.stat().st_size
    if size < expected:
        raise StoreDamagedError(
            f"store {path} is damaged: {size:,} bytes where its header lists {expected:,}"
            " (truncated?); restore it from a copy or pass another --store")


def open_store(path: Path | str | None = None, *, read_only: bool = False) -> Store:
    """Open (creating when writable) the store at ``path``, a local DuckDB file, and bring its
    schema up to date. A damaged file, or one of another kind, is a ``StoreDamagedError``."""
    store_path = Path(path) if path is not None else DEFAULT_STORE
    _local(store_path)
    existed = store_path.exists()
    if read_only and not existed:
        raise StoreError(
            f"no store at {store_path}: run `leadlens ingest git PATH` first, or pass --store"
        )
    if existed and store_path.is_dir():
        raise StoreError(f"store path {store_path} is a directory; pass a file path with --store")
    if existed:
        _whole(store_path)
    if not read_only:
        try:
            store_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {store_path.parent}: {exc.strerror}") from exc
    con = _connect(store_path, read_only)
    try:
        if existed:
            _check_size(con, store_path)
        con.execute("SET TimeZone = 'UTC'")
        _migrate(con, store_path, read_only)
    except BaseException:
        con.close()
        raise
    return Store(store_path, con)


def _migrate(con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
    try:
        current = _applied_version(con)
    except duckdb.Error as exc:
        raise StoreSchemaError(f"{path} is not a leadlens store: {_first_line(str(exc))}") from exc
    if current > SCHEMA_VERSION:
        raise StoreSchemaError(
            f"store {path} was written by a newer leadlens (schema {current}; this version "
            f"knows up to {SCHEMA_VERSION}); upgrade leadlens or pass another --store"
        )
    if current == 0 and not read_only and scalar(con, "SELECT count(*) FROM information_schema.tables"):
        raise StoreSchemaError(f"{path} is a DuckDB file but not a leadlens store")
    pending = [m for m in migrations() if m[0] > current]
    if not pending:
        return
    if read_only:
        raise StoreSchemaError(
            f"store {path} has schema {current}, this leadlens needs {SCHEMA_VERSION}; "
            "run any ingest command once to upgrade it"
        )
    for version, name, sql in pending:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
            )
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
