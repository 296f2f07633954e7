"""Handoffs around work items as Ibis expressions: assignee changes, the people taking part in an
item or a change, the time an item is blocked, and links between items of different teams
(docs/metrics-coordination.md, "Handoffs and flow").

People are what the sources name them: Jira account ids, GitHub logins, git author names where a
commit has no login. Bots and AI agents or reviewers are never people (``BotRule``).
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from leadlens.conventions import BotRule
from leadlens.metrics.flow import plausible_milestones
from leadlens.metrics.teams import COMPONENT, Teams, item_teams
from leadlens.timeline import seconds_between

__all__ = [
    "TS",
    "assignee_changes",
    "blocked_time",
    "change_participants",
    "cross_team_links",
    "is_person",
    "item_life",
    "item_participants",
    "loose",
]

TS = "timestamp('UTC', 6)"


def loose(t: ir.Table) -> ir.Table:
    """``t`` with every column nullable, as a union of tables from different sources needs."""
    return t.cast({c: t[c].type().copy(nullable=True) for c in t.columns})


def is_person(bots: BotRule, who: ir.StringValue, flag: ir.BooleanValue | None = None
            ) -> ir.BooleanValue:
    """``who`` is a person: named, neither an automation bot nor an AI agent or reviewer."""
    return who.notnull() & ~bots.ibis(who, flag).fill_null(False) & ~bots.ai_ibis(who)


def _jira_items(backend: ibis.BaseBackend) -> ir.Table:
    wi = backend.table("work_items")
    return wi.filter(wi.source == "jira").select(item_id=wi.id, issue_id=wi.native_id)


def _github_items(backend: ibis.BaseBackend) -> ir.Table:
    wi = backend.table("work_items")
    return wi.filter(wi.source == "github").select(item_id=wi.id, native=wi.native_id)


def _jira_person(backend: ibis.BaseBackend, bots: BotRule, t: ir.Table, col: str) -> ir.Table:
    """``t``'s rows whose account ``col`` is a person: an app account (``jira_users``) or a
    display name the bot or AI patterns match is not (an account nobody lists is a person)."""
    u = backend.table("jira_users").select(
        "account_id", name=ibis._.display_name, app=ibis._.account_type == "app")
    j = t.left_join(u, t[col] == u.account_id)
    named = ibis.coalesce(j.name, j[col])
    return j.filter(j[col].notnull() & ~j.app.fill_null(False)
                    & ~bots.ibis(named).fill_null(False) & ~bots.ai_ibis(named)).select(t.columns)


def item_life(backend: ibis.BaseBackend, as_of: datetime) -> ir.Table:
    """Per work item: ``item_id``, ``project``, ``is_bot``, ``created``, ``started`` (its first
    move into an in-progress status or the first commit of a linked change, whichever is earlier;
    DESIGN.md, Work items) and ``done`` (its first move into a done status, else its resolution
    time; NULL while not done); times after ``as_of`` are not known yet (NULL)."""
    wi = backend.table("work_items")
    tr = backend.table("work_item_transitions")
    first = tr.group_by("item_id").aggregate(
        in_progress=tr["at"].min(where=tr.to_category == "in_progress"),
        done_move=tr["at"].min(where=tr.to_category == "done"))
    ms = plausible_milestones(backend)
    ws = ms.filter(ms.name == "work_started")
    links = backend.table("item_links").select("item_id", "repo", "change_id").distinct()
    lw = links.join(ws, ["repo", "change_id"]).group_by("item_id").aggregate(
        first_commit=ibis._["at"].min())
    j = wi.left_join(first, wi.id == first.item_id).left_join(lw, wi.id == lw.item_id)
    now = ibis.literal(as_of).cast(TS)

    def known(t: ir.TimestampValue) -> ir.TimestampValue:
        return ibis.ifelse(t.cast(TS) <= now, t.cast(TS), ibis.null(TS))

    return j.select(item_id=wi.id, source=wi.source, project=wi.project, is_bot=wi.bot,
                    created=wi.created_at.cast(TS),
                    started=known(ibis.least(j.in_progress, j.first_commit)),
                    done=known(ibis.coalesce(j.done_move, wi.resolved_at)))


def assignee_changes(backend: ibis.BaseBackend) -> ir.Table:
    """``item_id``, ``handoffs``: how often the person assigned to an item changed. The assignees
    an item had, in time order, are its Jira changelog's ``assignee`` values (each change's old
    then new value, so the assignee it was created with counts) or its GitHub ``assigned`` events;
    a handoff is an assignee other than the previous one (unassigning alone is none: A → nobody →
    B is one handoff, A → nobody → A none; the first assignment is none). An item whose history
    is in the store but holds no assignee change has 0; a GitHub issue of a repository with no
    issue events stored has NULL (its history was never read)."""
    cl = backend.table("jira_changelog")
    cl = cl.filter((cl.field.lower() == "assignee") | (cl.field_id == "assignee"))
    jira = _jira_items(backend)
    cl = cl.join(jira, "issue_id")
    parts = [cl.select("item_id", at=cl["at"].cast(TS), hid=cl.history_id.cast("string"),
                       idx=cl.item_index * 2 + part,
                       who=ibis.coalesce(value, text))
             for part, value, text in ((0, cl.from_value, cl.from_string),
                                       (1, cl.to_value, cl.to_string))]
    ev = backend.table("issue_events")
    ev = ev.filter(ev.event == "assigned").mutate(native=ev.repo + "#" + ev.number.cast("string"))
    ev = ev.join(_github_items(backend), "native")
    parts.append(ev.select("item_id", at=ev["at"].cast(TS), hid=ev.id.cast("string"),
                           idx=ibis.literal(0, "int64"), who=ev.detail))
    seq = loose(parts[0]).union(*map(loose, parts[1:]), distinct=False)
    seq = seq.filter(seq.who.notnull() & (seq.who != ""))
    w = ibis.window(group_by="item_id", order_by=["at", "hid", "idx"])
    seq = seq.mutate(prev=seq.who.lag().over(w))
    counted = seq.group_by("item_id").aggregate(
        handoffs=(seq.prev.notnull() & (seq.prev != seq.who)).cast("int64").sum())
    wi = backend.table("work_items")
    read = backend.table("issue_events").select(project=ibis._.repo).distinct().mutate(read=True)
    j = wi.left_join(counted, wi.id == counted.item_id).left_join(read, wi.project == read.project)
    history = (wi.source == "jira") | j.read.fill_null(False)
    return j.select(item_id=wi.id, handoffs=ibis.ifelse(
        history, j.handoffs.fill_null(0), ibis.null("int64")))


def item_participants(backend: ibis.BaseBackend, bots: BotRule) -> ir.Table:
    """``item_id``, ``who``: the distinct people of an item — its reporter, everyone assigned to it,
    everyone who commented on it or changed one of its fields (a GitHub issue's author, assignees,
    commenters and the actors of its events)."""
    jira = _jira_items(backend)
    ji = backend.table("jira_issues").select(issue_id="id", r="reporter", a="assignee")
    cl = backend.table("jira_changelog")
    assignee = (cl.field.lower() == "assignee") | (cl.field_id == "assignee")
    jc = backend.table("jira_comments")
    rows = [ji.select("issue_id", who=ji.r), ji.select("issue_id", who=ji.a),
            cl.select("issue_id", who=cl.author),
            cl.filter(assignee).select("issue_id", who=cl.from_value),
            cl.filter(assignee).select("issue_id", who=cl.to_value),
            jc.select("issue_id", who=jc.author)]
    j_rows = loose(rows[0]).union(*map(loose, rows[1:]))
    j_rows = _jira_person(backend, bots, j_rows, "who").join(jira, "issue_id")
    gh = _github_items(backend)
    iss = backend.table("issues")
    ev = backend.table("issue_events")
    cm = backend.table("comments")
    num, txt, flag = ibis.dtype("int64"), ibis.dtype("string"), ibis.dtype("boolean")

    def row(t: ir.Table, who: ir.StringValue, bot: ir.BooleanValue) -> ir.Table:
        return t.select(repo=t.repo.cast(txt), number=t.number.cast(num), who=who.cast(txt),
                        bot=bot.cast(flag))

    assigned = ev.filter(ev.event == "assigned")
    g_rows = row(iss, iss.author, ibis.literal(False)).union(
        row(ev, ev.actor, ev.actor_is_bot), row(assigned, assigned.detail, ibis.literal(False)),
        row(cm.filter(cm.kind == "issue"), cm.author, cm.author_is_bot))
    g_rows = g_rows.filter(is_person(bots, g_rows.who, g_rows.bot))
    g_rows = g_rows.mutate(native=g_rows.repo + "#" + g_rows.number.cast("string"))
    g_rows = g_rows.join(gh, "native").select("item_id", "who")
    return loose(j_rows.select("item_id", "who")).union(loose(g_rows)).distinct()


def change_participants(backend: ibis.BaseBackend, scope: ir.Table, bots: BotRule) -> ir.Table:
    """``repo``, ``id``, ``who``: the distinct people of each change of ``scope`` — the authors of
    its commits (their GitHub login when the pull request lists it, else their git name), its
    pull request's author, and everyone who reviewed or commented on it."""
    sc = scope.select("repo", "id", "number")
    cc = backend.table("change_commits").select("repo", id="change_id", sha="sha")
    cc = cc.join(sc.select("repo", "id"), ["repo", "id"])
    commits = backend.table("commits").select("repo", "sha", "author_name")
    prc = backend.table("pr_commits").filter(ibis._.author_login.notnull()).select(
        "repo", "sha", "author_login").distinct(on=["repo", "sha"], keep="first")
    a = cc.join(commits, ["repo", "sha"]).left_join(prc, ["repo", "sha"])
    authors = a.select(a.repo, a.id, who=ibis.coalesce(a.author_login, a.author_name),
                       bot=ibis.literal(False))
    prs = sc.filter(sc.number.notnull())
    pr = backend.table("pull_requests")
    rv = backend.table("reviews")
    cm = backend.table("comments")
    acts = loose(pr.select("repo", "number", who=pr.author, bot=pr.author_is_bot)).union(
        loose(rv.filter(rv.state != "PENDING").select(
            "repo", "number", who=rv.reviewer, bot=rv.reviewer_is_bot)),
        loose(cm.select("repo", "number", who=cm.author, bot=cm.author_is_bot)))
    acts = prs.join(acts, ["repo", "number"]).select("repo", "id", "who", "bot")
    both = loose(authors).union(loose(acts))
    return _people_only(bots, both).select("repo", "id", "who").distinct()


