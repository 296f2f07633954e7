"""Milestones -> stage segments (DESIGN.md, Stages): the rules, as a small pure reference model.

The set-wise implementation over the store (Ibis, for millions of changes) must agree with this
model; property tests check the invariants here on random milestone sets: segments never overlap,
never go negative, and always sum exactly to the change's lead time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir

from leadlens.config import DEFAULT_ACTIVITY_WINDOW_HOURS

__all__ = [
    "DEFAULT_ACTIVITY_WINDOW",
    "KEY",
    "MILESTONES",
    "STAGES",
    "Segment",
    "Timeline",
    "active_seconds",
    "active_split",
    "activity_islands",
    "change_spans",
    "clamped_milestones",
    "duration",
    "seconds_between",
    "segments",
    "stage_name",
    "stage_order",
    "stage_pairs",
    "timeline",
]

MILESTONES: tuple[str, ...] = (
    "item_created", "item_ready", "work_started", "ready_for_review", "first_review", "approved",
    "merged", "released",
)
# STAGES[i] lies between MILESTONES[i] and MILESTONES[i + 1].
STAGES: tuple[str, ...] = ("spec", "queue", "coding", "pickup", "review", "merge", "release")
DEFAULT_ACTIVITY_WINDOW = timedelta(hours=DEFAULT_ACTIVITY_WINDOW_HOURS)


def stage_name(start: str, end: str) -> str:
    """The segment's name between two present milestones: joined when milestones are missing."""
    i, j = MILESTONES.index(start), MILESTONES.index(end)
    if j <= i:
        raise ValueError(f"{end} does not come after {start}")
    return "+".join(STAGES[i:j])


def stage_order(name: str) -> tuple[int, int]:
    """Canonical order of a (possibly joined) stage name: where it starts, then how far it spans."""
    parts = name.split("+")
    return STAGES.index(parts[0]), len(parts)


def duration(seconds: float | None) -> str:
    """A duration as people say it: 45s, 12m, 3.5h, 4.2d. It lives here because the analyses'
    headlines (which may not import the report) and the report's tables and charts share it."""
    if seconds is None:
        return "-"
    s = abs(seconds)
    if s < 60:
        text = f"{s:.0f}s"
    elif s < 3600:
        text = f"{s / 60:.0f}m"
    elif s < 48 * 3600:
        text = f"{s / 3600:.1f}h"
    else:
        text = f"{s / 86400:.1f}d"
    return ("-" if seconds < 0 else "") + text


@dataclass(frozen=True)
class Segment:
    stage: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Timeline:
    segments: tuple[Segment, ...]
    out_of_order: int  # milestones clamped to the one before them
    lead_time_s: float | None  # None while in flight (no end milestone)
    elapsed_s: float  # first milestone to the last known one (what an in-flight change has spent)


def timeline(milestones: Mapping[str, datetime | None], *, end: str = "released") -> Timeline:
    """Segments between the present milestones in canonical order, clamping any that go back.

    ``end`` is the milestone that ends lead time: ``released``, or ``merged`` for a repository
    with no release signal at all (DESIGN.md, Lead time).
    """
    last = MILESTONES.index(end)
    present = [(m, milestones[m]) for m in MILESTONES[: last + 1] if milestones.get(m) is not None]
    segments: list[Segment] = []
    clamped = 0
    prev_name: str | None = None
    prev_at: datetime | None = None
    for name, at in present:
        assert at is not None
        if prev_at is not None and at < prev_at:
            at = prev_at
            clamped += 1
        if prev_name is not None and prev_at is not None:
            segments.append(Segment(stage_name(prev_name, name), prev_at, at))
        prev_name, prev_at = name, at
    elapsed = sum(s.seconds for s in segments)
    done = bool(present) and present[-1][0] == end
    return Timeline(tuple(segments), clamped, elapsed if done else None, elapsed)


def active_seconds(start: datetime, end: datetime, events: Iterable[datetime],
                   window: timedelta = DEFAULT_ACTIVITY_WINDOW) -> float:
    """Seconds of ``[start, end)`` within ``window`` after some event (someone acted): active time.
    The rest of the segment is waiting."""
    total = 0.0
    cover_until = start
    for e in sorted(events):
        lo, hi = max(e, cover_until, start), min(e + window, end)
        if hi > lo:
            total += (hi - lo).total_seconds()
            cover_until = hi
        if e >= end:
            break
    return total


# --- set-wise: the same rules as Ibis expressions over milestone rows, for millions of changes ---

KEY: tuple[str, ...] = ("repo", "change_id")  # the default change key of the set-wise functions


def _rank_of(name: ir.StringValue) -> ir.IntegerValue:
    """A milestone's canonical position (null for names this version does not know)."""
    return ibis.cases(*[(name == m, i) for i, m in enumerate(MILESTONES)], else_=ibis.null()
                      ).cast("int8")


def stage_pairs() -> ibis.Table:
    """Every (from_rank, to_rank) pair of milestones and the name of the stage(s) between them."""
    pairs = [(i, j, stage_name(MILESTONES[i], MILESTONES[j]))
             for i in range(len(MILESTONES)) for j in range(i + 1, len(MILESTONES))]
    return ibis.memtable({"from_rank": [p[0] for p in pairs], "to_rank": [p[1] for p in pairs],
                          "stage": [p[2] for p in pairs]},
                         schema={"from_rank": "int8", "to_rank": "int8", "stage": "string"})


