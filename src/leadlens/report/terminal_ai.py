"""The AI section on a terminal: the answer, then the comparisons with their intervals."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from leadlens.analysis.stats import Comparison, DiD
from leadlens.report.model_ai import AiSection
from leadlens.report.terminal import duration

__all__ = ["metric_label", "render_ai", "value"]


def metric_label(metric: str) -> str:
    if metric.startswith("stage:"):
        return f"{metric.removeprefix('stage:')} time"
    return {"lead_time_s": "lead time", "lines": "size (lines)", "revert_rate": "revert rate",
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


def _interval(metric: str, low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "-"
    return f"[{value(metric, low, signed=True)}, {value(metric, high, signed=True)}]"


def _table(title: str, rows: list[Comparison]) -> Table:
    base, treat = rows[0].labels
    t = Table(box=box.SIMPLE_HEAD, title=f"{title}: {base} → {treat}", title_justify="left")
    t.add_column("metric", overflow="fold")
    for col in ("n", "median", "Δ [95% CI]", "p", "size-adj. Δ"):
        t.add_column(col, justify="right", overflow="fold")
    for c in rows:
        mean = c.statistic == "mean"
        b = c.mean_baseline if mean else c.median_baseline
        tr = c.mean_treatment if mean else c.median_treatment
        cells = [metric_label(c.metric) + (" (mean)" if mean else ""),
                 f"{c.n_baseline:,}/{c.n_treatment:,}", f"{value(c.metric, b)} → {value(c.metric, tr)}"]
        if not c.enough:
            t.add_row(*cells, "not enough evidence", "", "")
            continue
        t.add_row(
            *cells,
            f"{value(c.metric, c.difference, signed=True)} {_interval(c.metric, c.ci_low, c.ci_high)}",
            "-" if c.p_value is None else f"{c.p_value:.3f}",
            value(c.metric, c.stratified_difference, signed=True))
    return t


def _did_table(rows: list[DiD]) -> Table:
    t = Table(box=box.SIMPLE_HEAD, title="Difference in differences (pilot team vs control team)",
              title_justify="left")
    for col in ("metric", "pilot change", "control change", "DiD", "95% CI"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for d in rows:
        if not d.enough:
            t.add_row(metric_label(d.metric), "", "", "not enough evidence", "")
            continue
        t.add_row(metric_label(d.metric), value(d.metric, d.pilot_change, signed=True),
                  value(d.metric, d.control_change, signed=True),
                  value(d.metric, d.estimate, signed=True), _interval(d.metric, d.ci_low, d.ci_high))
    return t


def render_ai(section: AiSection, console: Console) -> None:
    console.print(f"[bold]{section.headline}[/]", highlight=False)
    if section.ai_line_share is not None:
        console.print(f"AI-assisted commits changed {section.ai_line_share:.1%} of the lines the"
                      f" scope's changes changed.", highlight=False)
    if section.rules:
        console.print("Evidence: " + "; ".join(
            f"{r.rule} ({r.changes:,} changes)" for r in section.rules), highlight=False)
    if section.comparisons:
        console.print(_table("AI-assisted vs other changes", section.comparisons))
    if section.pilot:
        console.print(_table(f"Pilot from {section.pilot_start:%Y-%m-%d}", section.pilot))
    if section.did:
        console.print(_did_table(section.did))
    for s in section.survival:
        if s.ai_rewritten_share is not None or s.human_rewritten_share is not None:
            ai = "-" if s.ai_rewritten_share is None else f"{s.ai_rewritten_share:.1%}"
            hu = "-" if s.human_rewritten_share is None else f"{s.human_rewritten_share:.1%}"
            console.print(f"Lines rewritten or deleted within {s.days} days: AI {ai} of"
                          f" {s.ai_lines:,}, others {hu} of {s.human_lines:,}.", highlight=False)
    console.print("p = Mann-Whitney U; size-adj. Δ = the difference within size buckets, weighted"
                  " by their shares (effect sizes in --format json|html).", style="dim",
                  highlight=False)
    console.print(f"Intervals: 95% BCa bootstrap, {section.resamples:,} resamples, seed"
                  f" {section.seed}; fewer than 20 changes in a cohort (10 in a size bucket) is"
                  " not enough evidence.", style="dim", highlight=False)
    for msg in section.messages:
        console.print(f"[yellow]note:[/] {msg}", highlight=False)
