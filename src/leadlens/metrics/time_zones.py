"""Time zones around reviews: each person's usual UTC offset per quarter, the author-reviewer
distance of every review, pickup and review round trips, and working hours from activity
(docs/metrics-coordination.md, "Time zones").

People are GitHub logins. A login's commits are the commits whose author e-mail a pull request's
commit links to that login (``pr_commits.author_login``); their ``author_tz_offset_min`` is where
the time zone comes from. A login without such commits has an unknown offset, never UTC. Bots and
AI reviewers (``BotRule``) are never people here.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from leadlens.config import Settings
from leadlens.conventions import BotRule
from leadlens.metrics import flow as fm

__all__ = ["BUCKETS", "CROSS_TZ_H", "UNKNOWN", "WORKING_SHARE", "bucket", "change_waits",
           "distance_h", "first_reviews", "offset_at", "offsets", "outside_hours", "people",
           "person_commits", "reviews", "round_trips", "team_figures", "time_zone_change_flags",
           "working_hours"]

# Distance buckets on fractional hours: [0, 2.5) "0-2 h", [2.5, 5.5) "3-5 h", [5.5, 8.5) "6-8 h",
# else "9+ h" (offsets such as +05:30 fall where their rounded hours would).
BUCKETS = ("0-2 h", "3-5 h", "6-8 h", "9+ h")
UNKNOWN = "unknown"
CROSS_TZ_H = 5.5  # a distance in the 6-8 h bucket or beyond is "across time zones"
WORKING_SHARE = 0.8  # working hours: the fewest hours of the day holding 80% of the activity

_EPOCH = ibis.literal(datetime(1970, 1, 1))  # UTC, as every clock below (_utc)
_MS_PER_H = 3_600_000
_ASKED = ("CHANGES_REQUESTED", "COMMENTED")  # reviews that wait for the author's answer


def _utc(ts: ir.TimestampValue) -> ir.TimestampValue:
    """``ts`` as a plain UTC clock (the store's session time zone is UTC): date arithmetic on it is
    DuckDB's plain arithmetic, where on a time-zone-aware timestamp it goes through ICU's calendar
    at several times the cost (the same milliseconds, years and quarters)."""
    return ts.cast("timestamp")


def _ms(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.IntegerValue:
    """Milliseconds from ``earlier`` to ``later``."""
    return _utc(later).delta(_utc(earlier), unit="millisecond")


def _hours(ts: ir.TimestampValue) -> ir.FloatingValue:
    """Hours since the epoch (fractional): durations and local clocks are differences of these."""
    return _utc(ts).delta(_EPOCH, unit="millisecond") / _MS_PER_H


def _loose(t: ir.Table) -> ir.Table:
    """``t`` with every column nullable: unions need equal schemas, NOT NULL included."""
    return t.cast({k: v.copy(nullable=True) for k, v in t.schema().items()})


def _quarter(ts: ir.TimestampValue) -> ir.IntegerValue:
    """A calendar quarter (UTC) as one integer: year * 4 + quarter - 1."""
    u = _utc(ts)
    return u.year() * 4 + u.quarter() - 1


def _person(rule: BotRule, login: ir.StringValue, flag: ir.BooleanValue | None = None
            ) -> ir.BooleanValue:
    """``login`` is a person: neither an automation bot nor an AI coding agent or reviewer."""
    return login.notnull() & ~rule.ibis(login, flag).fill_null(False) & ~rule.ai_ibis(login)


def _by_people(backend: ibis.BaseBackend, rule: BotRule, t: ir.Table, login: str, flag: str
               ) -> ir.Table:
    """The rows of ``t`` whose ``login`` (with its bot ``flag``) is a person (``_person``). The
    rule's patterns run on the distinct logins and flags of reviews and comments (hundreds), not
    on every row (a million): the same rows, a fraction of the regular-expression work."""
    r, c = backend.table("reviews"), backend.table("comments")
    k = (r.select(_l=r.reviewer, _f=r.reviewer_is_bot).distinct()
         .union(c.select(_l=c.author, _f=c.author_is_bot).distinct()))
    k = k.filter(_person(rule, k._l, k._f))
    return t.semi_join(k, [t[login] == k._l, t[flag].identical_to(k._f)])


def person_commits(backend: ibis.BaseBackend, rule: BotRule) -> ir.Table:
    """``login``, ``at``, ``offset_min``: every commit with a known offset of an e-mail a pull
    request's commit links to a login (the login that most often links it; ties by name)."""
    pc = backend.table("pr_commits")
    c = backend.table("commits")
    linked = pc.filter(pc.author_login.notnull()).join(c, ["repo", "sha"])
    linked = linked.filter(linked.author_email.notnull())
    votes = linked.group_by([linked.author_email, linked.author_login]).aggregate(n=ibis._.count())
    w = ibis.window(group_by="author_email", order_by=[ibis.desc("n"), "author_login"])
    emails = votes.mutate(k=ibis.row_number().over(w)).filter(ibis._.k == 0)
    emails = emails.filter(_person(rule, emails.author_login))
    known = c.filter(c.author_tz_offset_min.notnull())
    j = known.join(emails, known.author_email == emails.author_email)
    return j.select(login=j.author_login, at=j.author_time,
                    offset_min=j.author_tz_offset_min.cast("int32"))


def offsets(commits: ir.Table) -> ir.Table:
    """``login``, ``quarter``, ``offset_min``, ``commits``: each person's usual offset per calendar
    quarter, the mode of their commits' offsets (ties: the offset of their latest commit)."""
    q = commits.mutate(quarter=_quarter(commits.at))
    per = q.group_by(["login", "quarter", "offset_min"]).aggregate(n=ibis._.count(),
                                                                   last=ibis._.at.max())
    w = ibis.window(group_by=["login", "quarter"],
                    order_by=[ibis.desc("n"), ibis.desc("last"), "offset_min"])
    tot = ibis.window(group_by=["login", "quarter"])
    ranked = per.mutate(k=ibis.row_number().over(w), commits=per.n.sum().over(tot))
    return ranked.filter(ranked.k == 0).select("login", "quarter", "offset_min", "commits")


def offset_at(events: ir.Table, offs: ir.Table, login: str, at: str, name: str) -> ir.Table:
    """``events`` plus ``name``: the offset of ``events[login]`` at ``events[at]`` — their
    quarter's, else the latest earlier quarter's, else the earliest later one's; NULL for a person
    without commits."""
    q = f"_{name}_q"
    e = events.mutate(**{q: _quarter(events[at])})
    asked = e.select(who=e[login], q=e[q]).distinct()
    j = asked.join(offs, asked.who == offs.login)
    after = j.quarter > j.q
    rank = ibis.ifelse(after, 1_000_000 + j.quarter - j.q, j.q - j.quarter)
    best = j.group_by(["who", "q"]).aggregate(**{name: j.offset_min.argmin(rank)})
    out = e.left_join(best, (e[login] == best.who) & (e[q] == best.q))
    return out.drop(q, *[c for c in ("who", "q") if c in out.columns and c not in events.columns])


def distance_h(a: ir.IntegerValue, b: ir.IntegerValue) -> ir.FloatingValue:
    """The circular distance of two UTC offsets (minutes) in hours: 0 to 12; NULL if either is."""
    d = (a - b).abs()
    return ibis.least(d, 1440 - d) / 60.0


def bucket(d: ir.FloatingValue) -> ir.StringValue:
    return (ibis.cases((d.isnull(), UNKNOWN), (d < 2.5, BUCKETS[0]), (d < 5.5, BUCKETS[1]),
                       (d < 8.5, BUCKETS[2]), else_=BUCKETS[3]))


def _prs(backend: ibis.BaseBackend, scope: ir.Table) -> ir.Table:
    """Merged pull requests of the changes of ``scope``: repo, id, number, author, ready_at,
    merged_at (ready: the first ready_for_review event of a PR opened as a draft, else opened)."""
    p = backend.table("pull_requests")
    e = backend.table("pr_events")
    ev = e.group_by(["repo", "number"]).aggregate(
        first_ready=e["at"].min(where=e.event == "ready_for_review"),
        first_draft=e["at"].min(where=e.event == "convert_to_draft"))
    s = scope.filter(scope.number.notnull()).select("repo", "id", "number")
    j = s.join(p.filter(p.merged_at.notnull()), ["repo", "number"]).left_join(
        ev, ["repo", "number"])
    drafted = j.first_ready.notnull() & (j.first_draft.isnull() | (j.first_ready < j.first_draft))
    return j.select(j.repo, j.id, j.number, j.author, j.merged_at,
                    ready_at=ibis.ifelse(drafted, j.first_ready, j.created_at))


def _reviews(backend: ibis.BaseBackend, prs: ir.Table, rule: BotRule) -> ir.Table:
    """Reviews by people other than the PR's author, up to its merge: repo, id, number, author,
    ready_at, reviewer, at, state."""
    r = backend.table("reviews")
    r = _by_people(backend, rule, r.filter(r.submitted_at.notnull() & (r.state != "PENDING")),
                   "reviewer", "reviewer_is_bot")
    j = prs.join(r, ["repo", "number"])
    j = j.filter((j.reviewer != j.author.fill_null("")) & (j.submitted_at <= j.merged_at))
    return j.select("repo", "id", "number", "author", "ready_at", "reviewer", "state",
                    at=j.submitted_at)


def _with_distance(t: ir.Table, offs: ir.Table, at: str) -> ir.Table:
    t = offset_at(offset_at(t, offs, "author", at, "author_offset_min"), offs, "reviewer", at,
                  "reviewer_offset_min")
    d = distance_h(t.author_offset_min, t.reviewer_offset_min)
    return t.mutate(distance_h=d, bucket=bucket(d))


def reviews(backend: ibis.BaseBackend, scope: ir.Table, rule: BotRule) -> ir.Table:
    """Reviews by people other than the author of the merged PRs of ``scope``, up to the merge:
    repo, id, number, author, ready_at, reviewer, state, at (what ``first_reviews`` and
    ``round_trips`` start from: materialise it once when both run)."""
    return _reviews(backend, _prs(backend, scope), rule)


def first_reviews(backend: ibis.BaseBackend, scope: ir.Table, offs: ir.Table, rule: BotRule,
                  rv: ir.Table | None = None) -> ir.Table:
    """Each person's first review of each merged PR of ``scope``: repo, id, number, author,
    reviewer, ready_at, at, pickup_h (ready → that review, 0 when it came first), author and
    reviewer offsets at the review, distance_h, bucket. ``rv``: ``reviews(backend, scope, rule)``
    if already at hand."""
    rv = reviews(backend, scope, rule) if rv is None else rv
    first = rv.group_by(["repo", "id", "number", "author", "ready_at", "reviewer"]).aggregate(
        at=rv["at"].min())
    pickup = _ms(first["at"], first.ready_at) / _MS_PER_H
    first = first.mutate(pickup_h=ibis.greatest(pickup, 0.0))
    return _with_distance(first, offs, "at")


def round_trips(backend: ibis.BaseBackend, scope: ir.Table, offs: ir.Table, rule: BotRule,
                rv: ir.Table | None = None) -> ir.Table:
    """Review round trips: a person's review that requests changes or comments (``asked_at``), the
    author's next answer (a commit on the PR by anyone but that reviewer, or the author's own
    comment or review: ``answered_at``)
    and that reviewer's next review (``at``), when it comes after the answer (a review before any
    answer starts a round of its own instead). repo, id, number, reviewer, asked_at, answered_at,
    at, round_trip_h, offsets, distance_h (at ``asked_at``), bucket. ``rv``: as for
    ``first_reviews``."""
    rv = reviews(backend, scope, rule) if rv is None else rv
    asked = rv.filter(rv.state.isin(_ASKED)).select(
        "repo", "id", "number", "author", "reviewer", asked_at=rv["at"])
    # Answers: a commit on the PR by anyone but the reviewer (or by nobody GitHub could name),
    # or the author's own comment or review.
    pc = backend.table("pr_commits")
    commits = pc.filter(pc.committer_time.notnull()).select(
        "repo", "number", who=pc.author_login, at=pc.committer_time, own=ibis.literal(False))
    r, c = backend.table("reviews"), backend.table("comments")
    own_r = r.filter(r.submitted_at.notnull()).select(
        "repo", "number", who=r.reviewer, at=r.submitted_at)
    own_c = c.filter(c.number.notnull()).select("repo", "number", who=c.author, at=c.created_at)
    own = _loose(own_r).union(_loose(own_c))
    # Only PRs with a review can have a round trip: their authors are those of ``rv``.
    own = own.join(rv.select("repo", "number", "author").distinct(), ["repo", "number"])
    own = own.filter(own.who == own.author).select("repo", "number", "who", "at",
                                                    own=ibis.literal(True))
    answers = _loose(commits).union(_loose(own))
    a = asked.join(answers, ["repo", "number"])
    a = a.filter((a["at"] > a.asked_at)
                 & (a.own | a.who.isnull() | (a.who != a.reviewer)).fill_null(False))
    answered = a.group_by(["repo", "number", "reviewer", "asked_at"]).aggregate(
        answered_at=a["at"].min())
    n = asked.join(rv.select("repo", "number", "reviewer", next_at=rv["at"]),
                   ["repo", "number", "reviewer"])
    n = n.filter(n.next_at > n.asked_at)
    nxt = n.group_by(["repo", "number", "reviewer", "asked_at"]).aggregate(at=n.next_at.min())
    keys = ["repo", "number", "reviewer", "asked_at"]
    j = asked.join(answered, keys).join(nxt, keys)
    j = j.filter(j.answered_at < j["at"])
    trips = j.select("repo", "id", "number", "author", "reviewer", "asked_at", "answered_at", "at",
                     round_trip_h=_ms(j["at"], j.asked_at) / _MS_PER_H)
    return _with_distance(trips, offs, "asked_at")


def working_hours(backend: ibis.BaseBackend, commits: ir.Table, offs: ir.Table, rule: BotRule
                  ) -> ir.Table:
    """``login``, ``hour`` (0-23, local), ``activity``, ``working``, ``below``, ``size`` for every
    person with a known offset: their commits, reviews and comments by local hour of day (a
    commit's own offset; a review's or comment's the person's offset then). Working hours: the
    fewest hours holding ``WORKING_SHARE`` of the activity (most active first, ties the earlier
    hour); ``below``: working hours before ``hour``; ``size``: how many working hours."""
    r, c = backend.table("reviews"), backend.table("comments")
    acts = (_by_people(backend, rule, r.filter(r.submitted_at.notnull()), "reviewer",
                       "reviewer_is_bot")
            .select(login=ibis._.reviewer, at=ibis._.submitted_at).pipe(_loose)
            .union(_by_people(backend, rule, c, "author", "author_is_bot")
                   .select(login=ibis._.author, at=ibis._.created_at).pipe(_loose)))
    acts = offset_at(acts, offs, "login", "at", "offset_min")
    acts = acts.filter(acts.offset_min.notnull()).select("login", "at", "offset_min")
    every = _loose(commits.select("login", "at", "offset_min")).union(
        _loose(acts.mutate(offset_min=acts.offset_min.cast("int32"))))
    local = _hours(every["at"]) + every.offset_min / 60.0
    hour = (local - (local / 24).floor() * 24).floor().cast("int32")
    hist = every.mutate(hour=hour).group_by(["login", "hour"]).aggregate(activity=ibis._.count())
    w = ibis.window(group_by="login", order_by=[ibis.desc("activity"), "hour"],
                    preceding=None, following=0)
    hist = hist.mutate(before=hist.activity.sum().over(w) - hist.activity,
                       total=hist.activity.sum().over(ibis.window(group_by="login")))
    hist = hist.mutate(working=hist.before < hist.total * WORKING_SHARE)
    hours = ibis.memtable({"hour": list(range(24))}, schema={"hour": "int32"})
    grid = hist.select("login").distinct().cross_join(hours)
    g = grid.left_join(hist, ["login", "hour"])
    g = g.select(grid.login, grid.hour, activity=g.activity.fill_null(0),
                 working=g.working.fill_null(False))
    up = ibis.window(group_by="login", order_by="hour", preceding=None, following=0)
    flag = g.working.cast("int32")
    return g.mutate(below=flag.sum().over(up) - flag,
                    size=flag.sum().over(ibis.window(group_by="login")))


def outside_hours(reviews: ir.Table, wh: ir.Table) -> ir.Table:
    """``reviews`` (first reviews) plus ``outside_h``: the part of each pickup (ready → review)
    that fell outside the reviewer's working hours (NULL when their offset is unknown).

    One pass: each review looks its two clock hours up in ``wh`` (left joins on login and hour,
    one row each), so ``reviews`` is read once, not once per side and again to join back."""
    def clock(t: ir.Table, at: str) -> tuple[ir.FloatingValue, ir.FloatingValue]:
        local = _hours(t[at]) + t.reviewer_offset_min / 60.0
        return local, local - (local / 24).floor() * 24  # hours since the epoch, of the day

    t = reviews
    s, sd = clock(t, "ready_at")
    e, ed = clock(t, "at")
    k = t.mutate(_s=s, _sd=sd, _sh=sd.floor().cast("int32"), _e=e, _ed=ed,
                 _eh=ed.floor().cast("int32"))
    ws = wh.select(_sl=wh.login, _sh=wh.hour, _s_size=wh.size, _s_below=wh.below,
                   _s_working=wh.working)
    we = wh.select(_el=wh.login, _eh=wh.hour, _e_size=wh.size, _e_below=wh.below,
                   _e_working=wh.working)
    j = k.left_join(ws, (k.reviewer == ws._sl) & (k._sh == ws._sh)).left_join(
        we, (k.reviewer == we._el) & (k._eh == we._eh))

    # Working hours from the epoch to a local time: whole days, then the day's working hours
    # before its hour, then the part of that hour gone if it is a working hour.
    def worked(side: str) -> ir.FloatingValue:
        size, below, working = (j[f"_{side}_{c}"] for c in ("size", "below", "working"))
        return (size * (j[f"_{side}"] / 24).floor() + below
                + ibis.ifelse(working, j[f"_{side}d"] - j[f"_{side}h"], 0.0))

    known = j.reviewer_offset_min.notnull()
    timed = known & (j.pickup_h > 0) & j._sl.notnull() & j._el.notnull()
    outside = ibis.greatest(j.pickup_h - (worked("e") - worked("s")), 0.0)
    zero = known & (j.pickup_h <= 0)
    return j.select(*t.columns, outside_h=ibis.ifelse(
        zero, 0.0, ibis.ifelse(timed, outside, ibis.null("float64"))))


def people(first: ir.Table) -> ir.Table:
    """``people``, ``unknown_offset``: the PR authors and reviewers of ``first`` (first reviews),
    and of them those whose offset was never known."""
    both = _loose(first.select(login=first.author, known=first.author_offset_min.notnull())).union(
        _loose(first.select(login=first.reviewer, known=first.reviewer_offset_min.notnull())))
    who = both.filter(both.login.notnull()).group_by("login").aggregate(known=both.known.any())
    return who.aggregate(people=who.count(), unknown_offset=who.count(where=~who.known))


def change_waits(first: ir.Table) -> ir.Table:
    """``changes``, ``waited_h``: over the changes whose first review by a person (ties: by
    reviewer) has a known distance, how many, and the mean of that pickup's hours outside its
    reviewer's working hours."""
    w = ibis.window(group_by=["repo", "id"], order_by=["at", "reviewer"])
    f = first.mutate(k=ibis.row_number().over(w))
    f = f.filter((f.k == 0) & (f.bucket != UNKNOWN) & f.outside_h.notnull())
    return f.aggregate(changes=f.count(), waited_h=f.outside_h.mean())


def team_figures(first: ir.Table, teams: ir.Table) -> ir.Table:
    """Per team (``teams``: repo, id, team): reviews, known_distance, cross_tz, pickup_median_h,
    outside_h and timed_pickup_h (pickup hours of reviews whose outside part is known)."""
    j = first.join(teams, ["repo", "id"])
    return j.group_by("team").aggregate(
        reviews=j.count(), known_distance=j.count(where=j.bucket != UNKNOWN),
        cross_tz=j.count(where=j.bucket.isin(list(BUCKETS[2:]))),
        pickup_median_h=j.pickup_h.quantile(0.5), outside_h=j.outside_h.sum(),
        timed_pickup_h=j.pickup_h.sum(where=j.outside_h.notnull())).order_by("team")


def time_zone_change_flags(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings
                           ) -> ir.Table:
    """``repo``, ``id``, ``tz_distance_h`` (the largest author-reviewer distance of the change's
    reviews, NULL when none is known), ``cross_tz`` (that distance is 6 h or more — the 6-8 h
    bucket or beyond — NULL when unknown) for every change of ``fl``'s scope."""
    rule = BotRule.of(settings.bots)
    offs = offsets(person_commits(backend, rule))
    fr = first_reviews(backend, fl.scope, offs, rule)
    d = fr.group_by(["repo", "id"]).aggregate(tz_distance_h=fr.distance_h.max())
    s = fl.scope.select("repo", "id")
    j = s.left_join(d, ["repo", "id"])
    return j.select(s.repo, s.id, j.tz_distance_h,
                    cross_tz=ibis.ifelse(j.tz_distance_h.isnull(), ibis.null("boolean"),
                                         j.tz_distance_h >= CROSS_TZ_H))
