"""Clarification and decision latency: questions in item and pull request threads, how long they
waited for an answer, and how much of an item's work waited on them (`coordination.questions` in
the report; docs/metrics-coordination.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict

from leadlens.analysis.items_summary import delivered_items, has_items
from leadlens.analysis.waiting import WaitingCause
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED, Settings
from leadlens.conventions import BotRule
from leadlens.engines import one, rows
from leadlens.metrics import clarification as mc
from leadlens.metrics import flow as fm
from leadlens.metrics import questions as mq
from leadlens.metrics.items import ItemFlow, item_flow
from leadlens.metrics.teams import change_teams, item_teams

__all__ = ["NO_THREADS", "Answers", "Clarification", "Latency", "MonthLatency", "OpenQuestion",
           "PersonQuestions", "QuestionFigures", "TeamLatency", "question_change_flags",
           "questions_figures"]

NO_THREADS = ("no threads: git alone has no work item or pull request comments"
              " (`leadlens ingest github` or `leadlens ingest jira`)")
SIGNAL = "coordination.questions"
LONGEST = 10
_HOUR = 3600.0


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Latency(_Figure):
    """Decision latency of a set of questions: question → first answer by someone else."""

    questions: int  # asked
    answered: int
    open: int  # no answer yet (never counted as a zero answer time)
    median_s: float | None  # answer time of the answered ones
    p85_s: float | None


class TeamLatency(Latency):
    team: str | None


class MonthLatency(Latency):
    month: str  # YYYY-MM of the question


class OpenQuestion(_Figure):
    thread: str  # item id or OWNER/REPO#N
    kind: str  # item | pull_request
    team: str | None
    asked_at: datetime
    age_s: float  # as of the report's as_of
    asker: str | None  # only with per_person


class Answers(_Figure):
    questions: int
    answered: int
    median_s: float | None
    p85_s: float | None


class Clarification(_Figure):
    """Questions in the threads of the items whose work started in scope."""

    items: int  # items whose work started in the window (bots' left out unless include_bots)
    before: Answers  # questions asked before the item's work started, and their answer times
    after: Answers  # ... at or after it
    rounds: int  # questions followed by their answer (each item counts its own)
    rounds_per_item: float | None  # rounds / items
    items_with_rounds: int
    items_with_question_after: int
    share_with_question_after: float | None  # of items


class PersonQuestions(_Figure):
    person: str
    asked: int
    answered: int  # of the questions they asked
    median_answer_s: float | None  # how long their questions waited
    answers_given: int  # questions of others they answered first


class QuestionFigures(_Figure):
    """`coordination.questions` in the report (docs/report-json.md)."""

    reason: str | None  # why every figure is null (the store has no threads)
    null_reasons: dict[str, str]  # figure -> why it is null while others are not
    posts: int | None  # people's posts in scope
    threads: int | None  # threads with at least one of them
    decision_latency: Latency | None
    by_team: list[TeamLatency] | None
    by_month: list[MonthLatency] | None
    longest_open: list[OpenQuestion] | None  # oldest open questions in threads still open
    clarification: Clarification | None
    waiting: list[WaitingCause]  # "unanswered questions", per item and per change
    people: list[PersonQuestions] | None  # only with per_person


def _latency(t: ir.Table) -> dict[str, Any]:
    return {"questions": t.count(), "answered": t.answer_s.count(),
            "open": t.count(where=t.answered_at.isnull()),
            "median_s": t.answer_s.quantile(0.5), "p85_s": t.answer_s.quantile(0.85)}


def _ints(r: dict[str, Any], *names: str) -> dict[str, Any]:
    return {**r, **{n: int(r.get(n) or 0) for n in names}}


def _in_scope(backend: ibis.BaseBackend, t: ir.Table, at: str, filters: fm.Filters) -> ir.Table:
    """``t``'s rows in threads the report covers (bots' items and pull requests left out unless
    include_bots; GitHub threads of the named repositories) with ``at`` in the window."""
    if not filters.include_bots:
        wi = backend.table("work_items")
        pr = backend.table("pull_requests")
        bot_items = wi.filter(wi.bot).select(thread=wi.id.cast("string"))
        bot_prs = pr.filter(filters.bots.ibis(pr.author, pr.author_is_bot).fill_null(False))
        bot_prs = bot_prs.select(thread=mq.thread(bot_prs.repo, bot_prs.number).cast("string"))
        t = t.anti_join(bot_items.union(bot_prs), "thread")
    if filters.repos:
        t = t.filter(t.repo.isnull() | t.repo.isin(list(filters.repos)))
    if filters.since is not None:
        t = t.filter(t[at] >= filters.since)
    if filters.until is not None:
        t = t.filter(t[at] < filters.until)
    return t


def questions_figures(backend: ibis.BaseBackend, fl: fm.Flow, filters: fm.Filters,
                      settings: Settings, as_of: datetime, *, per_person: bool = False,
                      resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                      items: ItemFlow | None = None) -> QuestionFigures:
    """Decision latency (questions asked in the window), clarification (items whose work started
    in it) and the hours questions kept work waiting (items delivered, changes merged in it).
    ``resamples`` and ``seed`` are unused: no figure here compares cohorts."""
    del resamples, seed
    if not mq.has_threads(backend):
        return QuestionFigures(reason=NO_THREADS, null_reasons={}, posts=None, threads=None,
                               decision_latency=None, by_team=None, by_month=None,
                               longest_open=None, clarification=None, waiting=[], people=None)
    patterns = settings.coordination.question_patterns
    ps = mq.posts(backend, filters.bots, as_of)
    every = fl.cache(mq.questions(ps, patterns, as_of))
    nulls: dict[str, str] = {}
    scoped_posts = _in_scope(backend, ps, "at", filters)
    counted = one(backend, scoped_posts.aggregate(n=scoped_posts.count(),
                                                  threads=scoped_posts.thread.nunique()))
    qs = _in_scope(backend, every, "asked_at", filters)
    teams = settings.coordination.teams
    prs = qs.filter(qs.kind == mq.PULL_REQUEST).select("repo", id=qs.thread).distinct()
    qs = fl.cache(mq.thread_teams(backend, qs, item_teams(backend, teams),
                                  change_teams(prs, teams)))
    overall = Latency(**_ints(one(backend, qs.aggregate(**_latency(qs))),
                              "questions", "answered", "open"))
    if not overall.answered:
        nulls["decision_latency.median_s"] = nulls["decision_latency.p85_s"] = (
            "no question in scope was answered" if overall.questions
            else "no question in scope (people's posts matching question_patterns)")
    by_team = [TeamLatency(**_ints(r, "questions", "answered", "open")) for r in rows(
        backend, qs.group_by("team").aggregate(**_latency(qs)).order_by("team"))]
    monthly = qs.mutate(m=qs.asked_at.truncate("M"))
    by_month = [MonthLatency(**_ints({**r, "month": r["m"].strftime("%Y-%m")},
                                     "questions", "answered", "open"))
                for r in rows(backend, monthly.group_by("m").aggregate(
                    **_latency(monthly)).order_by("m"))]
    with_items = has_items(backend)
    clar, waiting = None, []
    if with_items:
        # One table per item (when its work started, when it was delivered): built once.
        ifl = items or item_flow(backend, filters)  # the report's own, when it has one
        st = mc.item_started(backend, ifl)
        dv = delivered_items(ifl, filters)
        timed = fl.cache(st.left_join(dv, st.item_id == dv.item_id).select(
            st.item_id, st.started_at, dv.delivered_at))
        started = timed.select("item_id", "started_at")
        clar = _clarification(backend, every, started, filters)
        done = timed.filter(timed.delivered_at.notnull()).select("item_id", "delivered_at")
        waiting = _item_waiting(backend, every, started, _window(done, "delivered_at", filters),
                                as_of)
    if clar is None:
        nulls["clarification"] = ("no work items: clarification is measured on items"
                                  if not with_items else "no item's work started in scope")
    return QuestionFigures(
        reason=None, null_reasons=nulls, posts=int(counted.get("n") or 0),
        threads=int(counted.get("threads") or 0), decision_latency=overall, by_team=by_team,
        by_month=by_month, longest_open=_longest(backend, qs, as_of, per_person),
        clarification=clar, waiting=[*waiting, *_change_waiting(backend, fl, every, as_of)],
        people=_people(backend, qs) if per_person else None)


def _longest(backend: ibis.BaseBackend, qs: ir.Table, as_of: datetime, per_person: bool
             ) -> list[OpenQuestion]:
    """The oldest open questions in threads still open at ``as_of`` (an item not resolved, a pull
    request not closed): a question left in a closed thread is no longer waiting for anyone."""
    now = ibis.literal(as_of)
    wi = backend.table("work_items")
    pr = backend.table("pull_requests")
    closed = wi.filter(wi.resolved_at.notnull() & (wi.resolved_at <= now)).select(
        thread=wi.id.cast("string"))
    closed_prs = pr.filter(pr.closed_at.notnull() & (pr.closed_at <= now))
    closed = closed.union(closed_prs.select(
        thread=mq.thread(closed_prs.repo, closed_prs.number).cast("string")))
    o = qs.filter(qs.answered_at.isnull()).anti_join(closed, "thread")
    o = o.order_by([ibis.desc("age_s"), "thread", "turn"]).limit(LONGEST)
    return [OpenQuestion(thread=r["thread"], kind=r["kind"], team=r["team"],
                         asked_at=r["asked_at"], age_s=float(r["age_s"]),
                         asker=r["asker_name"] if per_person else None)
            for r in rows(backend, o)]


def _answers(t: ir.Table) -> dict[str, Any]:
    return {"questions": t.count(), "answered": t.answer_s.count(),
            "median_s": t.answer_s.quantile(0.5), "p85_s": t.answer_s.quantile(0.85)}


def _window(t: ir.Table, at: str, filters: fm.Filters) -> ir.Table:
    """``t``'s rows with ``at`` in the report's window (whatever its repositories)."""
    return fm.Filters(since=filters.since, until=filters.until).window(t, at)


def _clarification(backend: ibis.BaseBackend, qs: ir.Table, started: ir.Table,
                   filters: fm.Filters) -> Clarification | None:
    wi = backend.table("work_items")
    scope = started.filter(started.started_at.notnull())
    if not filters.include_bots:
        scope = scope.semi_join(wi.filter(~wi.bot).select(item_id=wi.id), "item_id")
    scope = _window(scope, "started_at", filters)
    n = int(backend.to_pyarrow(scope.count()).as_py() or 0)
    if not n:
        return None
    iq = mc.item_questions(backend, qs, started).semi_join(scope.select("item_id"), "item_id")
    before, after = iq.filter(~iq.after), iq.filter(iq.after)
    b = _ints(one(backend, before.aggregate(**_answers(before))), "questions", "answered")
    a = _ints(one(backend, after.aggregate(**_answers(after))), "questions", "answered")
    per = iq.group_by("item_id").aggregate(rounds=iq.answer_s.count(),
                                           after=iq.after.any())
    got = _ints(one(backend, per.aggregate(
        rounds=per.rounds.sum(), with_rounds=per.count(where=per.rounds > 0),
        with_after=per.count(where=per.after))), "rounds", "with_rounds", "with_after")
    return Clarification(
        items=n, before=Answers(**b), after=Answers(**a), rounds=got["rounds"],
        rounds_per_item=got["rounds"] / n, items_with_rounds=got["with_rounds"],
        items_with_question_after=got["with_after"],
        share_with_question_after=got["with_after"] / n)


def _item_waiting(backend: ibis.BaseBackend, qs: ir.Table, started: ir.Table, done: ir.Table,
                  as_of: datetime) -> list[WaitingCause]:
    """"unanswered questions" per item delivered in the window (``done``: ``item_id``,
    ``delivered_at``): the time during its work (work started → delivered) when at least one
    question in its threads had no answer yet."""
    work = done.join(started, "item_id")
    work = work.filter(work.started_at.notnull()).select(
        "item_id", "started_at", ended_at=work.delivered_at)
    iq = mc.item_questions(backend, qs, started).select(
        "item_id", "thread", "turn", "asked_at", "answered_at").distinct()
    cause = _cause(backend, mc.wait_spans(iq, "item_id", work, as_of), work, "item_id", "item",
                   "items delivered in scope, from work started to delivered")
    return [cause] if cause is not None else []


def _change_waiting(backend: ibis.BaseBackend, fl: fm.Flow, qs: ir.Table, as_of: datetime
                    ) -> list[WaitingCause]:
    """The same per change with a lead time in scope whose threads are known (its repository has
    pull request data, or it serves an item), from its work started to its end milestone."""
    scope = fl.scope.select("repo", "id", "number", "cid")
    done = fl.spans.filter(fl.spans.done).select("cid", ended_at=fl.spans.last_at)
    ms = fl.milestones.filter(fl.milestones.name == "work_started")
    ws = ms.group_by("cid").aggregate(started_at=ms.at.min())
    links = backend.table("item_links").select("repo", id=ibis._.change_id)
    known = scope.semi_join(mc.pr_data_repos(backend), "repo").union(
        scope.semi_join(links, ["repo", "id"]), distinct=True)
    work = known.join(done, "cid").join(ws, "cid").select("id", "started_at", "ended_at")
    cq = mc.change_questions(backend, scope, qs).select(
        "id", "thread", "turn", "asked_at", "answered_at").distinct()
    cause = _cause(backend, mc.wait_spans(cq, "id", work, as_of), work, "id", "change",
                   "changes with a lead time and thread data, from work started to delivered")
    return [cause] if cause is not None else []


def _cause(backend: ibis.BaseBackend, spans: ir.Table, work: ir.Table, key: str, unit: str,
           over: str) -> WaitingCause | None:
    got = one(backend, work.aggregate(n=work.count()))
    units = int(got.get("n") or 0)
    if not units:
        return None
    w = mq.waited(spans, key)
    total = float(backend.to_pyarrow(w.waited_s.sum()).as_py() or 0.0)
    return WaitingCause(cause="unanswered questions", signal=SIGNAL, unit=unit, units=units,
                        hours_per_unit=total / units / _HOUR,
                        detail=f"time at least one question waited for an answer, over {over}")


def _people(backend: ibis.BaseBackend, qs: ir.Table) -> list[PersonQuestions]:
    asked = {r["asker"]: r for r in rows(backend, qs.group_by("asker").aggregate(
        name=qs.asker_name.arbitrary(), asked=qs.count(), answered=qs.answer_s.count(),
        median=qs.answer_s.quantile(0.5)))}
    a = qs.filter(qs.answerer.notnull())
    given = {r["answerer"]: r for r in rows(backend, a.group_by("answerer").aggregate(
        name=a.answerer_name.arbitrary(), n=a.count()))}
    out = []
    for who in set(asked) | set(given):
        r, g = asked.get(who, {}), given.get(who, {})
        out.append(PersonQuestions(
            person=str(r.get("name") or g.get("name") or who), asked=int(r.get("asked") or 0),
            answered=int(r.get("answered") or 0), median_answer_s=r.get("median"),
            answers_given=int(g.get("n") or 0)))
    return sorted(out, key=lambda p: (-p.asked, -p.answers_given, p.person))


def question_change_flags(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings
                          ) -> ir.Table:
    """``repo``, ``id``, ``clarified``, ``questions`` per change of ``fl``'s scope (NULL: the
    change has no thread data), for cohorts and strata (metrics/clarification.change_flags)."""
    return mc.change_flags(backend, fl, BotRule.of(settings.bots),
                           settings.coordination.question_patterns)
