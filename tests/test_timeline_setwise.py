"""The set-wise timeline (Ibis over DuckDB) agrees with the pure reference model, change by change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ibis
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadlens.timeline import (
    MILESTONES,
    active_seconds,
    active_split,
    activity_islands,
    change_spans,
    clamped_milestones,
    segments,
    timeline,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
_TS = pa.timestamp("us", tz="UTC")
CON = ibis.duckdb.connect()

# A change: some milestones (minutes after T0, in any order: clock skew happens) and activity.
change_st = st.tuples(
    st.dictionaries(st.sampled_from(MILESTONES), st.integers(0, 20_000), min_size=1),
    st.lists(st.integers(-500, 21_000), max_size=6),
)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _tables(changes: list[tuple[dict[str, int], list[int]]], end: str
            ) -> tuple[ibis.Table, ibis.Table]:
    ms = {"repo": [], "change_id": [], "name": [], "at": []}  # type: dict[str, list[object]]
    ev = {"repo": [], "change_id": [], "at": []}  # type: dict[str, list[object]]
    for i, (points, events) in enumerate(changes):
        for name, minute in points.items():
            for key, value in (("repo", "r"), ("change_id", f"c{i}"), ("name", name),
                               ("at", _at(minute))):
                ms[key].append(value)
        for minute in events:
            for key, value in (("repo", "r"), ("change_id", f"c{i}"), ("at", _at(minute))):
                ev[key].append(value)
    ms_t = pa.table({**ms, "at": pa.array(ms["at"], _TS)})
    ev_t = pa.table({"repo": pa.array(ev["repo"], pa.string()),
                     "change_id": pa.array(ev["change_id"], pa.string()),
                     "at": pa.array(ev["at"], _TS)})
    ms_t = ms_t.append_column("end", pa.array([end] * ms_t.num_rows, pa.string()))
    return ibis.memtable(ms_t), ibis.memtable(ev_t)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(change_st, min_size=1, max_size=25), st.sampled_from(["released", "merged"]))
def test_setwise_agrees_with_reference(changes: list[tuple[dict[str, int], list[int]]],
                                       end: str) -> None:
    ms, ev = _tables(changes, end)
    clamped = clamped_milestones(ms)
    segs = CON.to_pyarrow(active_split(segments(clamped), activity_islands(ev))).to_pylist()
    spans = {r["change_id"]: r for r in CON.to_pyarrow(change_spans(clamped)).to_pylist()}
    got: dict[str, dict[str, tuple[float, float]]] = {}
    for r in segs:
        got.setdefault(r["change_id"], {})[r["stage"]] = (r["seconds"], r["active_s"])
    for i, (points, events) in enumerate(changes):
        ref = timeline({m: _at(v) for m, v in points.items()}, end=end)
        cid = f"c{i}"
        want = {s.stage: (s.seconds, active_seconds(s.start, s.end, [_at(e) for e in events]))
                for s in ref.segments}
        assert got.get(cid, {}) == want, cid
        if cid in spans:
            assert spans[cid]["out_of_order"] == ref.out_of_order
            assert spans[cid]["lead_time_s"] == ref.lead_time_s
            assert spans[cid]["elapsed_s"] == ref.elapsed_s
        else:  # no milestone up to the end one: the reference has nothing either
            assert ref.segments == () and ref.lead_time_s is None


def test_hand_computed_active_and_waiting() -> None:
    # Coding 0h -> 10h with commits at 0h, 1h and 9.5h: islands [0, 3) and [9.5, 11.5) cover
    # 3.5h of it (2h window); release 10h -> 30h with activity at 20h: 1.5h + 2h = 3.5h.
    ms, ev = _tables([({"work_started": 0, "ready_for_review": 600, "merged": 300,
                              "released": 1800}, [0, 60, 570, 1200])], "released")
    rows = CON.to_pyarrow(active_split(segments(clamped_milestones(ms)),
                                       activity_islands(ev))).to_pylist()
    by = {r["stage"]: (r["seconds"] / 3600, r["active_s"] / 3600, r["waiting_s"] / 3600)
          for r in rows}
    # merged (5h) came before ready_for_review (10h): clamped to 10h, a zero-length segment.
    assert by == {"coding": (10, 3.5, 6.5), "pickup+review+merge": (0, 0, 0),
                  "release": (20, 3.5, 16.5)}


def test_duplicate_event_times_pair_up() -> None:
    # Author and committer time are often equal: [0, 0] and [10h, 10h] are two 2 h islands.
    _, ev = _tables([({"work_started": 0}, [0, 0, 600, 600, 600])], "merged")
    for _ in range(5):  # equal times sort either way; the islands must not depend on it
        rows = CON.to_pyarrow(activity_islands(ev)).to_pylist()
        assert sorted((r["start"], r["end"]) for r in rows) == [(_at(0), _at(120)),
                                                               (_at(600), _at(720))]
