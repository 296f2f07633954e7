"""The HTML report: one self-contained file (plotly.js inlined, no CDN) that opens offline."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

import jinja2
import plotly.offline
from markupsafe import Markup

from leadlens import __version__
from leadlens.report import charts, charts_coordination, charts_whatif
from leadlens.report.audit import signed_points
from leadlens.report.format import count, duration, metric_label, pct, signed_pct, value
from leadlens.report.model import AiSection, Report

__all__ = ["environment", "render", "render_ai_html", "render_html"]

_TEMPLATES = ("base.html.j2", "report.html.j2", "ai_section.html.j2", "ai_report.html.j2",
              "audit.html.j2", "audit_section.html.j2", "coordination_section.html.j2",
              "whatif_section.html.j2")


def environment() -> jinja2.Environment:
    """The templates (base.html.j2 and the pages extending it) with the report's filters."""
    return _environment()


def _environment() -> jinja2.Environment:
    folder = resources.files("leadlens.report").joinpath("templates")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             loader=jinja2.DictLoader({
                                 name: folder.joinpath(name).read_text(encoding="utf-8")
                                 for name in _TEMPLATES}))
    env.filters["duration"] = duration
    env.filters["pct"] = pct
    env.filters["count"] = count
    env.filters["spct"] = signed_pct
    env.filters["metric"] = metric_label
    env.filters["value"] = value
    env.filters["signed"] = lambda metric, x: value(metric, x, signed=True)
    return env


def render_ai_html(section: AiSection, generated_at: datetime) -> str:
    """`leadlens ai report --format html`: the AI section as a page of its own."""
    chart = charts.predicted_vs_measured(section)
    return _environment().get_template("ai_report.html.j2").render(
        a=section, chart=_markup(chart), version=__version__, generated_at=generated_at,
        plotly_js=_markup(plotly.offline.get_plotlyjs()) if chart else "")


def render_html(report: Report) -> str:
    """Every text from a repository goes through Jinja's autoescape: a title ``<script>`` is text."""
    template = _environment().get_template("report.html.j2")
    figures = {
        "histogram": charts.lead_time_histogram(report),
        "shares": charts.stage_shares_over_time(report),
        "amdahl": charts.amdahl_curves(report),
        "active": charts.active_waiting(report),
    } if report.changes else {}
    ai_chart = charts.predicted_vs_measured(report.ai) if report.ai is not None else ""
    # The trend has windows of its own: it may have deliveries when the scope has none.
    trend_chart = charts.trend(report.trend)
    c = report.coordination
    coordination = {} if c is None else {
        "pickup": charts_coordination.pickup_by_distance(c.time_zones),
        "latency": charts_coordination.decision_latency(c.questions)}
    w = report.whatif
    whatif = {} if w is None else {
        "amdahl": charts_whatif.amdahl_curves(w),
        "curve": "" if w.simulation is None else charts_whatif.simulated_curve(w.simulation),
        "queue": "" if w.simulation is None else charts_whatif.queue_over_time(w.simulation)}
    return template.render(
        r=report, version=report.leadlens_version,
        figures={k: _markup(v) for k, v in figures.items()}, ai_chart=_markup(ai_chart),
        trend_chart=_markup(trend_chart), a=report.audit, points=signed_points,
        coordination_charts={k: _markup(v) for k, v in coordination.items()},
        whatif_charts={k: _markup(v) for k, v in whatif.items()},
        plotly_js=_markup(plotly.offline.get_plotlyjs())
        if figures or ai_chart or trend_chart or any(coordination.values())
        or any(whatif.values()) else "")


def render(document: Report | AiSection) -> str:
    """The HTML page of a report, or of the AI section on its own (`leadlens ai report`)."""
    if isinstance(document, Report):
        return render_html(document)
    return render_ai_html(document, datetime.now(UTC))


def _markup(html: str) -> Markup:
    # Figures are built from numbers and stage names only (charts.py); plotly encodes < and >.
    return Markup(html)
