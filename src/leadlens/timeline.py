"""Milestones -> stage segments (DESIGN.md, Stages): the rules, as a small pure reference model.

The set-wise implementation over the store (Ibis, for millions of changes) must agree with this
model; property tests check the invariants here on random milestone sets: segments never overlap,
never go negative, and always sum exactly to the change's lead time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "DEFAULT_ACTIVITY_WINDOW",
    "MILESTONES",
    "STAGES",
    "Segment",
    "Timeline",
    "active_seconds",
    "stage_name",
    "timeline",
]

MILESTONES: tuple[str, ...] = (
    "item_created", "item_ready", "work_started", "ready_for_review", "first_review", "approved",
    "merged", "released",
)
# STAGES[i] lies between MILESTONES[i] and MILESTONES[i + 1].
STAGES: tuple[str, ...] = ("spec", "queue", "coding", "pickup", "review", "merge", "release")
DEFAULT_ACTIVITY_WINDOW = timedelta(hours=2)


def stage_name(start: str, end: str) -> str:
    """The segment's name between two present milestones: joined when milestones are missing."""
    i, j = MILESTONES.index(start), MILESTONES.index(end)
    if j <= i:
        raise ValueError(f"{end} does not come after {start}")
    return "+".join(STAGES[i:j])


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