def _people_only(bots: BotRule, t: ir.Table) -> ir.Table:
    """``t``'s rows whose ``who`` (with the source's ``bot`` flag) is a person (``is_person``):
    the patterns run once per distinct name and flag, not once per row (on aggregated values, so
    the engine cannot push them back below the grouping)."""
    t = t.mutate(bot=t.bot.fill_null(False))
    g = t.group_by(["who", "bot"]).aggregate(name=t.who.max(), flag=t.bot.max())
    ok = g.filter(is_person(bots, g.name, g.flag)).select("who", "bot")
    return t.semi_join(ok, ["who", "bot"])


def _pairs(backend: ibis.BaseBackend) -> ir.Table:
    """Every link between two items: ``item_id``, ``other`` (the other item's id when it is in
    the store), ``other_key`` (its key, stored or not), ``other_project``, ``blocked_by`` (the
    other item blocks this one)."""
    links = backend.table("jira_issue_links")
    jira = _jira_items(backend)
    wi = backend.table("work_items").select(o_native="native_id", o_id="id", o_src="source")
    phrase = links.phrase.lower()
    blocks_type = links.type.lower() == "blocks"
    blocked_by = (phrase == "is blocked by") | (blocks_type & (links.direction == "inward"))
    blocks = (phrase == "blocks") | (blocks_type & (links.direction == "outward"))
    j = links.join(jira, "issue_id").left_join(
        wi, [links.other_id == wi.o_native, wi.o_src == "jira"])
    key = ibis.coalesce(j.o_id, j.other_key)
    jl = j.select(item_id=j.item_id, other=j.o_id, other_key=key,
                  other_project=key.re_extract(r"^(.*)-[0-9]+$", 1).nullif(""),
                  blocked_by=blocked_by, blocks=blocks)
    # A link is listed on both issues; one listed on one side only still counts once each way.
    rev = jl.filter(jl.other.notnull()).select(
        item_id=jl.other, other=jl.item_id, other_key=jl.item_id,
        other_project=jl.item_id.re_extract(r"^(.*)-[0-9]+$", 1).nullif(""),
        blocked_by=jl.blocks, blocks=jl.blocked_by)
    rel = backend.table("issue_relations")
    rel = rel.mutate(native=rel.repo + "#" + rel.number.cast("string"),
                     o_native=rel.other_repo + "#" + rel.other_number.cast("string"))
    gh = _github_items(backend)
    gj = rel.join(gh, "native").left_join(wi, [rel.o_native == wi.o_native, wi.o_src == "github"])
    gl = gj.select(item_id=gj.item_id, other=gj.o_id, other_key=gj.o_native,
                   other_project=gj.other_repo,
                   blocked_by=gj.relation == "blocked_by", blocks=ibis.literal(False))
    grev = gl.filter(gl.other.notnull()).select(
        item_id=gl.other, other=gl.item_id, other_key=gl.item_id,
        other_project=gl.item_id.re_extract(r"^(.*)#[0-9]+$", 1), blocked_by=gl.blocks,
        blocks=gl.blocked_by)
    allp = loose(jl).union(loose(rev), loose(gl), loose(grev), distinct=False)
    return allp.group_by(["item_id", "other", "other_key", "other_project"]).aggregate(
        blocked_by=allp.blocked_by.fill_null(False).any())


