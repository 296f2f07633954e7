"""Flow metrics as Ibis expressions over the store: scope, timeline, lead time, stages, sizes, reverts.

Each function returns an expression; ``leadlens.analysis.flow_summary`` executes them. Nothing here touches
a connection's SQL directly, so the same expressions run on every Ibis backend (DESIGN.md, Engines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis import _

from leadlens.conventions import BotRule
from leadlens.engines import Materialiser, timed
from leadlens.metrics.activity import islands
from leadlens.timeline import (
    DEFAULT_ACTIVITY_WINDOW,
    active_split,
    change_spans,
    clamped_milestones,
    seconds_between,
    segments,
    stage_pairs,
)

__all__ = [
    "SIZE_BUCKETS", "Filters", "Flow",
    "deliveries", "distribution", "flow", "plausible_milestones", "size_bucket",
]

# Upper bounds (exclusive) in changed lines; anything larger is XL.
SIZE_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("XS", 10), ("S", 50), ("M", 250), ("L", 1000), ("XL", None))


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None  # on merged, inclusive
    until: datetime | None = None  # on merged, exclusive
    repos: tuple[str, ...] = ()
    include_bots: bool = False
    bots: BotRule = field(default_factory=BotRule)
    activity_window: timedelta = DEFAULT_ACTIVITY_WINDOW

    def window(self, t: ir.Table, at: str) -> ir.Table:
        """``t``'s rows in scope: ``at`` in ``[since, until)``, of the named repositories."""
        if self.since is not None:
            t = t.filter(t[at] >= self.since)
        if self.until is not None:
            t = t.filter(t[at] < self.until)
        if self.repos:
            t = t.filter(t.repo.isin(list(self.repos)))
        return t


def distribution(col: ir.NumericColumn) -> dict[str, ir.Scalar]:
    """n, median, p85, p95 and mean of ``col`` (exact quantiles, linear interpolation)."""
    return {"n": col.count(), "median_s": col.quantile(0.5), "p85_s": col.quantile(0.85),
            "p95_s": col.quantile(0.95), "mean_s": col.mean()}


def size_bucket(lines: ir.IntegerValue) -> ir.StringValue:
    cases = [(lines < bound, name) for name, bound in SIZE_BUCKETS if bound is not None]
    return ibis.cases(*cases, else_=SIZE_BUCKETS[-1][0])


@dataclass
class Flow:
    """The expressions of one report, built once over one scope."""

    scope: ir.Table  # changes in scope: repo, id, title, number, merge_sha, lines, files, ...
    bots: ir.Table  # bot changes left out (empty when include_bots)
    ends: ir.Table  # repo, end (released | merged)
    spans: ir.Table  # per change: first_at, last_at, done, lead_time_s, elapsed_s, ...
    segments: ir.Table  # per change and stage, with active_s / waiting_s, done and month
    milestones: ir.Table  # of changes in scope, plausible ones only
    left_out: ir.Table  # what the figures leave out and why: repo, id, name, why (see flow())
    materialised: Materialiser
    _once: dict[str, ir.Table] = field(default_factory=dict)

    def cache(self, expr: ir.Table) -> ir.Table:
        return self.materialised(expr)

    def upload(self, table: pa.Table) -> ir.Table:
        """``table`` as a temporary table of this report's backend (dropped by ``release``)."""
        return self.materialised.upload(table)

    def once(self, key: str, build: Callable[[], ir.Table]) -> ir.Table:
        """``build()`` materialised the first time ``key`` is asked for; the same table after."""
        if key not in self._once:
            self._once[key] = self.cache(build())
        return self._once[key]

    def release(self) -> None:
        self.materialised.release()
        self._once.clear()


def _bot_flags(changes: ir.Table, f: Filters) -> ir.Table:
    people = changes.select("repo", "id", who=changes.authors.unnest())
    all_bots = people.group_by(["repo", "id"]).aggregate(all_bots=f.bots.ibis(people.who).all())
    c = changes.left_join(all_bots, ["repo", "id"]).select(changes, all_bots=all_bots.all_bots)
    author_bot = f.bots.ibis(c.author).fill_null(False)
    return c.mutate(is_bot=author_bot | c.all_bots.fill_null(False)).drop("all_bots")


