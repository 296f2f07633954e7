"""Questions in threads and their answers, set-wise (docs/metrics-coordination.md, "Clarification
and decision latency").

A *thread* is where people talk about one unit of work: a work item's comments (Jira comments,
GitHub issue comments; thread = the item id), or a pull request's conversation, review comments and
review bodies (thread = ``OWNER/REPO#N``). A *post* is one comment or review body, timed by its
creation (an edit later never moves it). Only people post here: bots, AI agents and AI reviewers
are left out before anything is counted, so a bot's comment between a question and its answer is
not there at all.

A *turn* is a run of consecutive posts in a thread by one person (nobody else posted in between).
A turn is one *question* when any of its posts matches a question pattern; it was asked at its
first matching post. So two question posts in a row by one person are one question, and a
follow-up by the asker is never its answer. Its *answer* is the next turn: the first later post in
the thread by someone else. A question without one is *open*; its age runs to ``as_of``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import ibis
import ibis.expr.types as ir

from leadlens.conventions import BotRule
from leadlens.timeline import seconds_between

__all__ = ["ITEM", "PULL_REQUEST", "has_threads", "item_threads", "posts", "questions", "thread",
           "thread_teams", "waited"]

ITEM = "item"
PULL_REQUEST = "pull_request"
_TS = "timestamp('UTC', 6)"


def thread(repo: ir.StringValue, number: ir.IntegerValue) -> ir.StringValue:
    """``OWNER/REPO#N``: the thread of a pull request (or the id of a GitHub issue's item)."""
    return repo + "#" + number.cast("string")


def _person(bots: BotRule, who: ir.StringValue, flag: ir.BooleanValue | None) -> ir.BooleanValue:
    """A person: a name, neither an automation bot nor an AI agent or reviewer."""
    return who.notnull() & ~bots.ibis(who, flag).fill_null(False) & ~bots.ai_ibis(who)


def posts(backend: ibis.BaseBackend, bots: BotRule, as_of: datetime | None) -> ir.Table:
    """Every post by a person (up to ``as_of`` when given): ``thread``, ``kind`` (item | pull_request),
    ``item_id`` (item threads), ``repo`` and ``number`` (GitHub threads), ``author`` (a stable
    identity: login or Jira account id), ``name`` (what a per-person view shows), ``at`` (created),
    ``body``, ``post`` (a key that orders posts of one instant)."""
    wi = backend.table("work_items")
    prs = backend.table("pull_requests").select("repo", "number", pr=ibis.literal(True))
    c = backend.table("comments")
    r = backend.table("reviews")
    at, num, s = ibis.dtype(_TS), ibis.dtype("int64"), ibis.dtype("string")
    # Jira: the author is an account id; the account's type and display name say who it is.
    jira = wi.filter(wi.source == "jira").select(item_id=wi.id, issue_id=wi.native_id)
    jc = backend.table("jira_comments")
    users = backend.table("jira_users").select("account_id", "display_name", "account_type")
    j = jc.join(jira, "issue_id").left_join(users, jc.author == users.account_id)
    name = ibis.coalesce(j.display_name, j.author)
    jposts = j.filter(_person(bots, name, j.account_type == "app")).select(
        thread=j.item_id, kind=ibis.literal(ITEM), item_id=j.item_id.cast(s),
        repo=ibis.null(s), number=ibis.null(num), author=j.author, name=name,
        at=j.created_at.cast(at), body=j.body, post=("j" + j.id).cast(s))
    # GitHub: a comment on a pull request's number is that pull request's; on an issue's, the item's.
    gh = wi.filter(wi.source == "github").select(item_id=wi.id, native=wi.native_id)
    cm = c.filter(_person(bots, c.author, c.author_is_bot))
    cm = cm.mutate(thread=thread(cm.repo, cm.number)).left_join(prs, ["repo", "number"])
    on_pr = cm.filter(cm.pr.fill_null(False))
    pposts = on_pr.select(
        thread=on_pr.thread, kind=ibis.literal(PULL_REQUEST), item_id=ibis.null(s),
        repo=on_pr.repo, number=on_pr.number.cast(num), author=on_pr.author, name=on_pr.author,
        at=on_pr.created_at.cast(at), body=on_pr.body,
        post=("c" + on_pr.kind + on_pr.id.cast("string")).cast(s))
    on_issue = cm.filter(~cm.pr.fill_null(False) & (cm.kind == "issue"))
    on_issue = on_issue.join(gh, on_issue.thread == gh.native)
    iposts = on_issue.select(
        thread=on_issue.item_id, kind=ibis.literal(ITEM), item_id=on_issue.item_id.cast(s),
        repo=on_issue.repo, number=on_issue.number.cast(num), author=on_issue.author,
        name=on_issue.author, at=on_issue.created_at.cast(at), body=on_issue.body,
        post=("c" + on_issue.kind + on_issue.id.cast("string")).cast(s))
    # A review's body is a post; a review without one (an approval, or the wrapper GitHub makes
    # around review comments, stored as comments already) is not.
    rv = r.filter(r.submitted_at.notnull() & (r.state != "PENDING")
                  & (r.body.strip().length() > 0)
                  & _person(bots, r.reviewer, r.reviewer_is_bot))
    rv = rv.semi_join(prs, ["repo", "number"])
    rposts = rv.select(
        thread=thread(rv.repo, rv.number), kind=ibis.literal(PULL_REQUEST), item_id=ibis.null(s),
        repo=rv.repo, number=rv.number.cast(num), author=rv.reviewer, name=rv.reviewer,
        at=rv.submitted_at.cast(at), body=rv.body, post=("r" + rv.id.cast("string")).cast(s))
    out = jposts.union(pposts, iposts, rposts, distinct=False)
    return out if as_of is None else out.filter(out.at <= ibis.literal(as_of).cast(at))


