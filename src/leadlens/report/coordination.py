"""The coordination and specification-quality sections: each signal's builder over the report's
flow, their waiting causes beside the stages', and the largest named
(docs/metrics-coordination.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import ibis
import ibis.expr.types as ir

from leadlens.analysis.collisions import collision_figures
from leadlens.analysis.escapes import escape_figures
from leadlens.analysis.figures import FlowFigures
from leadlens.analysis.handoffs import handoff_change_flags, handoff_figures
from leadlens.analysis.items_summary import ItemFigures
from leadlens.analysis.questions import question_change_flags, questions_figures
from leadlens.analysis.spec_quality import SpecQuality, spec_quality_figures
from leadlens.analysis.time_zones import time_zone_figures
from leadlens.analysis.waiting import WaitingCause, largest, stage_causes
from leadlens.config import Settings
from leadlens.engines import timed
from leadlens.metrics import flow as fm
from leadlens.metrics.collisions import collision_change_flags
from leadlens.metrics.escapes import escape_change_flags
from leadlens.metrics.items import ItemFlow
from leadlens.metrics.spec_quality import spec_change_flags
from leadlens.metrics.time_zones import time_zone_change_flags
from leadlens.report.model import Coordination

__all__ = ["SIGNALS", "coordination_sections", "signal_flags"]

Flags = Callable[[ibis.BaseBackend, fm.Flow, Settings], ir.Table]

# The signals a change carries, usable as a cohort and a stratum in `leadlens ai report --by`:
# each with the function that flags the changes of a flow (repo, id, and a column of its name).
SIGNALS: dict[str, Flags] = {
    "underspecified": spec_change_flags,
    "clarified": question_change_flags,
    "cross_tz": time_zone_change_flags,
    "blocked": handoff_change_flags,
    "context_switching": handoff_change_flags,
    "collided": collision_change_flags,
    "escaped": escape_change_flags,
}


def signal_flags(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings, signal: str
                 ) -> ir.Table:
    """``repo``, ``id`` and the ``signal`` column (True, False, NULL unknown) for ``fl``'s
    changes."""
    flags = SIGNALS[signal](backend, fl, settings)
    return flags.select("repo", "id", signal)


def coordination_sections(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                          settings: Settings, as_of: datetime, *, figures: FlowFigures,
                          items: ItemFigures | None, item_flow: ItemFlow | None,
                          per_person: bool, resamples: int, seed: int
                          ) -> tuple[Coordination, SpecQuality]:
    """Every coordination signal over the report's flow (its scope, its materialised tables),
    and the waiting causes of all of them and of the stages, most hours first."""
    args = (backend, fl, filters, settings, as_of)
    with timed("spec_quality"):
        spec = spec_quality_figures(*args, per_person=per_person, resamples=resamples, seed=seed,
                                    items=item_flow)
    with timed("questions"):
        questions = questions_figures(*args, per_person=per_person, resamples=resamples,
                                      seed=seed, items=item_flow)
    with timed("time_zones"):
        zones = time_zone_figures(*args, per_person=per_person, resamples=resamples, seed=seed)
    with timed("handoffs"):
        handoffs = handoff_figures(*args, per_person=per_person, resamples=resamples, seed=seed,
                                   items=item_flow)
    with timed("collisions"):
        collisions = collision_figures(*args, per_person=per_person, resamples=resamples,
                                       seed=seed)
    with timed("escapes"):
        escapes = escape_figures(*args, per_person=per_person, resamples=resamples, seed=seed)
    causes: list[WaitingCause] = [
        *stage_causes(figures.stages, figures.lead_time.n, unit="change", signal="stages"),
        *([] if items is None else stage_causes(items.stages, items.spec_to_production.n,
                                                unit="item", signal="items.stages")),
        *spec.waiting, *questions.waiting, *zones.waiting, *handoffs.waiting,
        *collisions.waiting, *escapes.waiting]
    causes.sort(key=lambda c: (-c.hours_per_unit, c.cause, c.unit))
    return Coordination(per_person=per_person, questions=questions, time_zones=zones,
                        handoffs=handoffs, collisions=collisions, defect_escapes=escapes,
                        waiting_causes=causes, largest_waiting_cause=largest(causes)), spec
