"""Plotly figures of the report and its AI section, as HTML fragments; the page embeds plotly.js once."""

from __future__ import annotations

import plotly.graph_objects as go

from leadlens.analysis import amdahl
from leadlens.analysis.trend import Trend
from leadlens.report.format import duration
from leadlens.report.model import AiSection, Report

__all__ = ["active_waiting", "amdahl_curves", "html_fragment", "lead_time_histogram",
           "predicted_vs_measured", "stage_shares_over_time", "trend"]

_LAYOUT = {"margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "height": 360,
           "template": "plotly_white", "legend": {"orientation": "h", "y": -0.2}}
ACCELERATIONS = (1, 1.25, 1.5, 2, 3, 4, 6, 8, 12, 16, 32, 64)


def html_fragment(fig: go.Figure) -> str:
    """A figure as an HTML fragment in the report's layout (plotly.js is embedded once, apart)."""
    fig.update_layout(**_LAYOUT)
    # No repository text goes into figures (titles stay in escaped HTML tables); plotly also
    # encodes < and > inside its JSON.
    return str(fig.to_html(full_html=False, include_plotlyjs=False,
                           config={"displaylogo": False, "responsive": True}))


def trend(t: Trend) -> str:
    """The monthly median with its 95% band, and each window's median as a level: "" when no
    month has a delivery."""
    months = [m for m in t.monthly if m.median_s is not None]
    if not months:
        return ""
    largest = max(max(m.ci95[1] if m.ci95 else 0.0, m.median_s or 0.0) for m in months)
    unit, size = ("days", 86400.0) if largest >= 2 * 86400 else ("hours", 3600.0)
    x = [f"{m.month}-15" for m in t.monthly]  # mid-month: the points sit between the ticks

    def scaled(v: float | None) -> float | None:
        return None if v is None else v / size

    fig = go.Figure()
    # The band as one polygon per run of months that have an interval (gaps stay gaps).
    band_x: list[str | None] = []
    band_y: list[float | None] = []
    run: list[tuple[str, tuple[float, float]]] = []
    for month, m in [*zip(x, t.monthly, strict=True), (None, None)]:
        if month is not None and m is not None and m.ci95 is not None:
            run.append((month, m.ci95))
            continue
        if run:
            band_x += [r[0] for r in run] + [r[0] for r in reversed(run)] + [None]
            band_y += ([r[1][1] / size for r in run] + [r[1][0] / size for r in reversed(run)]
                       + [None])
            run = []
    if band_x:
        fig.add_trace(go.Scatter(x=band_x, y=band_y, fill="toself", mode="none",
                                 fillcolor="rgba(76,120,168,0.18)", name="95% interval",
                                 hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=x, y=[scaled(m.median_s) for m in t.monthly], mode="lines+markers", name="monthly median",
        line={"color": "#4c78a8"}, customdata=[m.n for m in t.monthly],
        hovertemplate=f"%{{x|%Y-%m}}: %{{y:.1f}} {unit} (n=%{{customdata}})<extra></extra>"))
    for w, label, color in ((t.previous, "previous 12 months", "#9d755d"),
                            (t.current, "last 12 months", "#f58518")):
        if w.median_s is not None:
            fig.add_trace(go.Scatter(
                x=[w.from_, w.to], y=[w.median_s / size] * 2, mode="lines",
                line={"dash": "dash", "color": color, "width": 2},
                name=f"{label}: {duration(w.median_s)} (n={w.n:,})"))
    fig.add_vline(x=t.current.from_.timestamp() * 1000, line_dash="dot", line_color="#888")
    what = "spec → production" if t.basis == "item" else "lead time"
    fig.update_layout(title=f"Median {what} by month delivered (95% interval)",
                      xaxis_title="month delivered", yaxis_title=f"median {what} ({unit})",
                      yaxis_rangemode="tozero", xaxis_range=[t.previous.from_, t.current.to])
    return html_fragment(fig)


def lead_time_histogram(report: Report) -> str:
    labels = [f"{duration(b.lo_s)}–{duration(b.hi_s)}" if b.hi_s is not None
              else f"≥ {duration(b.lo_s)}" for b in report.lead_time_histogram]
    fig = go.Figure(go.Bar(x=labels, y=[b.changes for b in report.lead_time_histogram],
                           marker_color="#4c78a8", name="changes"))
    fig.update_layout(title="Lead time", xaxis_title="lead time", yaxis_title="changes")
    return html_fragment(fig)


def stage_shares_over_time(report: Report) -> str:
    names = [s.name for s in report.stages]
    fig = go.Figure()
    for name in names:
        fig.add_trace(go.Bar(x=[m.month for m in report.months],
                             y=[m.stage_shares.get(name, 0.0) for m in report.months], name=name))
    fig.update_layout(barmode="stack", title="Stage shares of lead time, by month merged",
                      yaxis_tickformat=".0%")
    return html_fragment(fig)


def amdahl_curves(report: Report) -> str:
    fig = go.Figure()
    for s in report.stages:
        fig.add_trace(go.Scatter(x=list(ACCELERATIONS),
                                 y=[amdahl.speedup(s.share, k) for k in ACCELERATIONS],
                                 mode="lines+markers", name=f"{s.name} ({s.share:.0%})"))
    fig.update_layout(title="Amdahl: end-to-end speed-up when one stage gets faster",
                      xaxis_title="that stage's speed-up (×)", xaxis_type="log",
                      yaxis_title="end-to-end speed-up (×)")
    return html_fragment(fig)


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
    return html_fragment(fig)


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
