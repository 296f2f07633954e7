"""The work item figures of the report: spec → production, its stages and their Amdahl ceilings,
how well changes are linked to items, and the statuses nobody mapped."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict

from leadlens.analysis.figures import Distribution, Stage
from leadlens.analysis.flow_summary import stage_figures
from leadlens.engines import one, rows
from leadlens.metrics import flow as fm
from leadlens.metrics.items import ItemFlow, item_flow, stage_key

__all__ = ["ItemFigures", "Linking", "UnmappedStatus", "delivered_items", "has_items",
           "item_figures"]


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Linking(_Figure):
    """How many of the report's changes serve a work item (linking coverage), and by what."""

    changes: int  # changes in the report's scope
    linked: int  # of them, linked to at least one item
    coverage: float | None  # linked / changes; None without changes
    links_by_how: dict[str, int]  # every link of the store, by how it was found


class UnmappedStatus(_Figure):
    project: str | None
    status: str
    items: int  # items now in it or that moved into it
    hint: str  # the setting that would map it


class ItemFigures(_Figure):
    """`items` in the report (docs/report-json.md)."""

    basis: str  # "spec → production": item_created → released (or merged: see ends)
    ends: str  # released | merged (a linked repository has no release signal) | mixed
    items: int  # work items (bot items left out unless include_bots)
    bot_items: int
    delivered: int  # with spec → production in the scope's window (on their end milestone)
    in_flight: int  # linked to changes, not all of them released yet
    without_changes: int  # no change links to them
    spec_to_production: Distribution
    stages: list[Stage]  # shares of Σ spec → production; `changes_with_stage` counts items
    out_of_order: int  # milestones of delivered items clamped (a commit before its ticket, skew)
    linking: Linking
    unmapped_statuses: list[UnmappedStatus]


def delivered_items(fl: ItemFlow, filters: fm.Filters) -> ir.Table:
    """Items with spec → production: item_id, lead_time_s, delivered_at (their end milestone),
    bots left out unless ``filters.include_bots``."""
    sp = fl.spans.filter(fl.spans.done)
    it = fl.items if filters.include_bots else fl.items.filter(~fl.items.is_bot)
    sp = sp.join(it.select("end", item_id=it.id), "item_id")
    return sp.select("item_id", "lead_time_s", "out_of_order", "end", delivered_at=sp.last_at)


def _window(t: ir.Table, filters: fm.Filters) -> ir.Table:
    if filters.since is not None:
        t = t.filter(t.delivered_at >= filters.since)
    if filters.until is not None:
        t = t.filter(t.delivered_at < filters.until)
    return t


def has_items(backend: ibis.BaseBackend) -> bool:
    """Whether the store holds any work item."""
    return bool(backend.to_pyarrow(backend.table("work_items").count()).as_py())


def item_figures(backend: ibis.BaseBackend, fl_changes: fm.Flow, filters: fm.Filters, *,
                 k: float, fl: ItemFlow | None = None) -> ItemFigures | None:
    """The item figures (over ``fl``, built here when not given), or None when the store holds
    no work item."""
    if not has_items(backend):
        return None
    fl = fl or item_flow(backend, filters, fl_changes.cache)
    # Every item count in one pass: items, bots', and (bots' left out unless asked for) those
    # with no linked change and those whose linked changes are not all released yet.
    sp = fl.spans.select("item_id", "done")
    it = fl.items.left_join(sp, fl.items.id == sp.item_id)
    kept = it.is_bot.isin([False, filters.include_bots])
    counts = one(backend, it.aggregate(
        items=it.count(where=~it.is_bot), bots=it.count(where=it.is_bot),
        without=it.count(where=kept & (it.changes == 0)),
        in_flight=it.count(where=kept & (it.changes > 0) & ~it.done.fill_null(False))))
    done = _window(delivered_items(fl, filters), filters)
    ends = {r["end"] for r in rows(backend, done.select("end").distinct())}
    dist = one(backend, done.aggregate(total=done.lead_time_s.sum(),
                                       ooo=done.out_of_order.sum(),
                                       **fm.distribution(done.lead_time_s)))
    segs = fl.segments.semi_join(done.select("item_id"), "item_id")
    stage_rows = rows(backend, segs.group_by("stage").aggregate(
        total_s=segs.seconds.sum(), median_s=segs.seconds.quantile(0.5),
        active_s=segs.active_s.sum(), waiting_s=segs.waiting_s.sum(),
        changes_with_stage=segs.item_id.nunique()))
    stages = stage_figures(stage_rows, float(dist.get("total") or 0.0), k, stage_key)
    return ItemFigures(
        basis="spec → production",
        ends=ends.pop() if len(ends) == 1 else ("mixed" if ends else "released"),
        items=int(counts.get("items") or 0), bot_items=int(counts.get("bots") or 0),
        delivered=int(dist.get("n") or 0), in_flight=int(counts.get("in_flight") or 0),
        without_changes=int(counts.get("without") or 0),
        spec_to_production=Distribution(
            n=int(dist.get("n") or 0), median_s=dist.get("median_s"), p85_s=dist.get("p85_s"),
            p95_s=dist.get("p95_s"), mean_s=dist.get("mean_s")),
        stages=stages, out_of_order=int(dist.get("ooo") or 0),
        linking=_linking(backend, fl, fl_changes), unmapped_statuses=_unmapped(backend))


def _linking(backend: ibis.BaseBackend, fl: ItemFlow, fl_changes: fm.Flow) -> Linking:
    sc = fl_changes.scope
    linked = fl.links.select("repo", id=fl.links.change_id).distinct()
    got = one(backend, sc.left_join(linked.mutate(hit=True), ["repo", "id"]).aggregate(
        n=ibis._.count(), linked=ibis._.hit.count()))
    n, hit = int(got.get("n") or 0), int(got.get("linked") or 0)
    by_how = {r["how"]: int(r["n"]) for r in rows(backend, fl.links.group_by("how").aggregate(
        n=fl.links.count()).order_by("how"))}
    return Linking(changes=n, linked=hit, coverage=(hit / n) if n else None,
                   links_by_how=by_how)


def _unmapped(backend: ibis.BaseBackend) -> list[UnmappedStatus]:
    wi = backend.table("work_items")
    tr = backend.table("work_item_transitions")
    now = wi.filter(wi.status_category.isnull() & wi.status.notnull()).select(
        "project", status=wi.status, item_id=wi.id.cast("string"))
    moved = tr.filter(tr.to_category.isnull() & tr.to_status.notnull())
    moved = moved.join(wi.select("project", item_id=wi.id), "item_id").select(
        "project", status=moved.to_status, item_id=moved.item_id.cast("string"))
    both = now.union(moved)
    out = []
    for r in rows(backend, both.group_by(["project", "status"]).aggregate(
            n=both.item_id.nunique()).order_by([ibis.desc("n"), "project", "status"])):
        project = r["project"] or "*"
        out.append(UnmappedStatus(
            project=r["project"], status=r["status"], items=int(r["n"]),
            hint=f'map it in leadlens.toml: in_progress_statuses = {{ "{project}" ='
                 f' ["{r["status"]}"] }} (or ready_statuses / done_statuses)'))
    return out
