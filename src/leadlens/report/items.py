"""One row per work item (`leadlens items`): milestones from spec to production, stages, links."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import ibis
import ibis.expr.types as ir

from leadlens.engines import Materialiser, batches
from leadlens.metrics import flow as fm
from leadlens.metrics.items import ItemFlow, item_flow, stage_key
from leadlens.report.changes import CsvRows, iso
from leadlens.timeline import MILESTONES

__all__ = ["ItemRows", "ItemScope", "item_rows", "write_items_csv"]

_BATCH = 50_000


@dataclass(frozen=True)
class ItemScope:
    """Which items: created in ``[since, until)``, of these projects (Jira keys or OWNER/REPO)."""

    since: datetime | None = None
    until: datetime | None = None
    projects: tuple[str, ...] = ()
    include_bots: bool = True


class ItemRows(NamedTuple):
    stages: list[str]  # the stage names that occur, canonical order
    rows: Iterator[dict[str, Any]]


def _scoped(fl: ItemFlow, scope: ItemScope) -> ir.Table:
    it = fl.items
    if scope.since is not None:
        it = it.filter(it.created_at >= scope.since)
    if scope.until is not None:
        it = it.filter(it.created_at < scope.until)
    if scope.projects:
        it = it.filter(it.project.isin(list(scope.projects)))
    if not scope.include_bots:
        it = it.filter(~it.is_bot)
    return it


def _query(fl: ItemFlow, scope: ItemScope) -> ir.Table:
    it = _scoped(fl, scope).select(
        "source", "project", "type", "title", "status", "status_category", "is_bot", "created_at",
        item_id=ibis._.id)
    ms = fl.milestones
    pivot = ms.group_by("item_id").aggregate(**{
        f"m_{m}": ms.at.max(where=ms.name == m) for m in MILESTONES})
    seg = fl.segments
    stages = seg.group_by("item_id").aggregate(
        stage_names=seg.stage.collect(order_by=seg.start),
        stage_seconds=seg.seconds.collect(order_by=seg.start))
    sp = fl.spans.select("item_id", "lead_time_s", "out_of_order")
    ln = fl.links
    links = ln.group_by("item_id").aggregate(
        link_changes=ln.change_id.collect(order_by=[ln.change_id, ln.how]),
        link_how=ln.how.collect(order_by=[ln.change_id, ln.how]))
    q = (it.left_join(pivot, "item_id").drop("item_id_right")
         .left_join(stages, "item_id").drop("item_id_right")
         .left_join(sp, "item_id").drop("item_id_right")
         .left_join(links, "item_id").drop("item_id_right"))
    return q.order_by(["created_at", "item_id"])


def item_rows(backend: ibis.BaseBackend, filters: fm.Filters, scope: ItemScope) -> ItemRows:
    """The rows documented in docs/cli.md (`leadlens items`), bot items listed and marked."""
    cache = Materialiser(backend)  # the timeline once, for the stage names and the rows
    fl = item_flow(backend, filters, cache)
    names = backend.to_pyarrow(fl.segments.select("stage").distinct()).column("stage").to_pylist()
    return ItemRows(sorted(names, key=stage_key), _rows(backend, fl, scope, cache))


def _rows(backend: ibis.BaseBackend, fl: ItemFlow, scope: ItemScope, cache: Materialiser
          ) -> Iterator[dict[str, Any]]:
    try:
        yield from _read(backend, fl, scope)
    finally:
        cache.release()


def _read(backend: ibis.BaseBackend, fl: ItemFlow, scope: ItemScope) -> Iterator[dict[str, Any]]:
    for batch in batches(backend, _query(fl, scope), _BATCH):
        for r in batch.to_pylist():
            pairs = list(zip(r["link_changes"] or [], r["link_how"] or [], strict=True))
            yield {
                "id": r["item_id"], "source": r["source"], "project": r["project"],
                "type": r["type"], "title": r["title"], "status": r["status"],
                "status_category": r["status_category"], "bot": r["is_bot"],
                "milestones": {m: iso(r[f"m_{m}"]) for m in MILESTONES},
                "stages": dict(sorted(zip(r["stage_names"] or [], r["stage_seconds"] or [],
                                          strict=True), key=lambda kv: stage_key(kv[0]))),
                "spec_to_production_s": r["lead_time_s"],
                "out_of_order": int(r["out_of_order"] or 0),
                "changes": list(dict.fromkeys(c for c, _ in pairs)),
                "links": [{"change": c, "how": how} for c, how in pairs],
            }


def write_items_csv(rows: Iterator[dict[str, Any]], out: io.TextIOBase | Any,
                    stages: list[str]) -> int:
    """Flattened like `leadlens changes`: change ids space-separated, links as `change:how`."""
    fields = ["id", "source", "project", "type", "title", "status", "status_category", "bot",
              *[f"milestone_{m}" for m in MILESTONES], *[f"stage_{s}_s" for s in stages],
              "spec_to_production_s", "out_of_order", "changes", "links"]
    w = CsvRows(out, fields)
    w.write({f: f for f in fields})
    n = 0
    for row in rows:
        flat = {k: row[k] for k in ("id", "source", "project", "type", "title", "status",
                                    "status_category", "bot", "spec_to_production_s",
                                    "out_of_order")}
        flat["changes"] = " ".join(row["changes"])
        flat["links"] = " ".join(f"{link['change']}:{link['how']}" for link in row["links"])
        flat.update({f"milestone_{m}": at for m, at in row["milestones"].items()})
        flat.update({f"stage_{s}_s": row["stages"].get(s) for s in stages})
        w.write(flat)
        n += 1
    return n
