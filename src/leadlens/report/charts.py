"""Plotly figures of the report and its AI section, as HTML fragments; the page embeds plotly.js once."""

from __future__ import annotations

import plotly.graph_objects as go

from leadlens.analysis import amdahl
from leadlens.report.format import duration
from leadlens.report.model import AiSection, Report

__all__ = ["active_waiting", "amdahl_curves", "lead_time_histogram", "predicted_vs_measured",
           "stage_shares_over_time"]

_LAYOUT = {"margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "height": 360,
           "template": "plotly_white", "legend": {"orientation": "h", "y": -0.2}}
ACCELERATIONS = (1, 1.25, 1.5, 2, 3, 4, 6, 8, 12, 16, 32, 64)


def _html(fig: go.Figure) -> str:
    fig.update_layout(**_LAYOUT)
    # No repository text goes into figures (titles stay in escaped HTML tables); plotly also
    # encodes < and > inside its JSON.
    return str(fig.to_html(full_html=False, include_plotlyjs=False,
                           config={"displaylogo": False, "responsive": True}))


def lead_time_histogram(report: Report) -> str:
    labels = [f"{duration(b.lo_s)}–{duration(b.hi_s)}" if b.hi_s is not None
              else f"≥ {duration(b.lo_s)}" for b in report.lead_time_histogram]
    fig = go.Figure(go.Bar(x=labels, y=[b.changes for b in report.lead_time_histogram],
                           marker_color="#4c78a8", name="changes"))
    fig.update_layout(title="Lead time", xaxis_title="lead time", yaxis_title="changes")
    return _html(fig)


def stage_shares_over_time(report: Report) -> str:
    names = [s.name for s in report.stages]
    fig = go.Figure()
    for name in names:
        fig.add_trace(go.Bar(x=[m.month for m in report.months],
                             y=[m.stage_shares.get(name, 0.0) for m in report.months], name=name))
    fig.update_layout(barmode="stack", title="Stage shares of lead time, by month merged",
                      yaxis_tickformat=".0%")
    return _html(fig)


def amdahl_curves(report: Report) -> str:
    fig = go.Figure()
    for s in report.stages:
        fig.add_trace(go.Scatter(x=list(ACCELERATIONS),
                                 y=[amdahl.speedup(s.share, k) for k in ACCELERATIONS],
                                 mode="lines+markers", name=f"{s.name} ({s.share:.0%})"))
    fig.update_layout(title="Amdahl: end-to-end speed-up when one stage gets faster",
                      xaxis_title="that stage's speed-up (×)", xaxis_type="log",
                      yaxis_title="end-to-end speed-up (×)")
    return _html(fig)


def active_waiting(report: Report) -> str:
    names = [s.name for s in report.stages]
    total = sum(s.active_s + s.waiting_s for s in report.stages) or 1.0
    fig = go.Figure([
        go.Bar(y=names, x=[s.active_s / total for s in report.stages], name="active",
               orientation="h", marker_color="#54a24b"),
        go.Bar(y=names, x=[s.waiting_s / total for s in report.stages], name="waiting",
               orientation="h", marker_color="#e45756"),
    ])
    fig.update_layout(barmode="stack", title="Active vs waiting, per stage",
                      xaxis_title="share of all lead time", xaxis_tickformat=".0%",
                      yaxis_autorange="reversed")
    return _html(fig)


def predicted_vs_measured(section: AiSection) -> str:
    """An HTML fragment (no plotly.js: the page inlines it once), or "" when there is nothing."""
    a = section.amdahl
    if a is None or not a.enough or a.predicted_change_pct is None or a.measured_change_pct is None:
        return ""
    values = [a.predicted_change_pct, a.measured_change_pct]
    lows = [a.predicted_change_low, a.measured_change_low]
    highs = [a.predicted_change_high, a.measured_change_high]
    plus = [h - v if h is not None else 0 for v, h in zip(values, highs, strict=True)]
    minus = [v - lo if lo is not None else 0 for v, lo in zip(values, lows, strict=True)]
    fig = go.Figure(go.Bar(
        x=["predicted (Amdahl)", "measured"], y=values, marker_color=["#4c78a8", "#f58518"],
        error_y={"type": "data", "array": plus, "arrayminus": minus, "visible": True}))
    fig.update_layout(title=f"Change in mean lead time, {section.amdahl_basis} (95% CI)",
                      yaxis_title="% change (negative = faster)", height=360,
                      margin={"l": 60, "r": 20, "t": 50, "b": 40})
    html: str = fig.to_html(full_html=False, include_plotlyjs=False)
    return html
