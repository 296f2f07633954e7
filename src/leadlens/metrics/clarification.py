"""Clarification: the questions of a work item or a change, before and after its work started, and
the time they kept the work waiting (docs/metrics-coordination.md, "Clarification and decision
latency"). Questions and answers are :mod:`leadlens.metrics.questions`'."""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from leadlens.conventions import BotRule
from leadlens.metrics import flow as fm
from leadlens.metrics.items import ItemFlow, item_flow
from leadlens.metrics.questions import item_threads, posts, questions, thread

__all__ = ["change_flags", "change_questions", "change_threads", "item_questions",
           "item_started", "pr_data_repos", "wait_spans"]

_TS = "timestamp('UTC', 6)"


def item_started(backend: ibis.BaseBackend, fl: ItemFlow | None = None) -> ir.Table:
    """``item_id``, ``started_at`` (null: never started) for every work item: its
    ``work_started`` milestone (metrics/items.py)."""
    fl = fl or item_flow(backend, fm.Filters())
    ws = fl.milestones.filter(fl.milestones.name == "work_started")
    ws = ws.group_by("item_id").aggregate(started_at=ws.at.min())
    wi = backend.table("work_items")
    j = wi.left_join(ws, wi.id == ws.item_id)
    return j.select(item_id=wi.id, started_at=j.started_at.cast(_TS))


def item_questions(backend: ibis.BaseBackend, qs: ir.Table, started: ir.Table) -> ir.Table:
    """Per item and question in its threads (its own, and its linked pull requests'):
    ``item_id``, ``thread``, ``turn``, ``asked_at``, ``answered_at``, ``answer_s``,
    ``started_at`` and ``after`` (asked at or after the item's work started; false before, and
    while it has not started)."""
    q = qs.select("thread", "turn", "asked_at", "answered_at", "answer_s")
    j = item_threads(backend).join(q, "thread").left_join(started, "item_id")
    return j.select("item_id", "thread", "turn", "asked_at", "answered_at", "answer_s",
                    started_at=j.started_at,
                    after=(j.started_at.notnull() & (j.asked_at >= j.started_at)).fill_null(False))


def pr_data_repos(backend: ibis.BaseBackend) -> ir.Table:
    """``repo``: repositories with pull request data (pull requests stored, or a forge read that
    found none): there, a change without questions had none."""
    prs = backend.table("pull_requests").select("repo")
    sync = backend.table("sync_state")
    read = sync.filter(sync.resource == "pull_requests").select("repo")
    return prs.union(read, distinct=True)


def change_threads(backend: ibis.BaseBackend, scope: ir.Table) -> ir.Table:
    """``repo``, ``id``, ``thread``: a change's own pull request thread, and every thread of the
    items it serves (their own and their linked pull requests')."""
    own = scope.filter(scope.number.notnull())
    own = own.select("repo", "id", thread=thread(own.repo, own.number).cast("string"))
    links = backend.table("item_links").select("item_id", "repo", id=ibis._.change_id).distinct()
    links = links.semi_join(scope.select("repo", "id"), ["repo", "id"])
    its = links.join(item_threads(backend), "item_id").select("repo", "id", "thread")
    return own.union(its, distinct=True)


def change_questions(backend: ibis.BaseBackend, scope: ir.Table, qs: ir.Table) -> ir.Table:
    """Per change of ``scope`` and question in its threads: ``repo``, ``id``, ``thread``, ``turn``,
    ``asked_at``, ``answered_at``."""
    q = qs.select("thread", "turn", "asked_at", "answered_at")
    return change_threads(backend, scope).join(q, "thread")


def wait_spans(per_unit: ir.Table, key: str, work: ir.Table, as_of: datetime) -> ir.Table:
    """``key``, ``start``, ``end``: while each question (``per_unit``: ``key``, ``asked_at``,
    ``answered_at``) waited for its answer, cut to its unit's work (``work``: ``key``,
    ``started_at``, ``ended_at``); an open question waits until ``as_of``."""
    j = per_unit.join(work, key)
    answered = ibis.coalesce(j.answered_at, ibis.literal(as_of).cast(_TS))
    return j.select(key, start=ibis.greatest(j.asked_at, j.started_at),
                    end=ibis.least(answered, j.ended_at))


def change_flags(backend: ibis.BaseBackend, fl: fm.Flow, bots: BotRule,
                 patterns: tuple[str, ...]) -> ir.Table:
    """``repo``, ``id``, ``clarified``, ``questions`` per change of ``fl``'s scope. ``clarified``:
    a question was asked after work started in the change's own pull request thread (after the
    change's work started) or in a thread of an item it serves (after that item's work started);
    ``questions``: the questions in the change's threads (:func:`change_threads`). Both null when
    the change has no thread data: its repository has no pull request data and it serves no item."""
    qs = questions(posts(backend, bots, None), patterns, None)
    scope = fl.scope.select("repo", "id", "number")
    ms = fl.milestones.filter(fl.milestones.name == "work_started")
    ws = ms.group_by(["repo", "change_id"]).aggregate(started_at=ms.at.min().cast(_TS))
    ws = ws.select("repo", "started_at", id=ws.change_id)
    own = scope.filter(scope.number.notnull())
    own = own.select("repo", "id", thread=thread(own.repo, own.number).cast("string"))
    own = own.join(qs.select("thread", "asked_at"), "thread").join(ws, ["repo", "id"])
    own_after = own.filter(own.asked_at >= own.started_at).select("repo", "id").distinct()
    items_after = item_questions(backend, qs, item_started(backend))
    items_after = items_after.filter(items_after.after).select("item_id").distinct()
    links = backend.table("item_links").select("item_id", "repo", id=ibis._.change_id).distinct()
    via_item = links.semi_join(items_after, "item_id").select("repo", "id").distinct()
    after = own_after.union(via_item, distinct=True).mutate(hit=ibis.literal(True))
    cq = change_questions(backend, scope, qs)
    counts = cq.select("repo", "id", "thread", "turn").distinct()
    counts = counts.group_by(["repo", "id"]).aggregate(n=counts.count())
    serving = links.select("repo", "id").distinct().mutate(serves=ibis.literal(True))
    data = pr_data_repos(backend).mutate(prs=ibis.literal(True))
    j = (scope.left_join(after, ["repo", "id"]).select(scope.repo, scope.id, hit=ibis._.hit))
    j = j.left_join(counts, ["repo", "id"]).select("repo", "id", "hit", n=ibis._.n)
    j = j.left_join(serving, ["repo", "id"]).select("repo", "id", "hit", "n", "serves")
    j = j.left_join(data, "repo").select("repo", "id", "hit", "n", "serves", "prs")
    known = j.serves.fill_null(False) | j.prs.fill_null(False)
    return j.select(
        "repo", "id",
        clarified=ibis.ifelse(known, j.hit.fill_null(False), ibis.null("boolean")),
        questions=ibis.ifelse(known, j.n.fill_null(0), ibis.null("int64")))
