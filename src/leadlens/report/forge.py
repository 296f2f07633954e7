"""The report's forge sections: DORA's five metrics and review signals over the report's scope."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import ibis

from leadlens.config import Settings
from leadlens.metrics import flow as fm
from leadlens.metrics.dora import dora
from leadlens.metrics.review import review
from leadlens.report.model import BacklogDay, Dora, ReviewSignals
from leadlens.store.db import Store

__all__ = ["forge_sections"]


def forge_sections(store: Store, backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                   repos: list[str], settings: Settings, as_of: datetime
                   ) -> tuple[Dora, ReviewSignals, list[str]]:
    """DORA and review figures over ``fl``'s changes and ``repos``, and what the reader must know."""
    scope_sql = str(backend.compile(fl.scope.select("repo", "id")))
    d = dora(store.con, scope_sql, repos, since=filters.since, until=filters.until,
             production_pattern=settings.production_pattern,
             incident_labels=settings.incident_labels,
             incident_window_hours=settings.incident_window_hours)
    rv = review(store.con, scope_sql, repos, since=filters.since, until=filters.until, as_of=as_of,
                bot_pattern=filters.bot_pattern, agent_pattern=filters.agent_pattern,
                rubber_stamp_minutes=settings.rubber_stamp_minutes,
                rubber_stamp_lines=settings.rubber_stamp_lines)
    messages = []
    if d.reason:
        messages.append(f"DORA figures are null: {d.reason}")
    elif d.basis in ("releases", "mixed"):
        without = sorted(r for r, b in d.bases.items() if b == "releases")
        messages.append(f"{', '.join(without)}: no production deployments, so DORA counts releases"
                        " as deployments (dora.basis)")
    fields = asdict(rv)
    fields.pop("changes")
    fields["backlog"] = [BacklogDay(day=day.isoformat(), awaiting=n) for day, n in rv.backlog]
    return d, ReviewSignals(**fields), messages
