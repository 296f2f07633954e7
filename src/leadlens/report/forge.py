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

__all__ = ["forge_sections"]


def forge_sections(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                   repos: list[str], settings: Settings, as_of: datetime
                   ) -> tuple[Dora, ReviewSignals, list[str]]:
    """DORA and review figures over ``fl``'s changes and ``repos``, and what the reader must know."""
    d = dora(backend, fl.scope, repos, since=filters.since, until=filters.until,
             settings=settings.dora)
    rv = review(backend, fl.scope, repos, since=filters.since, until=filters.until, as_of=as_of,
                bots=filters.bots, settings=settings.review)
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
