"""Plotly figures of the what-if section: Amdahl's curves of the largest stages, the simulated
gain against coding's speed-up beside Amdahl's, and the review queues over the simulated days.
Only numbers and stage names (leadlens' own) go into them."""

from __future__ import annotations

import plotly.graph_objects as go

from leadlens.analysis.simulation import Simulation
from leadlens.analysis.whatif_section import WhatIfSection
from leadlens.report.charts import html_fragment

__all__ = ["CHART_STAGES", "amdahl_curves", "queue_over_time", "simulated_curve"]

CHART_STAGES = 4
_BAND = "rgba(245,133,24,0.2)"


def amdahl_curves(w: WhatIfSection) -> str:
    """End-to-end gain against each of the largest stages' speed-up: "" without stages."""
    if not w.amdahl:
        return ""
    fig = go.Figure()
    for s in w.amdahl[:CHART_STAGES]:
        fig.add_trace(go.Scatter(x=[p.speedup for p in s.curve], y=[p.gain for p in s.curve],
                                 mode="lines+markers", name=f"{s.stage} ({s.share:.0%})"))
    what = "spec → production" if w.basis == "item" else "lead time"
    fig.update_layout(title=f"Amdahl: mean {what} gain when one stage gets faster",
                      xaxis_title="that stage's speed-up (x)",
                      yaxis_title="end-to-end gain (x)")
    return html_fragment(fig)


def _band(fig: go.Figure, x: list[float], low: list[float], high: list[float], name: str) -> None:
    fig.add_trace(go.Scatter(x=x + x[::-1], y=high + low[::-1], fill="toself", mode="none",
                             fillcolor=_BAND, name=name, hoverinfo="skip"))


def simulated_curve(sim: Simulation) -> str:
    """The simulated gain (median of the replications, with their middle 85%) against the
    scenario stages' speed-up, arrivals as in the scenario, beside Amdahl's law: "" without."""
    points = [c for c in sim.curve if c.simulated is not None]
    if not points:
        return ""
    x = [c.speedup for c in points]
    fig = go.Figure()
    _band(fig, x, [c.simulated.low for c in points if c.simulated is not None],
          [c.simulated.high for c in points if c.simulated is not None], "simulated, 85% of runs")
    fig.add_trace(go.Scatter(x=x, y=[c.simulated.mid for c in points if c.simulated is not None],
                             mode="lines+markers", name="simulated", line={"color": "#f58518"}))
    amdahl = [c for c in points if c.amdahl is not None]
    if amdahl:
        fig.add_trace(go.Scatter(x=[c.speedup for c in amdahl], y=[c.amdahl for c in amdahl],
                                 mode="lines+markers", name="Amdahl's law",
                                 line={"color": "#4c78a8", "dash": "dash"}))
    fig.add_hline(y=1.0, line_dash="dot", line_color="#888")
    stages = ", ".join(sim.scenario.speedups)
    fig.update_layout(title=f"Mean lead time gain against {stages}'s speed-up"
                      f" (arrivals x{sim.scenario.arrivals:g})",
                      xaxis_title=f"{stages} speed-up (x)",
                      yaxis_title="end-to-end gain (x; below 1: slower)")
    return html_fragment(fig)


def queue_over_time(sim: Simulation) -> str:
    """Changes waiting for a reviewer (or WIP) at the end of each simulated week: "" without."""
    if not sim.queue:
        return ""
    x = [float(q.day) for q in sim.queue]
    fig = go.Figure()
    _band(fig, x, [q.scenario_low for q in sim.queue], [q.scenario_high for q in sim.queue],
          "scenario, 85% of runs")
    fig.add_trace(go.Scatter(x=x, y=[q.scenario for q in sim.queue], mode="lines",
                             name="scenario (mean)", line={"color": "#f58518"}))
    fig.add_trace(go.Scatter(x=x, y=[q.baseline for q in sim.queue], mode="lines",
                             name="as measured (mean)", line={"color": "#4c78a8"}))
    fig.update_layout(title="Changes waiting in queues, simulated",
                      xaxis_title="days into the simulated run", yaxis_title="changes waiting",
                      yaxis_rangemode="tozero")
    return html_fragment(fig)
