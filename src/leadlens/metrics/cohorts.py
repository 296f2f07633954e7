"""Per-change facts the AI-impact comparisons split into cohorts: times, size, revert, rework, AI."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from leadlens.metrics import flow as fm
from leadlens.metrics.rework import rework_by_change

__all__ = ["change_facts", "done_stage_seconds"]


def change_facts(backend: ibis.BaseBackend, fl: fm.Flow, ai: ir.Table, rework_days: float,
                 with_rework: bool) -> ir.Table:
    """One row per change in scope: ``cid``, ``id``, ``author``, ``authors``, ``merged_at``,
    ``lines``, ``size``, ``done``, ``lead_time_s`` (None in flight), ``ai_assisted``,
    ``ai_line_share``, ``reverted`` (a later change reverted it), ``rework_changed_lines`` and
    ``rework_recent_lines`` (None without line history)."""
    s = fl.scope
    spans = fl.spans.select("cid", "done", "lead_time_s")
    base = s.select("cid", "repo", "id", "author", "authors", "merged_at", "lines", "size")
    base = base.left_join(spans, "cid").drop("cid_right")
    base = base.left_join(ai.select("cid", "ai_line_share", hit=ibis.literal(True)), "cid").drop(
        "cid_right")
    rv = fm.reverts(backend, fl).select("repo", id="reverted_id").distinct().mutate(
        was_reverted=ibis.literal(True))
    base = base.left_join(rv, ["repo", "id"]).drop("repo_right", "id_right")
    if with_rework:
        rw = rework_by_change(backend, s.select("repo", change_id=s.id), rework_days)
        rw = rw.select("repo", id=rw.change_id, rework_changed_lines=rw.changed_lines,
                       rework_recent_lines=rw.recent_lines)
        base = base.left_join(rw, ["repo", "id"]).drop("repo_right", "id_right")
    else:
        base = base.mutate(rework_changed_lines=ibis.null("int64"),
                           rework_recent_lines=ibis.null("int64"))
    return base.select(
        "cid", "repo", "id", "author", "authors", "merged_at", "lines", "size",
        done=base.done.fill_null(False), lead_time_s=base.lead_time_s,
        ai_assisted=base.hit.fill_null(False), ai_line_share=base.ai_line_share,
        reverted=base.was_reverted.fill_null(False),
        rework_changed_lines=base.rework_changed_lines,
        rework_recent_lines=base.rework_recent_lines,
    ).order_by("cid")


def done_stage_seconds(fl: fm.Flow) -> ir.Table:
    """``cid``, ``stage``, ``seconds`` for every segment of changes that have a lead time."""
    seg = fm.done_segments(fl)
    return seg.group_by(["cid", "stage"]).aggregate(seconds=seg.seconds.sum())
