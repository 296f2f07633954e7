"""Waiting causes: what each coordination signal says work waits for, in hours per change or item,
so the report can name the largest (docs/metrics-coordination.md, "The largest waiting cause")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from leadlens.analysis.figures import Stage

__all__ = ["WaitingCause", "largest", "stage_causes"]


class WaitingCause(BaseModel):
    """One cause of waiting: ``hours_per_unit`` is the mean waiting hours it explains per change
    (or per item, ``unit``) over the ``units`` it was measured on (the mean, not the median:
    hours per change add up, as Amdahl's shares do)."""

    model_config = ConfigDict(frozen=True)

    cause: str  # a short name: "review pickup", "unanswered questions", "blocked", ...
    signal: str  # the JSON path of the figure it comes from, e.g. "coordination.time_zones"
    unit: str  # "change" | "item"
    units: int  # how many changes or items it was measured on
    hours_per_unit: float
    detail: str | None = None  # one sentence of context for the headline


def largest(causes: list[WaitingCause]) -> WaitingCause | None:
    """The cause with the most hours per unit (ties: by name); None when none was measured."""
    measured = [c for c in causes if c.units > 0]
    return max(measured, key=lambda c: (c.hours_per_unit, c.cause), default=None)


def stage_causes(stages: list[Stage], units: int, *, unit: str, signal: str) -> list[WaitingCause]:
    """Each stage's waiting time (DESIGN.md, Stages: time nobody acted within the activity
    window) as a cause, in hours per delivered change or item: ``units`` is how many the stages
    were summed over (the lead-time distribution's n)."""
    if not units:
        return []
    return [WaitingCause(cause=f"waiting in {s.name}", signal=signal, unit=unit, units=units,
                         hours_per_unit=s.waiting_s / 3600 / units,
                         detail=f"{s.share:.0%} of lead time is {s.name}")
            for s in stages if s.waiting_s > 0]
