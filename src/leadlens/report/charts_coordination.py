"""Plotly figures of the coordination section: review pickup by time-zone distance, and decision
latency by month. Only numbers and leadlens' own labels (buckets, months) go into them; what a
repository names (teams, paths) stays in the escaped HTML tables."""

from __future__ import annotations

import plotly.graph_objects as go

from leadlens.analysis.questions import QuestionFigures
from leadlens.analysis.time_zones import TimeZoneFigures
from leadlens.report.charts import html_fragment

__all__ = ["decision_latency", "pickup_by_distance"]


def pickup_by_distance(tz: TimeZoneFigures) -> str:
    """Median pickup (and round trip) per author-reviewer distance bucket, with the 95% interval
    of each median as error bars: "" when no bucket has a median."""
    fig = go.Figure()
    for name, buckets in (("pickup", tz.pickup), ("review round trip", tz.round_trip)):
        shown = [b for b in buckets or [] if b.median_h is not None]
        if not shown:
            continue
        fig.add_trace(go.Bar(
            x=[b.bucket for b in shown], y=[b.median_h for b in shown], name=name,
            text=[f"n={b.n}" for b in shown], textposition="outside",
            error_y={"type": "data", "symmetric": False,
                     "array": [(b.ci_high_h - b.median_h) if b.ci_high_h is not None
                               and b.median_h is not None else 0 for b in shown],
                     "arrayminus": [(b.median_h - b.ci_low_h) if b.ci_low_h is not None
                                    and b.median_h is not None else 0 for b in shown]}))
    if not fig.data:
        return ""
    fig.update_layout(title="Median hours by author-reviewer time-zone distance (95% CI)",
                      xaxis_title="distance between author and reviewer", yaxis_title="hours",
                      barmode="group")
    return html_fragment(fig)


def decision_latency(q: QuestionFigures) -> str:
    """Median and p85 question → answer time per month of the question: "" without answers."""
    months = [m for m in q.by_month or [] if m.median_s is not None]
    if not months:
        return ""
    fig = go.Figure()
    x = [f"{m.month}-15" for m in months]
    fig.add_trace(go.Scatter(x=x, y=[(m.median_s or 0) / 3600 for m in months],
                             mode="lines+markers", name="median"))
    fig.add_trace(go.Scatter(x=x, y=[(m.p85_s or 0) / 3600 for m in months],
                             mode="lines+markers", name="p85", line={"dash": "dot"}))
    fig.update_layout(title="Decision latency: question → first answer by someone else",
                      yaxis_title="hours", xaxis_title="month of the question")
    return html_fragment(fig)
