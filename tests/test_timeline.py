"""The timeline rules: hand-computed cases and property tests of the invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from leadlens.timeline import MILESTONES, active_seconds, stage_name, timeline

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_git_only_change_hand_computed() -> None:
    # PR #7 of the fixture: first commit 16:00, last commit 22:30, merged 06:30 next day,
    # released on 2024-01-06 17:00.
    t = timeline({"work_started": h(16), "ready_for_review": h(22.5), "merged": h(30.5),
                  "released": h(137)})
    assert [(s.stage, s.seconds / 3600) for s in t.segments] == [
        ("coding", 6.5), ("pickup+review+merge", 8.0), ("release", 106.5)]
    assert t.lead_time_s == 121 * 3600 and t.out_of_order == 0


def test_missing_milestones_join_stage_names() -> None:
    assert stage_name("ready_for_review", "merged") == "pickup+review+merge"
    assert stage_name("item_created", "item_ready") == "spec"
    t = timeline({"item_created": h(0), "work_started": h(5), "merged": h(6)}, end="merged")
    assert [s.stage for s in t.segments] == ["spec+queue", "coding+pickup+review+merge"]
    assert t.lead_time_s == 6 * 3600


def test_out_of_order_is_clamped_and_counted() -> None:
    # Fixture #12: committed 11:00, authored 11:15 (clock skew): merged clamps to work_started.
    t = timeline({"work_started": h(11.25), "ready_for_review": h(11.25), "merged": h(11),
                  "released": h(60)})
    assert [s.seconds for s in t.segments] == [0.0, 0.0, (60 - 11.25) * 3600]
    assert t.out_of_order == 1
    assert t.lead_time_s == (60 - 11.25) * 3600


def test_in_flight_has_no_lead_time() -> None:
    t = timeline({"work_started": h(0), "ready_for_review": h(3), "merged": h(4)})
    assert t.lead_time_s is None and t.elapsed_s == 4 * 3600


def test_active_and_waiting() -> None:
    # Commits at 0 h and 1 h with a 2 h window cover [0, 3): in a [0, 10) segment 3 h are active.
    assert active_seconds(h(0), h(10), [h(0), h(1)]) == 3 * 3600
    assert active_seconds(h(5), h(10), [h(0), h(4)]) == 1 * 3600
    assert active_seconds(h(0), h(10), []) == 0


_times = st.one_of(st.none(), st.integers(0, 10_000).map(lambda m: T0 + timedelta(minutes=m)))


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({m: _times for m in MILESTONES}),
       st.sampled_from(["released", "merged"]))
def test_invariants(milestones: dict[str, datetime | None], end: str) -> None:
    t = timeline(milestones, end=end)
    for seg in t.segments:
        assert seg.seconds >= 0
    for a, b in zip(t.segments, t.segments[1:], strict=False):
        assert a.end == b.start  # contiguous: no overlap, no gap
    if t.lead_time_s is not None:
        assert sum(s.seconds for s in t.segments) == t.lead_time_s
        assert milestones[end] is not None
    # Each stage appears at most once, in canonical order, and joined names cover the gaps.
    names = [part for s in t.segments for part in s.stage.split("+")]
    assert len(names) == len(set(names))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 600), max_size=8), st.integers(0, 600), st.integers(0, 600))
def test_active_never_exceeds_the_segment(events: list[int], a: int, b: int) -> None:
    start, end = sorted((T0 + timedelta(minutes=a), T0 + timedelta(minutes=b)))
    got = active_seconds(start, end, [T0 + timedelta(minutes=e) for e in events])
    assert 0 <= got <= (end - start).total_seconds()
    # Brute force on the minute grid: a minute is active when someone acted in the 2 h before it.
    lo, hi = sorted((a, b))
    brute = sum(1 for t in range(lo, hi) if any(e <= t < e + 120 for e in events))
    assert got == brute * 60
