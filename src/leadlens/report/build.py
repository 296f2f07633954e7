"""Assemble the report from the flow figures and the DORA, review and AI sections over one scope.

`leadlens ai report` builds the AI section on its own (:func:`build_ai`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import ibis

from leadlens import __version__
from leadlens.analysis.flow_summary import flow_summary
from leadlens.analysis.headline import flow_headline, trend_headline
from leadlens.analysis.impact import Cohorts
from leadlens.attribution import Rules
from leadlens.config import (
    DEFAULT_K,
    DEFAULT_RESAMPLES,
    DEFAULT_REWORK_DAYS,
    DEFAULT_SEED,
    Settings,
)
from leadlens.metrics import flow as fm
from leadlens.metrics import pulls
from leadlens.report.model import AiSection, Report
from leadlens.report.sections import ai_section, change_trend, forge_sections

__all__ = ["build_ai", "build_report"]


def build_report(backend: ibis.BaseBackend, filters: fm.Filters, *, k: float = DEFAULT_K,
                 rework_days: float = DEFAULT_REWORK_DAYS, as_of: datetime | None = None,
                 settings: Settings | None = None, ai: Cohorts | None = None,
                 resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> Report:
    """Every figure of the report over ``filters``' scope (DESIGN.md, Aggregates), led by the
    trend over the twelve months before ``as_of`` (its own windows: ``filters``' dates do not
    apply to it; ``resamples`` and ``seed`` are its bootstrap's); with ``ai`` (the cohorts to
    compare), the AI section too, by the settings' attribution rules."""
    as_of = as_of or datetime.now(UTC)
    settings = settings or Settings()
    # One flow for every section: they share its scope and its materialised tables.
    fl = fm.flow(backend, filters)
    try:
        summary = flow_summary(backend, fl, filters, k=k, rework_days=rework_days, as_of=as_of)
        figures = summary.figures
        dora, review, notes = forge_sections(backend, fl, filters, [r.repo for r in figures.repos],
                                             settings, as_of)
        trend, end = change_trend(backend, fl, filters, as_of, resamples=resamples, seed=seed)
        section = None if ai is None else ai_section(
            backend, fl, filters, Rules.of(settings.ai), ai, rework_days=rework_days)
        return Report(leadlens_version=__version__, generated_at=datetime.now(UTC),
                      scope=summary.scope, trend=trend,
                      headline=trend_headline(trend, end) + flow_headline(figures, summary.scope),
                      messages=summary.messages + notes, **dict(figures),
                      ai=section, dora=dora, review=review,
                      abandoned=pulls.abandoned(backend, filters))
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
