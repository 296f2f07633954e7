"""Assemble the report from the flow figures and the DORA, review and AI sections over one scope.

`leadlens ai report` builds the AI section on its own (:func:`build_ai`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import ibis

from leadlens import __version__
from leadlens.analysis.flow_summary import flow_summary
from leadlens.analysis.headline import flow_headline
from leadlens.analysis.impact import Cohorts
from leadlens.analysis.items_summary import item_figures
from leadlens.attribution import Rules
from leadlens.config import DEFAULT_K, DEFAULT_REWORK_DAYS, Settings
from leadlens.metrics import flow as fm
from leadlens.metrics import pulls
from leadlens.report.model import AiSection, Report
from leadlens.report.sections import ai_section, forge_sections

__all__ = ["build_ai", "build_report"]


def build_report(backend: ibis.BaseBackend, filters: fm.Filters, *, k: float = DEFAULT_K,
                 rework_days: float = DEFAULT_REWORK_DAYS, as_of: datetime | None = None,
                 settings: Settings | None = None, ai: Cohorts | None = None) -> Report:
    """Every figure of the report over ``filters``' scope (DESIGN.md, Aggregates); with ``ai``
    (the cohorts to compare), the AI section too, by the settings' attribution rules."""
    as_of = as_of or datetime.now(UTC)
    settings = settings or Settings()
    # One flow for every section: they share its scope and its materialised tables.
    fl = fm.flow(backend, filters)
    try:
        summary = flow_summary(backend, fl, filters, k=k, rework_days=rework_days, as_of=as_of)
        figures = summary.figures
        dora, review, notes = forge_sections(backend, fl, filters, [r.repo for r in figures.repos],
                                             settings, as_of)
        section = None if ai is None else ai_section(
            backend, fl, filters, Rules.of(settings.ai), ai, rework_days=rework_days)
        return Report(leadlens_version=__version__, generated_at=datetime.now(UTC),
                      scope=summary.scope, headline=flow_headline(figures, summary.scope),
                      messages=summary.messages + notes, **dict(figures),
                      ai=section, dora=dora, review=review,
                      abandoned=pulls.abandoned(backend, filters),
                      items=item_figures(backend, fl, filters, k=k))
    finally:
        fl.release()


def build_ai(backend: ibis.BaseBackend, filters: fm.Filters, rules: Rules,
             cohorts: Cohorts | None = None, *, rework_days: float = DEFAULT_REWORK_DAYS
             ) -> AiSection:
    """`leadlens ai report`: the AI section over ``filters``' scope."""
    fl = fm.flow(backend, filters)
    try:
        return ai_section(backend, fl, filters, rules, cohorts or Cohorts(),
                          rework_days=rework_days)
    finally:
        fl.release()