def seconds_between(end: ir.TimestampValue, start: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds from ``start`` to ``end`` (DESIGN.md, Engines: milliseconds / 1000 on every engine)."""
    return end.delta(start, unit="millisecond").cast("float64") / 1000


def clamped_milestones(milestones: ibis.Table, key: Sequence[str] = KEY) -> ibis.Table:
    """Milestones up to each change's end milestone, in canonical order, each clamped to the
    latest one before it. ``milestones``: key columns, ``name``, ``at`` and ``end`` (the
    milestone that ends the change's lead time: ``released``, or ``merged`` for a repository with
    no release signal). Adds rank, ``at`` clamped, ``out_of_order`` (it was clamped) and
    ``prev_rank``/``prev_at``."""
    m = milestones.mutate(rank=_rank_of(milestones.name), end_rank=_rank_of(milestones.end))
    m = m.filter(m.rank.notnull() & (m.rank <= m.end_rank))
    upto = ibis.window(group_by=list(key), order_by="rank", preceding=None, following=0)
    ordered = ibis.window(group_by=list(key), order_by="rank")
    m = m.mutate(run_at=m.at.max().over(upto))
    return m.mutate(
        out_of_order=(m.at < m.run_at.lag().over(ordered)).fill_null(False),
        prev_rank=m.rank.lag().over(ordered),
        prev_at=m.run_at.lag().over(ordered),
    ).drop("at").rename(at="run_at")


def segments(clamped: ibis.Table, key: Sequence[str] = KEY) -> ibis.Table:
    """One row per change and segment: key columns, stage, start, end, seconds."""
    seg = clamped.filter(clamped.prev_rank.notnull())
    names = stage_pairs()
    seg = seg.join(names, [seg.prev_rank == names.from_rank, seg.rank == names.to_rank])
    return seg.select(*key, "stage", start=seg.prev_at, end=seg.at,
                      seconds=seconds_between(seg.at, seg.prev_at))


def change_spans(clamped: ibis.Table, key: Sequence[str] = KEY) -> ibis.Table:
    """Per change: first milestone time, last (clamped) time, whether it reached its end
    milestone, lead_time_s (null in flight), elapsed_s, out_of_order clamps, last/end rank."""
    agg = clamped.group_by(list(key)).aggregate(
        first_at=clamped.at.argmin(clamped.rank),
        last_at=clamped.at.max(),
        done=(clamped.rank == clamped.end_rank).any(),
        out_of_order=clamped.out_of_order.sum().cast("int64"),
        last_rank=clamped.rank.max(),
        end_rank=clamped.end_rank.max(),
    )
    elapsed = seconds_between(agg.last_at, agg.first_at)
    return agg.mutate(elapsed_s=elapsed, lead_time_s=ibis.ifelse(agg.done, elapsed, ibis.null()))


def activity_islands(events: ibis.Table, window: timedelta = DEFAULT_ACTIVITY_WINDOW,
                     key: Sequence[str] = KEY) -> ibis.Table:
    """Merge each change's activity windows ``[event, event + window)`` into disjoint islands.
    ``events``: key columns and ``at``. Returns key columns, start, end."""
    w = ibis.interval(milliseconds=int(window.total_seconds() * 1000))
    ordered = ibis.window(group_by=list(key), order_by="at")
    # Sorted by time, the reach of all earlier windows is the previous event's plus the window:
    # an island starts at an event that comes after it, and ends at an event whose next one
    # starts another. One pass marks both; a second over those rows alone pairs them up.
    e = events.select(*key, "at")
    prev, nxt = e.at.lag().over(ordered), e.at.lead().over(ordered)
    e = e.mutate(starts=(e.at > prev + w).fill_null(True), ends=(nxt > e.at + w).fill_null(True))
    e = e.filter(e.starts | e.ends)
    # Among equal times, a start that is not also an end comes first: it pairs with the end.
    paired = ibis.window(group_by=list(key), order_by=["at", "ends"])
    last = ibis.ifelse(e.ends, e.at, e.at.lead().over(paired))
    e = e.mutate(last=last)
    return e.filter(e.starts).select(*key, start=e.at, end=e.last + w)


def active_split(segs: ibis.Table, islands: ibis.Table, key: Sequence[str] = KEY) -> ibis.Table:
    """Per segment: ``active_s`` (covered by an activity island) and ``waiting_s`` (the rest)."""
    isl = islands.rename(i_start="start", i_end="end")
    j = segs.join(isl, [*[segs[k] == isl[k] for k in key],
                        isl.i_start < segs.end, isl.i_end > segs.start])
    lo = ibis.greatest(j.start, j.i_start)
    hi = ibis.least(j.end, j.i_end)
    covered = j.mutate(part=seconds_between(hi, lo)).group_by([*key, "stage"]).aggregate(
        active_s=ibis._.part.sum())
    out = segs.left_join(covered, [*key, "stage"]).select(
        segs, active_s=covered.active_s.fill_null(0.0))
    return out.mutate(waiting_s=out.seconds - out.active_s)