CID = ("cid",)  # the integer key the report numbers changes in scope with: cheap to sort on


def plausible_milestones(backend: ibis.BaseBackend) -> ir.Table:
    """The milestones figures may use: one whose time comes from an implausible date (before 1990,
    in the future) is left out, and counted (``Flow.left_out``)."""
    ms = backend.table("milestones")
    return ms.filter(~ms.flagged)


def _left_out(changes: ir.Table, every: ir.Table, merged: ir.Table, cut: ir.Table,
              keys: ir.Table, f: Filters) -> ir.Table:
    """What the figures leave out, one row each (``why``): ``undated``, a change with no plausible
    merge date (implausible or unreadable: it belongs to no week, month or date window, so it is
    counted whatever the window); ``shallow_cut``, a change in the window whose history a shallow
    clone cuts; ``implausible``, a milestone (``name``) of a change in scope."""
    listed = changes.filter(changes.repo.isin(list(f.repos))) if f.repos else changes
    undated = listed.anti_join(merged, ["repo", "id"]).select(
        "repo", "id", name=ibis.literal("merged"), why=ibis.literal("undated"))
    cut = cut.select("repo", "id", name=ibis.literal(None, "string"),
                     why=ibis.literal("shallow_cut"))
    flagged = every.filter(every.flagged).join(keys.select("change_id"), "change_id")
    flagged = flagged.select("repo", id=flagged.change_id, name=flagged.name,
                             why=ibis.literal("implausible"))
    return undated.union(cut).union(flagged)


def _changes(backend: ibis.BaseBackend, f: Filters) -> tuple[ir.Table, ir.Table, ir.Table]:
    """Changes with a plausible merge in ``f``'s window and repositories, bot-flagged, with their
    lines; the ones a shallow clone cuts; and the plausible ``merged`` milestones."""
    ms = plausible_milestones(backend)
    merged = ms.filter(ms.name == "merged").select("repo", id=ms.change_id, merged_at=ms.at)
    c = f.window(backend.table("changes").join(merged, ["repo", "id"]), "merged_at")
    # A change whose history a shallow clone cuts claims commits earlier changes own: no figure
    # can use it (counted in left_out).
    cut = c.filter(c.shallow_cut)
    c = c.filter(~c.shallow_cut)
    c = _bot_flags(c, f).mutate(lines=(_.lines_added.fill_null(0) + _.lines_deleted.fill_null(0)))
    return c, cut, merged


def _ends(backend: ibis.BaseBackend) -> ir.Table:
    """Per repository, the milestone lead time ends at: ``released``, or ``merged`` when the
    repository has no release signal at all (DESIGN.md, Lead time)."""
    ms = plausible_milestones(backend)
    released = ms.filter(ms.name == "released").select("repo").distinct().mutate(has_release=True)
    repos = backend.table("changes").select("repo").distinct()
    return repos.left_join(released, "repo").select(
        repos.repo, end=ibis.ifelse(released.has_release.fill_null(False), "released", "merged"))


