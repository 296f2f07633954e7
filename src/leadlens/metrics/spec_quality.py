"""Specification quality of work items as Ibis expressions: acceptance criteria when work started,
scope churn after it, reopens and bounce-backs (docs/metrics-coordination.md).

Every function reads the store's item tables set-wise; ``work_started`` comes from the item
timeline (``metrics/items.py``), never recomputed here. The description an item had when work
started is rebuilt from Jira's change history: the ``from`` text of the first description edit
after work started, else today's description. GitHub issues keep no body history in the store
(``issues.body`` is today's text), so their acceptance criteria and scope churn are unknown.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from leadlens.config import Settings
from leadlens.metrics.flow import Filters, Flow
from leadlens.metrics.items import ItemFlow, item_flow
from leadlens.metrics.rework import rework_by_change

__all__ = ["acceptance_at_start", "bounce_backs", "item_rework", "reopens",
           "scope_churn", "spec_change_flags", "started_items"]


_TS = "timestamp('UTC', 6)"


def _is(field: ir.StringValue, *names: str) -> ir.BooleanValue:
    return field.lower().isin(list(names))


def started_items(items: ItemFlow, *, include_bots: bool, since: datetime | None = None,
                  until: datetime | None = None) -> ir.Table:
    """``item_id``, ``source``, ``native_id``, ``author``, ``is_bot``, ``started_at``: items whose
    work started (the item timeline's ``work_started``) in ``[since, until)``; bot items left out
    unless ``include_bots``."""
    ms = items.milestones
    ws = ms.filter(ms.name == "work_started").select("item_id", started_at=ms["at"].cast(_TS))
    it = items.items
    if not include_bots:
        it = it.filter(~it.is_bot)
    out = it.select(item_id=it.id, source=it.source, native_id=it.native_id,
                    author=it.author, is_bot=it.is_bot).join(ws, "item_id")
    if since is not None:
        out = out.filter(out.started_at >= since)
    if until is not None:
        out = out.filter(out.started_at < until)
    return out


def _jira_edits(backend: ibis.BaseBackend, started: ir.Table, as_of: datetime) -> ir.Table:
    """The Jira changelog rows of started items after work started (and before ``as_of``):
    ``item_id``, ``at``, ``history_id``, ``item_index``, ``field``, ``from_string``, ``to_string``."""
    cl = backend.table("jira_changelog")
    jira = started.filter(started.source == "jira").select("item_id", "native_id", "started_at")
    j = cl.join(jira, cl.issue_id == jira.native_id)
    j = j.filter((j["at"].cast(_TS) > j.started_at) & (j["at"].cast(_TS) < as_of))
    return j.select("item_id", "history_id", "item_index", "field", "field_id", "from_string",
                    "to_string", "to_value", at=j["at"].cast(_TS))


def _description(field: ir.StringValue, field_id: ir.StringValue) -> ir.BooleanValue:
    return _is(field, "description") | (field_id == "description").fill_null(False)


def acceptance_at_start(backend: ibis.BaseBackend, started: ir.Table,
                        patterns: tuple[str, ...]) -> ir.Table:
    """``item_id``, ``criteria``: whether the item's description when work started matched one of
    ``patterns`` (RE2). The description then is the ``from`` text of the first description edit
    after work started, else today's; a Jira item without a description has none (False). NULL for
    items whose description history the store does not hold (GitHub issues)."""
    cl = backend.table("jira_changelog")
    jira = started.filter(started.source == "jira").select("item_id", "native_id", "started_at")
    edits = cl.join(jira, cl.issue_id == jira.native_id)
    edits = edits.filter(_description(edits.field, edits.field_id)
                         & (edits["at"].cast(_TS) > edits.started_at))
    first = ibis.window(group_by="item_id",
                        order_by=[edits["at"], edits.history_id, edits.item_index])
    edits = edits.mutate(k=ibis.row_number().over(first))
    edits = edits.filter(edits.k == 0).select("item_id", text_then=edits.from_string,
                                              edited=ibis.literal(True))
    issues = backend.table("jira_issues").select("id", "description")
    now = jira.join(issues, jira.native_id == issues.id).select("item_id", "description")
    both = now.left_join(edits, "item_id")
    text = ibis.ifelse(both.edited.fill_null(False), both.text_then, both.description)
    matched: ir.BooleanValue = ibis.literal(False)
    for pattern in patterns:
        matched = matched | text.re_search(pattern).fill_null(False)
    known = both.select(item_id=both.item_id, criteria=matched)
    out = started.left_join(known, "item_id")
    return out.select(started.item_id, criteria=out.criteria)


def scope_churn(backend: ibis.BaseBackend, started: ir.Table, as_of: datetime) -> ir.Table:
    """``item_id``, ``description_edits``, ``story_point_changes``, ``links_added``: the item's
    changes of scope after work started (before ``as_of``). Story points: a field named like
    "Story Points" or "Story point estimate" (any case) or ``story_points``; a link added: a
    ``Link`` row with a target. NULL for items whose edit history the store does not hold
    (GitHub issues)."""
    e = _jira_edits(backend, started, as_of)
    points = e.field.lower().contains("story point") | _is(e.field, "story_points")
    link = _is(e.field, "link") & (e.to_value.notnull() | e.to_string.notnull())
    per = e.group_by("item_id").aggregate(
        d=e.count(where=_description(e.field, e.field_id)), p=e.count(where=points),
        k=e.count(where=link))
    out = started.left_join(per, "item_id")
    jira = out.source == "jira"
    n = ibis.null("int64")
    return out.select(
        started.item_id,
        description_edits=ibis.ifelse(jira, out.d.fill_null(0), n),
        story_point_changes=ibis.ifelse(jira, out.p.fill_null(0), n),
        links_added=ibis.ifelse(jira, out.k.fill_null(0), n))


def _moves(backend: ibis.BaseBackend) -> ir.Table:
    """Every status move with the category and status it left: ``prev_category`` is the category
    of the move before it (NULL for an item's first move: its initial status has none)."""
    tr = backend.table("work_item_transitions")
    w = ibis.window(group_by="item_id", order_by=["seq"])
    return tr.mutate(prev_category=tr.to_category.lag().over(w),
                     left=ibis.coalesce(tr.from_status, tr.to_status.lag().over(w)),
                     at_ts=tr["at"].cast(_TS))


def reopens(backend: ibis.BaseBackend, as_of: datetime) -> ir.Table:
    """``item_id``, ``done_at``, ``reopens`` for every item ever done before ``as_of``: its first
    move into a done status (else, done now without a recorded move, its resolution or creation
    time), and how many times it moved from a done status back to a mapped status that is not done
    (a move to a status nobody mapped is not counted: its category is unknown)."""
    mv = _moves(backend)
    per = mv.group_by("item_id").aggregate(
        first_done=mv.at_ts.min(where=mv.to_category == "done"),
        reopens=mv.count(where=(mv.prev_category == "done") & mv.to_category.notnull()
                         & (mv.to_category != "done") & (mv.at_ts < as_of)))
    wi = backend.table("work_items")
    j = wi.left_join(per, wi.id == per.item_id)
    done_now = ibis.ifelse(j.status_category == "done",
                           ibis.coalesce(j.resolved_at.cast(_TS), j.created_at.cast(_TS)),
                           ibis.null(_TS))
    done_at = ibis.coalesce(j.first_done, done_now)
    out = j.select(item_id=wi.id, done_at=done_at, reopens=j.reopens.fill_null(0))
    return out.filter(out.done_at.notnull() & (out.done_at < as_of))


def bounce_backs(backend: ibis.BaseBackend, started: ir.Table, as_of: datetime,
                 review_status_pattern: str) -> ir.Table:
    """``item_id``, ``bounces`` for started items: moves (before ``as_of``) from a status whose
    name is a review or QA status (``review_status_pattern``) into an in-progress status."""
    mv = _moves(backend)
    hit = mv.filter((mv.to_category == "in_progress") & mv.left.re_search(review_status_pattern)
                    & (mv.at_ts < as_of))
    per = hit.group_by("item_id").aggregate(n=hit.count())
    out = started.left_join(per, "item_id")
    return out.select(started.item_id, bounces=out.n.fill_null(0))


def item_rework(backend: ibis.BaseBackend, scope: ir.Table, links: ir.Table, reverted: ir.Table,
                days: float) -> ir.Table:
    """Per item served by changes of ``scope`` (a flow's scope): ``changes`` (how many),
    ``reverted`` (a later change reverted one of them; ``reverted``: ``repo``, ``reverted_id`` as
    ``flow.reverts`` gives them), ``changed_lines`` and ``recent_lines`` (metrics/rework.py) summed
    over those with line history (NULL when none has it: unknown without line history, not 0)."""
    linked = links.select("item_id", "repo", "change_id").distinct()
    linked = linked.semi_join(scope.select("repo", change_id=scope.id), ["repo", "change_id"])
    rw = rework_by_change(backend, linked.select("repo", "change_id"), days)
    rv = reverted.select("repo", change_id=reverted.reverted_id).distinct().mutate(hit=True)
    j = linked.left_join(rw, ["repo", "change_id"]).drop("repo_right", "change_id_right")
    j = j.left_join(rv, ["repo", "change_id"])
    return j.group_by(j.item_id).aggregate(
        changes=j.count(), reverted=j.hit.fill_null(False).any(),
        changed_lines=j.changed_lines.sum(), recent_lines=j.recent_lines.sum())


def spec_change_flags(backend: ibis.BaseBackend, fl: Flow, settings: Settings) -> ir.Table:
    """``repo``, ``id``, ``underspecified`` for the changes of ``fl``'s scope: True when a work
    item the change serves had no acceptance criteria when work started; False when every item it
    serves had them; NULL when it serves no item or none whose state is known (a GitHub issue)."""
    items = item_flow(backend, Filters(include_bots=True))  # lazy: only work_started is read
    started = started_items(items, include_bots=True)
    crit = acceptance_at_start(backend, started, settings.coordination.acceptance_patterns)
    links = backend.table("item_links").select("item_id", "repo", "change_id").distinct()
    j = links.join(crit, "item_id")
    per = j.group_by(["repo", "change_id"]).aggregate(
        under=(~j.criteria).any(), known=j.criteria.count())
    sc = fl.scope.select("repo", "id")
    out = sc.left_join(per, [sc.repo == per.repo, sc.id == per.change_id])
    flag = ibis.ifelse(out.known.fill_null(0) > 0, out.under, ibis.null("boolean"))
    return out.select(sc.repo, sc.id, underspecified=flag)
