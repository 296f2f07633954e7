"""The AI section's chart: the change in mean lead time Amdahl's law predicts, beside the measured."""

from __future__ import annotations

import plotly.graph_objects as go

from leadlens.report.model_ai import AiSection

__all__ = ["predicted_vs_measured"]


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
