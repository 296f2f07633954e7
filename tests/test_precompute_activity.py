"""derive's precompute step: each change's git activity islands (change_activity), equal to the
ones the report computed from the events itself, merged exactly with the forge's activity, brought
up to date incrementally, and not read when stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import ibis
import pyarrow as pa

from forgefixtures import review
from gitfixtures import build_flow, build_linear
from leadlens.attribution import Rules
from leadlens.derive.precompute import derive_precompute
from leadlens.engines import connect
from leadlens.metrics.activity import fresh_repos, merge_islands
from leadlens.metrics.flow import Filters, flow
from leadlens.pipeline import ingest_git
from leadlens.store import open_store
from leadlens.store.db import Store
from leadlens.timeline import activity_islands

H = 3600


def _at(h: float) -> datetime:
    return datetime(2024, 3, 1, tzinfo=UTC) + timedelta(seconds=h * H)


def test_merged_islands_join_where_they_overlap_or_touch() -> None:
    t = pa.table({"cid": [1, 1, 1, 1, 2, 2],
                  "start": [_at(0), _at(5), _at(12), _at(30), _at(0), _at(3)],
                  "end": [_at(10), _at(12), _at(20), _at(40), _at(2), _at(4)]})
    got = ibis.memtable(t).pipe(merge_islands, ("cid",)).order_by(["cid", "start"]).to_pyarrow()
    assert [(r["cid"], r["start"], r["end"]) for r in got.to_pylist()] == [
        (1, _at(0), _at(20)), (1, _at(30), _at(40)), (2, _at(0), _at(2)), (2, _at(3), _at(4))]


def _segments(st: Store, f: Filters | None = None) -> list[dict[str, object]]:
    backend = connect(st)
    fl = flow(backend, f or Filters())
    try:
        segs = fl.segments.join(fl.scope.select("cid", "id"), "cid").drop("cid")
        out: list[dict[str, object]] = backend.to_pyarrow(segs.order_by(["id", "start", "stage"])).to_pylist()
        return out
    finally:
        fl.release()


def _islands(st: Store) -> set[tuple[str, datetime, datetime]]:
    return {(c, s, e) for c, s, e in st.con.execute(
        'SELECT change_id, "start", "end" FROM change_activity').fetchall()}


def _live_islands(st: Store, window: timedelta) -> set[tuple[str, datetime, datetime]]:
    backend = connect(st)
    cc = backend.table("change_commits")
    ev = cc.select(cid=cc.change_id, at=ibis.array([cc.author_time, cc.committer_time]).unnest())
    isl = backend.to_pyarrow(activity_islands(ev.filter(ev.at.notnull()), window, ("cid",)))
    return {(r["cid"], r["start"], r["end"]) for r in isl.to_pylist()}


def test_stored_islands_and_segments_equal_the_reports_own(tmp_path: Path) -> None:
    build_flow(tmp_path / "flow")
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [tmp_path / "flow"])
        assert fresh_repos(connect(st), Filters().activity_window) == ["acme/flow"]
        assert _islands(st) == _live_islands(st, Filters().activity_window)
        # PR #3: commits at 09:00, 10:00 and the next day 09:00 and its merge at 15:00 (2 h
        # windows): three islands.
        assert sorted((s.day, s.hour, e.hour) for c, s, e in _islands(st)
                      if c == "acme/flow#3") == [(11, 9, 12), (12, 9, 11), (12, 15, 17)]
        stored = _segments(st)
        # The forge's activity merges with the stored islands: a review an hour after PR #3's
        # last commit joins its island (until 12:00), one later starts its own.
        review(st.con, "acme/flow", 3, "erin", "COMMENTED", "2024-03-12T10:00:00Z")
        review(st.con, "acme/flow", 3, "erin", "APPROVED", "2024-03-12T13:30:00Z")
        merged = _segments(st)
        st.con.execute("DELETE FROM activity_state")  # stale: the report's own islands
        assert fresh_repos(connect(st), Filters().activity_window) == []
        assert _segments(st) == merged != stored
        st.con.execute("DELETE FROM reviews")
        assert _segments(st) == stored
        # Another window than the stored one: not read either.
        derive_precompute(st, "acme/flow", Rules.configured())
        other = Filters(activity_window=timedelta(hours=1))
        assert fresh_repos(connect(st), other.activity_window) == []
        assert _segments(st, other) != stored


def test_only_new_or_changed_changes_get_islands_and_a_new_window_redoes_all(
        tmp_path: Path) -> None:
    build_linear(tmp_path / "r", 3)
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [tmp_path / "r"])
        assert len(_islands(st)) == 3
        # A planted island on a change that will not change: an incremental run keeps it.
        first = st.con.execute("SELECT min(change_id) FROM change_activity").fetchall()[0][0]
        st.con.execute("INSERT INTO change_activity VALUES ('r', ?, ?, ?)",
                       [first, _at(0), _at(1)])
        build_linear_more(tmp_path / "r")
        ingest_git(st, [tmp_path / "r"])
        assert len(_islands(st)) == 5  # four changes, one planted island
        again = derive_precompute(st, "r", Rules.configured())
        assert again.activity_changes == 0
        redo = derive_precompute(st, "r", Rules.configured(), window=timedelta(hours=1))
        assert redo.activity_changes == 4
        assert _islands(st) == _live_islands(st, timedelta(hours=1))
        # A change that vanished (history rewritten) loses its islands.
        st.con.execute("DELETE FROM change_commits WHERE change_id = ?", [first])
        derive_precompute(st, "r", Rules.configured(), window=timedelta(hours=1))
        assert first not in {c for c, _, _ in _islands(st)}
        assert _islands(st) == _live_islands(st, timedelta(hours=1))


def build_linear_more(path: Path) -> None:
    """One more commit on the line :func:`build_linear` made (a fourth change)."""
    from gitfixtures import Git

    g = Git.open(path)
    g.write("more.txt", "more\n")
    g.commit("More\n", date="2024-02-01T10:00:00Z")