def cross_team_links(backend: ibis.BaseBackend, teams: Teams) -> ir.Table:
    """``item_id``, ``team``, ``cross_links``: per item, how many other items it is linked to
    (Jira issue links of any type, GitHub sub-issues and blocked-by relations) that belong to
    another team. The other item's team is its own (``item_teams``) when it is in the store, else
    the team whose settings name its project (from its key or repository), else that project."""
    it = item_teams(backend, teams)
    pairs = _pairs(backend)
    names = [(t, s) for t, sels in sorted(teams) for s in sels if not s.startswith(COMPONENT)]
    by_project = ibis.memtable({"p": [s for _, s in names], "pteam": [t for t, _ in names]},
                               schema={"p": "string", "pteam": "string"})
    by_project = by_project.group_by("p").aggregate(pteam=ibis._.pteam.min())
    ot = it.select(o="item_id", oteam="team")
    j = pairs.left_join(ot, pairs.other == ot.o).left_join(
        by_project, pairs.other_project == by_project.p)
    j = j.mutate(other_team=ibis.coalesce(j.oteam, j.pteam, j.other_project))
    mine = it.select("item_id", "team")
    j = j.join(mine, "item_id")
    cross = (j.team.notnull() & j.other_team.notnull() & (j.team != j.other_team))
    agg = j.group_by("item_id").aggregate(cross_links=cross.cast("int64").sum())
    out = mine.left_join(agg, "item_id")
    return out.select(mine.item_id, mine.team, cross_links=out.cross_links.fill_null(0))