def flow(backend: ibis.BaseBackend, f: Filters) -> Flow:
    """Build the scope and the timeline expressions; cache the ones several metrics reuse."""
    changes = backend.table("changes")
    every = backend.table("milestones")
    ms = plausible_milestones(backend)
    c, cut, merged = _changes(backend, f)
    cache = Materialiser(backend)
    numbered = ibis.window(order_by=[c.merged_at, c.repo, c.id])  # deterministic, merge order
    with timed("scope"):
        c = cache(c.mutate(size=size_bucket(c.lines), cid=ibis.row_number().over(numbered)))
    if f.include_bots:
        scope, bots = c, c.filter(ibis.literal(False))
    else:
        scope, bots = c.filter(~c.is_bot), c.filter(c.is_bot)
    ends = _ends(backend)
    keys = scope.join(ends, "repo").select("cid", "repo", "end", change_id=scope.id)
    with timed("milestones"):
        # Keyed by cid alone: the repository and change id (long strings, millions of rows) come
        # from the scope when a figure asks for them.
        scoped = cache(ms.join(keys.drop("repo"), "change_id").select(
            "cid", "name", "at", "proxy", "end"))
        ids = scope.select("cid", "repo", change_id=scope.id)
        scoped_ms = scoped.join(ids, "cid").select(
            "cid", "repo", "change_id", "name", "at", "proxy", "end")
        clamped = cache(clamped_milestones(scoped.select("cid", "name", "at", "end"), CID))
        spans = cache(change_spans(clamped, CID))
    # Who acted when: the author and committer times of the change's commits, as islands derive
    # stored (metrics/activity.py), and the forge's activity.
    # A change id names its repository (OWNER/REPO#N, OWNER/REPO@sha): one key column suffices.
    with timed("islands"):
        isl = cache(islands(backend, keys, scope.select("cid", "repo", "number"), f.bots,
                            f.activity_window, cache, CID))
    with timed("segments"):
        # With whether the change has a lead time and the month of its merge: the figures over
        # done changes filter these rows instead of holding a second copy.
        segs = active_split(segments(clamped, CID), isl, CID)
        more = spans.select("cid", "done").join(
            scope.select("cid", month=scope.merged_at.truncate("M")), "cid")
        segs = cache(segs.left_join(more, "cid").select(
            segs, done=more.done.fill_null(False), month=more.month))
    # The clamped milestones and the islands made the spans and segments and nothing else: at a
    # million changes they hold some 300 MB that DuckDB would otherwise spill to disk.
    cache.drop(clamped, isl)
    with timed("left_out"):
        left_out = cache(_left_out(changes, every, merged.select("repo", "id"), cut, keys, f))
    return Flow(scope, bots, ends, spans, segs, scoped_ms, left_out, cache)


def deliveries(backend: ibis.BaseBackend, f: Filters, fl: Flow | None = None) -> ir.Table:
    """Per change with a lead time in ``f``'s repositories and bot scope, whatever ``f``'s dates
    (the trend has windows of its own): repo, change_id, ``end`` (released | merged),
    ``delivered_at`` (its end milestone, clamped as the lead time clamps it) and ``lead_time_s``:
    the timeline :func:`flow` builds, from the same milestones and the same clamping. ``fl``, the
    flow of ``f`` when the caller has it, is read instead when ``f`` has no dates."""
    if fl is not None and f.since is None and f.until is None:
        done = fl.spans.filter(fl.spans.done)
        done = done.join(fl.scope.select("cid", "repo", change_id=fl.scope.id), "cid").join(
            fl.ends, "repo")
        return done.select("repo", "change_id", "end", delivered_at=done.last_at,
                           lead_time_s=done.lead_time_s)
    c, _, _ = _changes(backend, replace(f, since=None, until=None))
    if not f.include_bots:
        c = c.filter(~c.is_bot)
    keys = c.join(_ends(backend), "repo").select("repo", "end", change_id=c.id)
    ms = plausible_milestones(backend)
    key = ("change_id",)
    spans = change_spans(clamped_milestones(
        ms.join(keys.drop("repo"), "change_id").select("change_id", "name", "at", "end"), key), key)
    done = spans.filter(spans.done)
    done = done.join(keys, "change_id")
    return done.select("repo", "change_id", "end", delivered_at=done.last_at,
                       lead_time_s=done.lead_time_s)


def done_segments(fl: Flow) -> ir.Table:
    """Segments of changes that have a lead time, with the month of their merge."""
    seg = fl.segments.filter(fl.segments.done)
    return seg.select("cid", "stage", "seconds", "active_s", "waiting_s", "month")


