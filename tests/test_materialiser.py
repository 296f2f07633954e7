"""Materialiser.drop: a table only another one was built from is dropped before the report ends."""

from __future__ import annotations

import ibis

from leadlens.engines import Materialiser


def tables(backend: ibis.BaseBackend) -> list[str]:
    return [r[0] for r in backend.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]


def test_drop_frees_one_table_and_release_the_rest() -> None:
    backend = ibis.duckdb.connect()
    cache = Materialiser(backend)
    a = cache(ibis.memtable({"x": [1, 2, 3]}))
    b = cache(a.mutate(y=a.x * 2))
    assert len(cache.names) == 2
    cache.drop(a)
    assert cache.names == [b.get_name().rsplit(".", 1)[-1]]
    assert cache.names[0] in tables(backend)
    assert a.get_name().rsplit(".", 1)[-1] not in tables(backend)
    assert backend.to_pyarrow(b.y.sum()).as_py() == 12  # b was copied: it outlives a
    cache.drop(a)  # dropping again, or a table made elsewhere, does nothing
    cache.drop(ibis.memtable({"z": [1]}))
    cache.release()
    assert cache.names == []
    assert not [t for t in tables(backend) if t.startswith("_leadlens_")]