def blocked_time(backend: ibis.BaseBackend, blocked_statuses: tuple[str, ...],
                 as_of: datetime, life: ir.Table | None = None) -> ir.Table:
    """``item_id``, ``blocked_s``, ``flagged``, ``status``, ``blocked_by``: per item ever blocked,
    the seconds it was blocked (the union of its blocked intervals: an hour flagged and in a
    blocked status counts once) and by what. An item is blocked while flagged (Jira changelog
    ``Flagged`` set, until cleared), while in a ``blocked_statuses`` status (until its next
    status move), and while an item linked as blocking it is not done: from the later of both
    items' creation until the blocker's ``done`` (``item_life``). Every interval ends at the
    item's own ``done`` and at ``as_of`` (still blocked: up to now). ``life``: ``item_life``
    when the caller has it."""
    life = item_life(backend, as_of) if life is None else life
    now = ibis.literal(as_of).cast(TS)
    cl = backend.table("jira_changelog")
    cl = cl.filter(cl.field.lower() == "flagged")
    cl = cl.join(_jira_items(backend), "issue_id")
    fw = ibis.window(group_by="item_id", order_by=["at", "history_id", "item_index"])
    cl = cl.mutate(at=cl["at"].cast(TS), nxt=cl["at"].cast(TS).lead().over(fw))
    flagged = cl.filter(cl.to_string.notnull() & (cl.to_string != "")).select(
        "item_id", start=cl["at"], end=ibis.coalesce(cl.nxt, now), kind=ibis.literal("flagged"))
    tr = backend.table("work_item_transitions")
    tw = ibis.window(group_by="item_id", order_by="seq")
    tr = tr.mutate(at=tr["at"].cast(TS), nxt=tr["at"].cast(TS).lead().over(tw))
    wanted = [s.strip().lower() for s in blocked_statuses]
    status = tr.filter(tr.to_status.strip().lower().isin(wanted) if wanted
                       else ibis.literal(False)).select(
        "item_id", start=tr["at"], end=ibis.coalesce(tr.nxt, now), kind=ibis.literal("status"))
    pairs = _pairs(backend)
    pairs = pairs.filter(pairs.blocked_by & pairs.other.notnull())
    me = life.select(m_id="item_id", m_created="created")
    blocker = life.select(b_id="item_id", b_created="created", b_done="done")
    bp = pairs.join(me, pairs.item_id == me.m_id).join(blocker, pairs.other == blocker.b_id)
    linked = bp.select("item_id", start=ibis.greatest(bp.m_created, bp.b_created),
                       end=ibis.coalesce(bp.b_done, now), kind=ibis.literal("blocked_by"))
    iv = loose(flagged).union(loose(status), loose(linked), distinct=False)
    ends = life.select(e_id="item_id", own_done="done")
    iv = iv.join(ends, iv.item_id == ends.e_id)
    iv = iv.mutate(end=ibis.least(iv.end, ibis.coalesce(iv.own_done, now), now)).filter(
        lambda t: t.end > t.start).select("item_id", "start", "end", "kind")
    kinds = iv.group_by("item_id").aggregate(
        flagged=(iv.kind == "flagged").any(), status=(iv.kind == "status").any(),
        blocked_by=(iv.kind == "blocked_by").any())
    return _union_seconds(iv).join(kinds, "item_id")


def _union_seconds(iv: ir.Table) -> ir.Table:
    """``item_id``, ``blocked_s``: the length of the union of each item's intervals."""
    w = ibis.window(group_by="item_id", order_by=["start", "end"], rows=(None, 0))
    iv = iv.mutate(reach=iv.end.max().over(w))
    w2 = ibis.window(group_by="item_id", order_by=["start", "end"])
    iv = iv.mutate(prev=iv.reach.lag().over(w2))
    iv = iv.mutate(new=(iv.start > iv.prev).fill_null(True).cast("int64"))
    iv = iv.mutate(island=iv.new.sum().over(ibis.window(group_by="item_id",
                                                        order_by=["start", "end"],
                                                        rows=(None, 0))))
    isl = iv.group_by(["item_id", "island"]).aggregate(lo=iv.start.min(), hi=iv.end.max())
    return isl.group_by("item_id").aggregate(blocked_s=seconds_between(isl.hi, isl.lo).sum())
