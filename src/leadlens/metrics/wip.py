"""Work in progress as Ibis expressions: items in progress per team per UTC day, and each person's
streams of work in progress per day — context switching (docs/metrics-coordination.md,
"Handoffs and flow")."""

from __future__ import annotations

from datetime import date, datetime

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from leadlens.conventions import BotRule
from leadlens.metrics.flow import plausible_milestones
from leadlens.metrics.handoffs import TS, is_person, item_life, loose
from leadlens.metrics.teams import Teams, item_teams

__all__ = ["change_work", "item_wip", "person_days", "switching_changes"]

_DAY = ibis.interval(days=1)


def _days(t: ir.Table) -> ir.Table:
    """``t`` (``start``, ``end``) with one row per UTC ``day`` the interval touches: a day
    ``[d, d + 1 day)`` counts when ``start < d + 1 day`` and ``end > d``."""
    return t.mutate(day=ibis.range(t.start.truncate("D"), t.end, _DAY).unnest().cast("date"))


def item_wip(backend: ibis.BaseBackend, teams: Teams, as_of: datetime, days: list[date],
             include_bots: bool, life: ir.Table | None = None) -> ir.Table:
    """``team``, ``day``, ``wip``: per team and each of ``days``, the items in progress on it
    (from ``started`` to ``done``, or to ``as_of`` while not done; ``item_life``); 0 on a day
    when the team had none (teams are those with any item)."""
    life = item_life(backend, as_of) if life is None else life
    if not include_bots:
        life = life.filter(~life.is_bot)
    now = ibis.literal(as_of).cast(TS)
    iv = life.filter(life.started.notnull()).select(
        "item_id", start=life.started, end=ibis.coalesce(life.done, now))
    iv = _days(iv.filter(iv.end > iv.start))
    tm = item_teams(backend, teams)
    iv = iv.join(tm, "item_id")
    counts = iv.group_by(["team", "day"]).aggregate(wip=iv.item_id.nunique())
    grid = ibis.memtable(pa.table({"day": pa.array(days, pa.date32())})).cross_join(
        tm.select("team").distinct())
    j = grid.left_join(counts, ["team", "day"])
    return j.select(grid.team, grid.day, wip=j.wip.fill_null(0))


def change_work(backend: ibis.BaseBackend, bots: BotRule, as_of: datetime,
                life: ir.Table | None = None) -> ir.Table:
    """``who``, ``stream``, ``kind``, ``start``, ``end``, ``repo``, ``id`` (the change, NULL for an
    item): each person's work in progress. A pull request is in progress from its first commit
    (or its opening, when earlier) to its merge or close (open: up to ``as_of``); a change without
    a pull request from its ``work_started`` to its ``merged``; an item from ``started`` to
    ``done`` (``item_life``) for its current assignee. A change that serves an item is part of
    that item's stream (the first item by id), so working on an item and its pull request is one
    stream, not two. ``life``: ``item_life`` when the caller has it."""
    now = ibis.literal(as_of).cast(TS)
    pr = backend.table("pull_requests")
    prc = backend.table("pr_commits")
    first = prc.group_by(["repo", "number"]).aggregate(first_commit=prc.author_time.min())
    p = pr.left_join(first, ["repo", "number"])
    p = p.filter(is_person(bots, p.author, p.author_is_bot))
    ch = backend.table("changes").select("repo", cid="id", cnum="number")
    p = p.left_join(ch, [p.repo == ch.repo, p.number == ch.cnum])
    pr_id = p.repo + "#pr" + p.number.cast("string")  # a pull request no change holds yet
    prs = p.select(who=p.author, repo=p.repo, id=ibis.coalesce(p.cid, pr_id), change=p.cid,
                   start=ibis.least(p.first_commit, p.created_at).cast(TS),
                   end=ibis.coalesce(p.merged_at, p.closed_at, now).cast(TS))
    ms = plausible_milestones(backend)
    piv = ms.group_by(["repo", "change_id"]).aggregate(
        ws=ms["at"].min(where=ms.name == "work_started"),
        merged=ms["at"].min(where=ms.name == "merged"))
    c = backend.table("changes")
    c = c.join(piv, [c.repo == piv.repo, c.id == piv.change_id])
    c = c.anti_join(pr, [c.repo == pr.repo, c.number == pr.number])
    c = c.filter(is_person(bots, c.author))
    direct = c.select(who=c.author, repo=c.repo, id=c.id, change=c.id, start=c.ws.cast(TS),
                      end=c.merged.cast(TS))
    changes = loose(prs).union(loose(direct), distinct=False)
    links = backend.table("item_links")
    served = links.group_by(["repo", "change_id"]).aggregate(item=links.item_id.min())
    cj = changes.left_join(served, [changes.repo == served.repo, changes.change == served.change_id])
    changes = cj.select(cj.who, stream=ibis.coalesce(cj.item, cj.id), kind=ibis.literal("change"),
                        start=cj.start, end=cj.end, repo=changes.repo, id=cj.change)
    life = item_life(backend, as_of) if life is None else life
    assignee = _assignees(backend, bots)
    it = life.join(assignee, "item_id")
    items = it.filter(it.started.notnull()).select(
        it.who, stream=it.item_id, kind=ibis.literal("item"), start=it.started,
        end=ibis.coalesce(it.done, now), repo=ibis.null("string"), id=ibis.null("string"))
    out = loose(changes).union(loose(items), distinct=False)
    return out.filter(out.start.notnull() & out.end.notnull() & (out.end > out.start))


def _assignees(backend: ibis.BaseBackend, bots: BotRule) -> ir.Table:
    """``item_id``, ``who``: an item's current assignee (Jira), or the login of its last
    ``assigned`` event not undone by an ``unassigned`` of the same login (GitHub)."""
    wi = backend.table("work_items")
    ji = backend.table("jira_issues").select(native="id", who="assignee")
    j = wi.filter(wi.source == "jira").join(ji, wi.native_id == ji.native).select(
        item_id=wi.id, who=ji.who)
    ev = backend.table("issue_events")
    ev = ev.filter(ev.event.isin(["assigned", "unassigned"]) & ev.detail.notnull())
    last = ev.group_by(["repo", "number", "detail"]).aggregate(
        last=ev.event.argmax(ev["at"]), bot=ev.actor_is_bot.any())
    last = last.filter(last.last == "assigned")
    g = wi.filter(wi.source == "github").join(
        last, wi.native_id == last.repo + "#" + last.number.cast("string"))
    gh = g.select(item_id=wi.id, who=g.detail)
    both = loose(j).union(loose(gh))
    return both.filter(is_person(bots, both.who))


def person_days(work: ir.Table, first: date | None = None, last: date | None = None
                ) -> ir.Table:
    """``who``, ``day``, ``streams``: per person and day (from ``first`` to ``last`` inclusive
    when given) they had work in progress on, the distinct streams of work (``change_work``) in
    progress that day."""
    d = _days(work)
    if first is not None:
        d = d.filter(d.day >= first)
    if last is not None:
        d = d.filter(d.day <= last)
    return d.group_by(["who", "day"]).aggregate(streams=d.stream.nunique())


def switching_changes(work: ir.Table, pdays: ir.Table) -> ir.Table:
    """``repo``, ``id``, ``switched``: per change, whether its author had another stream in
    progress on a day the change was (``person_days`` over every day)."""
    ch = work.filter((work.kind == "change") & work.id.notnull())
    d = _days(ch)
    j = d.join(pdays, ["who", "day"])
    return j.group_by(["repo", "id"]).aggregate(switched=(j.streams >= 2).any())
