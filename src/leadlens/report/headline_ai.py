"""The AI section's answer in one or two sentences: Amdahl's prediction beside the measurement."""

from __future__ import annotations

from leadlens.analysis.impact import Impact
from leadlens.report.terminal import duration

__all__ = ["headline", "pct", "pct_interval"]


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0f}%"


def pct_interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f" [{low:+.0f}%, {high:+.0f}%]"


def headline(impact: Impact, changes: int, ai_changes: int) -> str:
    share = ai_changes / changes if changes else 0.0
    lead = (f"{ai_changes:,} of {changes:,} changes are AI-assisted"
            f" ({share:.0%})." if share == 0 or share >= 0.01 else
            f"{ai_changes:,} of {changes:,} changes are AI-assisted ({share:.2%}).")
    if not changes:
        lead = "No changes in scope."
    a = impact.amdahl
    if a is None:
        if not ai_changes and changes:
            return (f"No AI-assisted changes among {changes:,} changes: no attribution rule matched"
                    " (see `leadlens ai report --format json` for the rules in force).")
        return lead
    if not a.enough:
        return f"{lead} {impact.amdahl_basis}: {a.reason}."
    k = "n/a" if a.stage_speedup is None else f"{a.stage_speedup:.2f}x"
    text = (f"{lead} {impact.amdahl_basis}: {a.stage} is {k} as fast; with {a.stage} at "
            f"{(a.share or 0):.0%} of lead time, Amdahl's law predicts mean lead time "
            f"{pct(a.predicted_change_pct)}{pct_interval(a.predicted_change_low, a.predicted_change_high)}"
            f", measured {pct(a.measured_change_pct)}"
            f"{pct_interval(a.measured_change_low, a.measured_change_high)}.")
    if a.median_lead_baseline is not None and a.median_lead_treatment is not None:
        text += (f" Median lead time {duration(a.median_lead_baseline)} →"
                 f" {duration(a.median_lead_treatment)}.")
    return text
