"""Work item timelines as Ibis expressions: item milestones, stages from spec to production, links.

An item's milestones (DESIGN.md, Work items): ``item_created``; ``item_ready`` (its first move
into a ready status); ``work_started`` (its first move into an in-progress status, or the first
commit of a linked change, whichever is earlier); then its change's milestones when one change
serves it, or — several changes — the last one's ``merged``, the span from work started to it
being ``delivery``; ``released`` when the last linked change was released (every linked change
released), or ``merged`` where a linked repository has no release signal at all. The same
set-wise timeline as changes (``leadlens.timeline``) clamps milestones that go back (a commit made
before its ticket, a Jira clock ahead of git's) and counts them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from leadlens.metrics.flow import Filters, plausible_milestones
from leadlens.metrics.review import activity as review_activity
from leadlens.timeline import (
    active_split,
    activity_islands,
    change_spans,
    clamped_milestones,
    segments,
    stage_order,
)

__all__ = ["DELIVERY", "ITEM_KEY", "ItemFlow", "item_facts", "item_flow", "stage_key"]

ITEM_KEY = ("item_id",)
# The stage from work started to the last of several changes merged (DESIGN.md, Work items).
DELIVERY = "delivery"
_SPANNED = "coding+pickup+review+merge"
_CHANGE_MILESTONES = ("work_started", "ready_for_review", "first_review", "approved", "merged",
                      "released")
_TS = "timestamp('UTC', 6)"


def stage_key(name: str) -> tuple[int, int]:
    """Canonical order of an item stage name (``delivery`` spans coding to merge)."""
    return stage_order(_SPANNED if name == DELIVERY else name)


@dataclass
class ItemFlow:
    """The expressions of the item timeline, over every item (bots marked, not dropped)."""

    items: ir.Table  # work_items + is_bot, changes (n linked), end
    links: ir.Table  # item_id, repo, change_id, how, detail
    milestones: ir.Table  # item_id, name, at, end
    spans: ir.Table  # per item: first_at, last_at, done, lead_time_s, out_of_order, ...
    segments: ir.Table  # per item and stage: start, end, seconds, active_s, waiting_s


def _pivot(ms: ir.Table) -> ir.Table:
    """One row per change: the time of each of its milestones (null when it has none)."""
    return ms.group_by(["repo", "change_id"]).aggregate(**{
        n: ms.at.max(where=ms.name == n) for n in _CHANGE_MILESTONES})


def _change_ends(backend: ibis.BaseBackend, ms: ir.Table) -> ir.Table:
    released = ms.filter(ms.name == "released").select("repo").distinct().mutate(rel=True)
    repos = backend.table("changes").select("repo").distinct()
    return repos.left_join(released, "repo").select(
        repos.repo, has_release=released.rel.fill_null(False))


def item_flow(backend: ibis.BaseBackend, f: Filters,
              cache: Callable[[ir.Table], ir.Table] | None = None) -> ItemFlow:
    """Item milestones and segments for every work item (``f``: bots, activity window);
    ``cache`` materialises what several figures read (a report's ``Flow.cache``)."""
    keep = cache or (lambda t: t)
    wi = backend.table("work_items")
    links = backend.table("item_links")
    trans = backend.table("work_item_transitions")
    ms = plausible_milestones(backend)
    per_change = _pivot(ms).join(_change_ends(backend, ms), "repo")
    linked = links.select("item_id", "repo", "change_id").distinct()
    lc = linked.join(per_change, ["repo", "change_id"])
    agg = lc.group_by("item_id").aggregate(
        n=lc.change_id.count(),
        first_ws=lc.work_started.min(),
        one_rfr=lc.ready_for_review.max(), one_fr=lc.first_review.max(),
        one_ap=lc.approved.max(),
        last_merged=lc.merged.max(), merged_n=lc.merged.count(),
        last_released=lc.released.max(), released_n=lc.released.count(),
        all_release=lc.has_release.all(),
    )
    started = trans.group_by("item_id").aggregate(
        in_progress=trans.at.min(where=trans.to_category == "in_progress"))
    # Ready is a move before work started: a move back to a To Do status later is not.
    tr = trans.left_join(started, "item_id")
    first = tr.group_by("item_id").aggregate(
        ready=tr.at.min(where=(tr.to_category == "ready")
                        & (tr.in_progress.isnull() | (tr.at <= tr.in_progress))),
        in_progress=tr.in_progress.min())
    items = wi.left_join(agg, wi.id == agg.item_id).left_join(first, wi.id == first.item_id)
    one = items.n == 1
    merged = ibis.ifelse(items.merged_n == items.n, items.last_merged, ibis.null(_TS))
    released = ibis.ifelse(items.released_n == items.n, items.last_released, ibis.null(_TS))
    ends = ibis.ifelse(items.all_release.fill_null(True), "released", "merged")
    items = items.select(
        item_id=wi.id, created=wi.created_at.cast(_TS), ready=items.ready.cast(_TS),
        started=ibis.least(items.in_progress, items.first_ws).cast(_TS),
        rfr=ibis.ifelse(one, items.one_rfr, ibis.null(_TS)).cast(_TS),
        fr=ibis.ifelse(one, items.one_fr, ibis.null(_TS)).cast(_TS),
        ap=ibis.ifelse(one, items.one_ap, ibis.null(_TS)).cast(_TS),
        merged=merged.cast(_TS), released=released.cast(_TS),
        end=ends, changes=items.n.fill_null(0), is_bot=wi.bot)
    names = (("item_created", items.created), ("item_ready", items.ready),
             ("work_started", items.started), ("ready_for_review", items.rfr),
             ("first_review", items.fr), ("approved", items.ap), ("merged", items.merged),
             ("released", items.released))
    rows = [items.select("item_id", "end", name=ibis.literal(n), at=col) for n, col in names]
    milestones = rows[0].union(*rows[1:], distinct=False)
    milestones = milestones.filter(milestones.at.notnull())
    clamped = keep(clamped_milestones(milestones, ITEM_KEY))
    spans = keep(change_spans(clamped, ITEM_KEY))
    segs = segments(clamped, ITEM_KEY)
    several = items.select("item_id", several=items.changes > 1)
    segs = segs.join(several, "item_id")
    segs = segs.mutate(stage=ibis.ifelse(segs.several & (segs.stage == _SPANNED), DELIVERY,
                                         segs.stage)).drop("several")
    segs = keep(active_split(segs, activity_islands(_activity(backend, linked, f),
                                                    f.activity_window, ITEM_KEY), ITEM_KEY))
    listed = wi.join(items.select("item_id", "end", "changes", "is_bot"), wi.id == items.item_id)
    return ItemFlow(keep(listed.drop("item_id")), links, milestones, spans, segs)


def _activity(backend: ibis.BaseBackend, linked: ir.Table, f: Filters) -> ir.Table:
    """``item_id``, ``at``: someone acted on the item (a field changed, a comment, a worklog, an
    issue event) or on a linked change (a commit, a review, a comment)."""
    wi = backend.table("work_items")
    jira = wi.filter(wi.source == "jira").select(item_id=wi.id, issue_id=wi.native_id)
    at = ibis.dtype(_TS)
    cl = backend.table("jira_changelog")
    jc = backend.table("jira_comments")
    wl = backend.table("jira_worklogs")
    ev = backend.table("issue_events")
    gh = wi.filter(wi.source == "github").select(item_id=wi.id, native=wi.native_id)
    events = (
        cl.join(jira, "issue_id").select("item_id", at=cl["at"].cast(at))
        .union(jc.join(jira, "issue_id").select("item_id", at=jc.created_at.cast(at)),
               distinct=False)
        .union(wl.join(jira, "issue_id").select("item_id", at=wl.started_at.cast(at)),
               distinct=False)
    )
    ge = ev.mutate(native=ev.repo + "#" + ev.number.cast("string"))
    events = events.union(ge.join(gh, "native").select("item_id", at=ge["at"].cast(at)),
                          distinct=False)
    cc = backend.table("change_commits")
    commits = linked.join(cc, ["repo", "change_id"])
    events = events.union(commits.select("item_id", at=commits.author_time.cast(at)),
                          distinct=False)
    events = events.union(commits.select("item_id", at=commits.committer_time.cast(at)),
                          distinct=False)
    ch = backend.table("changes")
    prs = linked.join(ch, [linked.repo == ch.repo, linked.change_id == ch.id])
    prs = prs.select(cid=prs.item_id, repo=prs.repo, number=prs.number)
    reviews = review_activity(backend, prs, f.bots)
    events = events.union(reviews.select(item_id=reviews.cid, at=reviews["at"].cast(at)),
                          distinct=False)
    return events.filter(events.at.notnull())


def item_facts(fl: ItemFlow, include_bots: bool) -> ir.Table:
    """Per delivered item: ``created_at``, ``lead_time_s`` (spec → production), ``spec_s`` and
    ``queue_s`` (null where the item has no such stage: a missing milestone joins them)."""
    it = fl.items if include_bots else fl.items.filter(~fl.items.is_bot)
    done = fl.spans.filter(fl.spans.done).select("item_id", "lead_time_s")
    seg = fl.segments
    st = seg.group_by("item_id").aggregate(
        spec_s=seg.seconds.max(where=seg.stage == "spec"),
        queue_s=seg.seconds.max(where=seg.stage == "queue"))
    j = it.select(item_id=it.id, created_at=it.created_at).join(done, "item_id")
    j = j.left_join(st, "item_id")
    return j.select("item_id", "created_at", "lead_time_s", spec_s=j.spec_s, queue_s=j.queue_s)