def questions(ps: ir.Table, patterns: Sequence[str], as_of: datetime | None) -> ir.Table:
    """One row per question of ``ps`` (:func:`posts`): ``thread``, ``kind``, ``item_id``, ``repo``,
    ``number``, ``turn`` (with ``thread``, its key), ``asker``, ``asker_name``, ``asked_at``,
    ``answered_at``, ``answerer`` and ``answerer_name`` (null while open), ``answer_s`` (null while
    open) and ``age_s`` (open: ``as_of`` - asked; null once answered, or without ``as_of``)."""
    is_q = ibis.literal(False)
    for pattern in patterns:
        is_q = is_q | ps.body.re_search(pattern).fill_null(False)
    p = ps.mutate(is_q=is_q)
    order = ibis.window(group_by="thread", order_by=["at", "post"])
    p = p.mutate(prev=p.author.lag().over(order))
    p = p.mutate(new=(p.prev.isnull() | (p.prev != p.author)).cast("int64"))
    running = ibis.window(group_by="thread", order_by=["at", "post"], preceding=None, following=0)
    p = p.mutate(turn=p.new.sum().over(running))
    turns = p.group_by(["thread", "turn"]).aggregate(
        kind=p.kind.arbitrary(), item_id=p.item_id.arbitrary(), repo=p.repo.arbitrary(),
        number=p.number.arbitrary(), asker=p.author.arbitrary(), asker_name=p.name.arbitrary(),
        started_at=p.at.min(), asked_at=p.at.min(where=p.is_q))
    nxt = ibis.window(group_by="thread", order_by="turn")
    turns = turns.mutate(answered_at=turns.started_at.lead().over(nxt),
                         answerer=turns.asker.lead().over(nxt),
                         answerer_name=turns.asker_name.lead().over(nxt))
    q = turns.filter(turns.asked_at.notnull())
    age = (ibis.null("float64") if as_of is None
           else seconds_between(ibis.literal(as_of).cast(_TS), q.asked_at))
    return q.select(
        "thread", "kind", "item_id", "repo", "number", "turn", "asker", "asker_name", "asked_at",
        "answered_at", "answerer", "answerer_name",
        answer_s=seconds_between(q.answered_at, q.asked_at),
        age_s=ibis.ifelse(q.answered_at.isnull(), age, ibis.null("float64")))


def has_threads(backend: ibis.BaseBackend) -> bool:
    """Whether the store could hold any thread: work items, or pull request data (stored pull
    requests, or a forge read that found none)."""
    sync = backend.table("sync_state")
    counts = (backend.table("work_items").count(), backend.table("pull_requests").count(),
              sync.filter(sync.resource == "pull_requests").count())
    return any(int(backend.to_pyarrow(n).as_py() or 0) > 0 for n in counts)


def item_threads(backend: ibis.BaseBackend) -> ir.Table:
    """``item_id``, ``thread``: an item's own thread and the threads of the pull requests of the
    changes linked to it."""
    wi = backend.table("work_items")
    own = wi.select(item_id=wi.id.cast("string"), thread=wi.id.cast("string"))
    links = backend.table("item_links").select("item_id", "repo", "change_id").distinct()
    ch = backend.table("changes").filter(ibis._.number.notnull()).select(
        "repo", "number", change_id=ibis._.id)
    j = links.join(ch, ["repo", "change_id"])
    return own.union(j.select(item_id=j.item_id.cast("string"),
                              thread=thread(j.repo, j.number).cast("string")), distinct=True)


def thread_teams(backend: ibis.BaseBackend, qs: ir.Table, item_team: ir.Table,
                 change_team: ir.Table) -> ir.Table:
    """``qs`` with ``team``: an item thread's item's team; a pull request's, its change's team
    (``change_team``: ``repo``, ``id``, ``team`` over the threads' ``OWNER/REPO#N``)."""
    # Joined by column name: ``change_team`` is often made from ``qs`` itself (a self-join).
    it = item_team.select("item_id", t_team=item_team.team)
    ct = change_team.select(thread=change_team.id, c_team=change_team.team)
    j = qs.left_join(it, "item_id").left_join(ct, "thread")
    j = j.mutate(team=ibis.ifelse(j.kind == ITEM, j.t_team, j.c_team))
    return j.select(*qs.columns, "team")


def waited(spans: ir.Table, key: str) -> ir.Table:
    """``key``, ``waited_s``: the time at least one question waited for its answer, from spans
    (``key``, ``start``, ``end``) already cut to the work; overlapping spans count once."""
    s = spans.filter(spans.end > spans.start)
    upto = ibis.window(group_by=key, order_by=["start", "end"], preceding=None, following=0)
    order = ibis.window(group_by=key, order_by=["start", "end"])
    # ``reach``: the latest end of every earlier span; a span starting after it opens an island.
    s = s.mutate(reach=s.end.max().over(upto))
    s = s.mutate(reach=s.reach.lag().over(order))
    s = s.mutate(new=(s.reach.isnull() | (s.start > s.reach)).cast("int64"))
    s = s.mutate(island=s.new.sum().over(upto))
    isl = s.group_by([key, "island"]).aggregate(a=s.start.min(), b=s.end.max())
    isl = isl.mutate(sec=seconds_between(isl.b, isl.a))
    return isl.group_by(key).aggregate(waited_s=isl.sec.sum())
