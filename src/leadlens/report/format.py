"""How the report writes numbers: durations, percentages and compared metrics in their own units."""

from __future__ import annotations

from leadlens.timeline import duration

__all__ = ["count", "duration", "interval", "metric_label", "pct", "signed_pct", "value"]


def count(x: int | None) -> str:
    """A count, or '-' when it is unknown (null), never 0."""
    return "-" if x is None else f"{x:,}"


def pct(x: float | None) -> str:
    """A share or rate: 12.3%."""
    return "-" if x is None else f"{x:.1%}"


def signed_pct(x: float | None) -> str:
    """A change already in percent: +12.3%."""
    return "-" if x is None else f"{x:+.1f}%"


def metric_label(metric: str) -> str:
    """A compared metric's name as the reader says it."""
    if metric.startswith("stage:"):
        return f"{metric.removeprefix('stage:')} time"
    if metric.startswith("item_stage:"):
        return f"{metric.removeprefix('item_stage:')} time (work items)"
    return {"lead_time_s": "lead time", "spec_to_production_s": "spec → production (work items)",
            "lines": "size (lines)", "revert_rate": "revert rate",
            "rework_rate": "rework rate"}.get(metric, metric)


def value(metric: str, x: float | None, *, signed: bool = False) -> str:
    """A figure in the metric's unit: durations for times, percentages for rates, else a number."""
    if x is None:
        return "-"
    sign = "+" if signed and x > 0 else ""
    if metric.endswith("_rate"):
        return f"{sign}{x * 100:.1f}{'pp' if signed else '%'}"
    if metric == "lines":
        return f"{sign}{x:,.0f}"
    return f"{sign}{duration(x)}"


def interval(metric: str, low: float | None, high: float | None) -> str:
    """A confidence interval of a difference in the metric's unit: [-1.2d, +3.0h]."""
    if low is None or high is None:
        return "-"
    return f"[{value(metric, low, signed=True)}, {value(metric, high, signed=True)}]"
