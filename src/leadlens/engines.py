"""The one place an engine is chosen: a store becomes an Ibis backend, and expressions run on it.

DuckDB (embedded, the store itself) is the engine today; Apache Spark runs the same expressions
once the Spark issue lands (DESIGN.md, Engines). Metrics take the backend this module hands out,
never a store. DORA, review signals, the AI pre-filter and the report's longest waits (DuckDB's
``max_by(..., n)``) are still DuckDB SQL: they reach the connection through
:func:`sql_connection`, the one seam the Spark port replaces.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from leadlens.errors import UserError
from leadlens.store.db import Store

__all__ = ["TIMINGS_ENV", "Materialiser", "batches", "connect", "one", "rows", "sql_connection",
           "timed", "timings"]

# With this environment variable set (to anything but "" or "0"), every :func:`timed` part of a
# report writes ``timing: NAME SECONDS CPU_SECONDS`` to stderr when it ends (benchmarks/report.py
# reads it).
TIMINGS_ENV = "LEADLENS_TIMINGS"
_TIMES: list[tuple[str, float]] | None = None


def connect(store: Store) -> ibis.BaseBackend:
    """The Ibis backend over ``store`` (DuckDB, on the store's own connection)."""
    return ibis.duckdb.from_connection(store.con)


def sql_connection(backend: ibis.BaseBackend) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection under ``backend``, for the metrics still written in DuckDB SQL."""
    con = getattr(backend, "con", None)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise UserError(f"this figure needs the duckdb engine, not {backend.name}")
    return con


def rows(backend: ibis.BaseBackend, expr: ir.Table) -> list[dict[str, Any]]:
    """``expr``'s rows as dicts (for small results: aggregates, top lists)."""
    out: list[dict[str, Any]] = backend.to_pyarrow(expr).to_pylist()
    return out


def one(backend: ibis.BaseBackend, expr: ir.Table) -> dict[str, Any]:
    """The first row of ``expr``, or an empty dict."""
    found = rows(backend, expr)
    return found[0] if found else {}


def batches(backend: ibis.BaseBackend, expr: ir.Table, size: int) -> Iterator[pa.RecordBatch]:
    """``expr``'s rows in batches of ``size``, so a million never sit in memory at once. (Ibis 12's
    own batch reader predates DuckDB 2's API, so DuckDB reads the compiled SQL.)"""
    reader = sql_connection(backend).sql(str(backend.compile(expr))).to_arrow_reader(size)
    yield from reader


class Materialiser:
    """Materialise expressions several metrics reuse as temporary tables, dropped by ``release``
    (explicitly: Ibis' own ``cache`` drops at garbage collection, when the store may be closed)."""

    def __init__(self, backend: ibis.BaseBackend) -> None:
        self.backend = backend
        self.names: list[str] = []

    def __call__(self, expr: ir.Table) -> ir.Table:
        return self.upload(expr)

    def upload(self, data: ir.Table | pa.Table) -> ir.Table:
        name = f"_leadlens_{uuid.uuid4().hex}"
        table = self.backend.create_table(name, data, temp=True)
        self.names.append(name)
        return table

    def drop(self, *tables: ir.Table) -> None:
        """Drop ``tables`` (made here) now: what only built another table need not hold memory
        (or spill to disk) until ``release``."""
        for table in tables:
            name = table.get_name().rsplit(".", 1)[-1]  # Ibis qualifies it: temp.main.NAME
            if name in self.names:
                self.names.remove(name)
                self.backend.drop_table(name, force=True)

    def release(self) -> None:
        while self.names:
            name = self.names.pop()
            try:
                self.backend.drop_table(name, force=True)
            except Exception:  # a closed store has dropped its temporary tables already
                self.names.clear()


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Record the wall time of the block under ``name`` (nested names are joined with ``/``) when
    timings are on: inside :func:`timings`, or with ``LEADLENS_TIMINGS`` set. Otherwise free."""
    on = os.environ.get(TIMINGS_ENV, "") not in ("", "0")
    if _TIMES is None and not on:
        yield
        return
    _STACK.append(name)
    full = "/".join(_STACK)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        _STACK.pop()
        if _TIMES is not None:
            _TIMES.append((full, seconds))
        if on:  # and the CPU seconds of the whole process (DuckDB's threads too) meanwhile
            print(f"timing: {full} {seconds:.3f} {time.process_time() - cpu:.3f}",
                  file=sys.stderr, flush=True)


_STACK: list[str] = []


@contextmanager
def timings() -> Iterator[list[tuple[str, float]]]:
    """Collect every :func:`timed` block run inside, in the order they ended: (name, seconds)."""
    global _TIMES
    saved, _TIMES = _TIMES, []
    try:
        yield _TIMES
    finally:
        _TIMES = saved
