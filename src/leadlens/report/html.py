"""The HTML report: one self-contained file (plotly.js inlined, no CDN) that opens offline."""

from __future__ import annotations

from importlib import resources

import jinja2
import plotly.offline
from markupsafe import Markup

from leadlens.report import charts
from leadlens.report.model import Report
from leadlens.report.terminal import duration

__all__ = ["render_html"]


def _environment() -> jinja2.Environment:
    text = resources.files("leadlens.report").joinpath("templates/report.html.j2").read_text(
        encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             loader=jinja2.DictLoader({"report.html.j2": text}))
    env.filters["duration"] = duration
    env.filters["pct"] = lambda x: "-" if x is None else f"{x:.1%}"
    return env


def render_html(report: Report) -> str:
    """Every text from a repository goes through Jinja's autoescape: a title ``<script>`` is text."""
    template = _environment().get_template("report.html.j2")
    figures = {
        "histogram": charts.lead_time_histogram(report),
        "shares": charts.stage_shares_over_time(report),
        "amdahl": charts.amdahl_curves(report),
        "active": charts.active_waiting(report),
    } if report.changes else {}
    return template.render(
        r=report, figures={k: _markup(v) for k, v in figures.items()},
        plotly_js=_markup(plotly.offline.get_plotlyjs()) if figures else "")


def _markup(html: str) -> Markup:
    # Figures are built from numbers and stage names only (charts.py); plotly encodes < and >.
    return Markup(html)
