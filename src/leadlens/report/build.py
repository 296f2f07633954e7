"""Assemble the report from the flow figures and the DORA, review and AI sections over one scope.

`leadlens ai report` builds the AI section on its own (:func:`build_ai`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import ibis

from leadlens import __version__
from leadlens.analysis.flow_summary import flow_summary
from leadlens.analysis.headline import (
    flow_headline,
    items_headline,
    trend_headline,
    waiting_headline,
)
from leadlens.analysis.impact import Cohorts
from leadlens.analysis.items_summary import has_items, item_figures
from leadlens.analysis.whatif_section import whatif_section
from leadlens.attribution import Rules
from leadlens.config import (
    DEFAULT_COORDINATION_RESAMPLES,
    DEFAULT_K,
    DEFAULT_RESAMPLES,
    DEFAULT_REWORK_DAYS,
    DEFAULT_SEED,
    Settings,
)
from leadlens.conventions import BotRule
from leadlens.engines import timed
from leadlens.metrics import flow as fm
from leadlens.metrics import pulls
from leadlens.metrics.items import item_flow
from leadlens.report.coordination import coordination_sections
from leadlens.report.model import AiSection, Report
from leadlens.report.sections import ai_section, change_trend, forge_sections, item_trend

__all__ = ["LOW_COVERAGE", "build_ai", "build_report"]

# Below this share of changes linked to work items, the report says the item figures describe
# only part of the work.
LOW_COVERAGE = 0.5


def build_report(backend: ibis.BaseBackend, filters: fm.Filters, *, k: float = DEFAULT_K,
                 rework_days: float = DEFAULT_REWORK_DAYS, as_of: datetime | None = None,
                 settings: Settings | None = None, ai: Cohorts | None = None,
                 resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                 coordination: bool = True, per_person: bool = False,
                 simulate: bool = True) -> Report:
    """Every figure of the report over ``filters``' scope (DESIGN.md, Aggregates), led by the
    trend over the twelve months before ``as_of`` (its own windows: ``filters``' dates do not
    apply to it; ``resamples`` and ``seed`` are its bootstrap's); with ``ai`` (the cohorts to
    compare), the AI section too, by the settings' attribution rules; with ``coordination``, the
    specification-quality and coordination sections (people named only with ``per_person``);
    the what-if section always, its simulation with ``simulate`` (calibrated on the days before
    ``as_of`` when given, else before the day after the last merge)."""
    sim_as_of = None if as_of is None else as_of.astimezone(UTC).date()
    as_of = as_of or datetime.now(UTC)
    settings = settings or Settings()
    # One flow for every section: they share its scope and its materialised tables.
    with timed("flow"):
        fl = fm.flow(backend, filters)
    try:
        with timed("summary"):
            summary = flow_summary(backend, fl, filters, k=k, rework_days=rework_days,
                                   as_of=as_of)
        figures = summary.figures
        with timed("dora_review"):
            dora, review, notes = forge_sections(
                backend, fl, filters, [r.repo for r in figures.repos], settings, as_of)
        # With work items, spec → production answers (DESIGN.md, `trend`); else the change
        # lead time, and the headline says how to measure from the specification.
        with timed("items"):
            ifl = item_flow(backend, filters, fl.cache) if has_items(backend) else None
            items = None if ifl is None else item_figures(backend, fl, filters, k=k, fl=ifl)
        with timed("trend"):
            trend = None if ifl is None else item_trend(backend, ifl, filters, as_of,
                                                        resamples=resamples, seed=seed)
            end = "released"
            if trend is None:
                trend, end = change_trend(backend, fl, filters, as_of, resamples=resamples,
                                          seed=seed)
                if items is not None:
                    notes.append("work items exist, but none is linked to a released change"
                                 " yet (items.linking): the trend is of the change lead time")
        cover = None if items is None else items.linking.coverage
        if cover is not None and cover < LOW_COVERAGE:
            notes.append(f"only {cover:.0%} of the changes in scope are linked to a work item:"
                         " spec → production describes that part of the work (items.linking;"
                         " docs/items.md says how changes are linked)")
        if items is not None and items.out_of_order:
            notes.append(f"{items.out_of_order} milestone(s) of delivered work items came before"
                         " the one preceding them (a commit made before its ticket, clock skew"
                         " between the item tracker and git) and were clamped to it:"
                         " items.out_of_order")
        headline = trend_headline(trend, end)
        if items is not None and items.delivered:
            headline += items_headline(items)
        # The AI section first: the coordination signals reuse its per-change AI attribution.
        with timed("ai"):
            section = None if ai is None else ai_section(
                backend, fl, filters, Rules.of(settings.ai), ai, rework_days=rework_days)
        spec = coord = None
        waiting: list[str] = []
        if coordination:
            with timed("coordination"):
                coord, spec = coordination_sections(
                    backend, fl, filters, settings, as_of, figures=figures, items=items,
                    item_flow=ifl, per_person=per_person,
                    resamples=min(resamples, DEFAULT_COORDINATION_RESAMPLES), seed=seed)
            waiting = waiting_headline(coord.waiting_causes)
        with timed("whatif"):
            whatif = whatif_section(
                backend, fl, BotRule.of(settings.bots), change_stages=figures.stages,
                item_stages=items.stages if items is not None and items.delivered else None,
                simulate=simulate, seed=seed, as_of=sim_as_of)
        with timed("abandoned"):
            abandoned = pulls.abandoned(backend, filters)
        return Report(leadlens_version=__version__, generated_at=datetime.now(UTC),
                      scope=summary.scope, trend=trend,
                      headline=headline + flow_headline(figures, summary.scope) + waiting,
                      messages=summary.messages + notes, **dict(figures),
                      ai=section, dora=dora, review=review,
                      abandoned=abandoned, items=items,
                      spec_quality=spec, coordination=coord, whatif=whatif)
    finally:
        fl.release()


def build_ai(backend: ibis.BaseBackend, filters: fm.Filters, rules: Rules,
             cohorts: Cohorts | None = None, *, rework_days: float = DEFAULT_REWORK_DAYS,
             settings: Settings | None = None) -> AiSection:
    """`leadlens ai report`: the AI section over ``filters``' scope."""
    fl = fm.flow(backend, filters)
    try:
        return ai_section(backend, fl, filters, rules, cohorts or Cohorts(),
                          rework_days=rework_days, settings=settings)
    finally:
        fl.release()
