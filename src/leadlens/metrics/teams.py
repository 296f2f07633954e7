"""Which team a work item or a change belongs to: the `teams` setting, else its project or repository.

Coordination signals are team-level by default (DESIGN.md: per-person views only when asked for).
A team is named in the settings with what belongs to it — Jira project keys, `OWNER/REPO` names,
`component:NAME` for Jira components; an item or change nothing names is its own project's or
repository's team. When several teams name one item, the first by name wins (deterministic).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

__all__ = ["COMPONENT", "Teams", "change_teams", "item_teams"]

COMPONENT = "component:"

Teams = tuple[tuple[str, tuple[str, ...]], ...]  # CoordinationSettings.teams


def _selectors(teams: Teams) -> ir.Table:
    pairs = [(team, sel) for team, sels in sorted(teams) for sel in sels]
    return ibis.memtable({"team": [t for t, _ in pairs], "selector": [s for _, s in pairs]},
                         schema={"team": "string", "selector": "string"})


def item_teams(backend: ibis.BaseBackend, teams: Teams) -> ir.Table:
    """``item_id``, ``team`` for every work item: the first team (by name) whose selector is the
    item's project or ``component:`` one of its Jira components; else its project (NULL when the
    item has none)."""
    items = backend.table("work_items").select("id", "source", "native_id", "project")
    if not teams:
        return items.select(item_id=items.id, team=items.project)
    sel = _selectors(teams)
    by_project = items.join(sel, items.project == sel.selector).select(
        item_id=items.id, team=sel.team)
    issues = backend.table("jira_issues").select("id", "components")
    comps = issues.select(native_id=issues.id, component=issues.components.unnest())
    comps = comps.mutate(selector=ibis.literal(COMPONENT) + comps.component)
    jira = items.filter(items.source == "jira")
    by_comp = jira.join(comps, jira.native_id == comps.native_id).join(
        sel, comps.selector == sel.selector).select(item_id=jira.id, team=sel.team)
    named = by_project.union(by_comp).group_by("item_id").aggregate(team=lambda t: t.team.min())
    out = items.left_join(named, items.id == named.item_id)
    return out.select(item_id=items.id, team=ibis.coalesce(out.team, items.project))


def change_teams(scope: ir.Table, teams: Teams) -> ir.Table:
    """``repo``, ``id``, ``team`` for the changes of ``scope`` (a flow's scope): the first team
    (by name) that names the change's repository; else the repository."""
    changes = scope.select("repo", "id")
    if not teams:
        return changes.mutate(team=changes.repo)
    sel = _selectors(teams)
    named = sel.group_by("selector").aggregate(team=sel.team.min())
    out = changes.left_join(named, changes.repo == named.selector)
    return out.select(changes.repo, changes.id, team=ibis.coalesce(out.team, changes.repo))
