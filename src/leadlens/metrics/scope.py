"""The work items of a scope — a Jira epic, a label, a GitHub milestone — and which are done."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from leadlens.metrics.items import ItemFlow

__all__ = ["SCOPE_KINDS", "scope_items"]

# epic: Jira issues whose epic or parent is the key; label: Jira and GitHub issues carrying it;
# milestone: GitHub issues in it (its title).
SCOPE_KINDS = ("epic", "label", "milestone")


def _members(backend: ibis.BaseBackend, kind: str, name: str) -> ir.Table:
    """``source``, ``native_id`` of the source's issues in the scope (work_items' keys)."""
    jira = backend.table("jira_issues")
    github = backend.table("issues")
    in_github = github.select(source=ibis.literal("github"),
                              native_id=(github.repo + "#" + github.number.cast("string")
                                         ).cast("string"),
                              labels=github.labels, milestone=github.milestone)
    if kind == "milestone":
        return in_github.filter(in_github.milestone == name).select("source", "native_id")
    if kind == "epic":
        hit = jira.filter((jira.epic_key == name) | (jira.parent_key == name))
        return hit.select(source=ibis.literal("jira"), native_id=hit.id.cast("string"))
    hit = jira.filter(jira.labels.contains(name))
    labelled = in_github.filter(in_github.labels.contains(name))
    return hit.select(source=ibis.literal("jira"), native_id=hit.id.cast("string")).union(
        labelled.select("source", "native_id"))


def scope_items(backend: ibis.BaseBackend, fl: ItemFlow, kind: str, name: str, *,
                include_bots: bool) -> ir.Table:
    """``item_id``, ``done`` for every work item of the scope (``kind`` one of SCOPE_KINDS), bots'
    left out unless ``include_bots``. Done: its status is of the done category (closed, resolved
    — whether or not a change served it), or it was delivered (spec → production ended: every
    linked change released), as the throughput counts it."""
    if kind not in SCOPE_KINDS:
        raise ValueError(f"scope kind {kind!r}")
    members = _members(backend, kind, name)
    it = fl.items if include_bots else fl.items.filter(~fl.items.is_bot)
    it = it.join(members, [it.source == members.source, it.native_id == members.native_id])
    delivered = fl.spans.select(delivered_id=fl.spans.item_id, delivered=fl.spans.done)
    it = it.left_join(delivered, it.id == delivered.delivered_id)
    done = (it.status_category == "done").fill_null(False) | it.delivered.fill_null(False)
    return it.select(item_id=it.id, done=done).distinct()