def lead_times(fl: Flow) -> ir.Table:
    """Per change with a lead time: repo, id, lead_time_s, month, size, lines, files, merged_at."""
    s = fl.spans.filter(fl.spans.done)
    j = s.join(fl.scope, "cid")
    return j.select(j.repo, j.id, lead_time_s=j.lead_time_s, month=j.merged_at.truncate("M"),
                    size=j.size, lines=j.lines, files=j.files, merged_at=j.merged_at)


def stage_totals(d: ir.Table) -> ir.Table:
    """Per stage over ``done_segments``: total, median, active, waiting, changes."""
    return d.group_by("stage").aggregate(
        total_s=d.seconds.sum(), median_s=d.seconds.quantile(0.5), active_s=d.active_s.sum(),
        waiting_s=d.waiting_s.sum(), changes_with_stage=d.cid.count())


def month_stage_totals(d: ir.Table) -> ir.Table:
    """Per month of merge and stage over ``done_segments``: total seconds."""
    return d.group_by(["month", "stage"]).aggregate(total_s=d.seconds.sum())


def in_flight(fl: Flow, as_of: datetime) -> ir.Table:
    """Changes without their end milestone: age since the first milestone, the stage they are in
    (after their last milestone) and how long they have been in it."""
    s = fl.spans.filter(~fl.spans.done)
    names = stage_pairs()
    s = s.left_join(names, [s.last_rank == names.from_rank, s.end_rank == names.to_rank])
    s = s.join(fl.scope.select("cid", "repo", change_id=fl.scope.id), "cid")
    now = ibis.literal(as_of)
    # A milestone after as_of (a clock in the future) ages nothing rather than going negative.
    return s.select("cid", "repo", "change_id", stage=s.stage,
                    age_s=ibis.greatest(seconds_between(now, s.first_at), 0.0),
                    in_stage_s=ibis.greatest(seconds_between(now, s.last_at), 0.0))


def reverts(backend: ibis.BaseBackend, fl: Flow) -> ir.Table:
    """Changes in scope reverted by a later change: reverted id, revert id, seconds to revert
    (materialised once per report: the flow figures and the AI cohorts both read it)."""
    return fl.once("reverts", lambda: _reverts(backend, fl))


def _reverts(backend: ibis.BaseBackend, fl: Flow) -> ir.Table:
    cc = backend.table("change_commits")
    commits = backend.table("commits")
    rv = commits.filter(commits.revert_of.notnull()).select("repo", "sha", target=commits.revert_of)
    rv = rv.join(cc, ["repo", "sha"]).select("repo", "target", revert_id=cc.change_id)
    tgt = cc.rename(t_sha="sha", reverted_id="change_id")
    rv = rv.join(tgt, [rv.repo == tgt.repo, rv.target == tgt.t_sha]).select(
        rv.repo, rv.revert_id, tgt.reverted_id)
    rv = rv.filter(rv.revert_id != rv.reverted_id).distinct()
    merged = plausible_milestones(backend).filter(_.name == "merged").select(
        "repo", "change_id", "at")
    a = merged.rename(revert_at="at", revert_id="change_id")
    b = merged.rename(reverted_at="at", reverted_id="change_id")
    rv = rv.join(a, ["repo", "revert_id"]).join(b, ["repo", "reverted_id"])
    inscope = fl.scope.select("repo", reverted_id=fl.scope.id)
    rv = rv.semi_join(inscope, ["repo", "reverted_id"])
    return rv.select("repo", "revert_id", "reverted_id",
                     seconds=seconds_between(rv.revert_at, rv.reverted_at))


def revert_changes(backend: ibis.BaseBackend, fl: Flow) -> ir.Table:
    """Changes in scope that revert something (contain a revert commit)."""
    commits = backend.table("commits").filter(_.revert_of.notnull()).select("repo", "sha")
    cc = backend.table("change_commits").semi_join(commits, ["repo", "sha"])
    return fl.scope.semi_join(cc.select("repo", id=cc.change_id), ["repo", "id"])
