"""Collisions: changes in flight at the same time that touch the same file, and what follows them
(docs/metrics-coordination.md, Collisions).

A change is in flight from ``work_started`` (its first commit's author time) to ``merged``, both
ends included. Two changes of the report's scope collide when those intervals overlap and their
non-merge commits change at least one same path of the same repository. The pairs are found with
one equality join on (repo, path, week): each change is listed under every week its interval
covers, and joined with the changes that *start* in that week, so a file touched by thousands of
changes over the years costs what its overlaps cost, not the square of its history. (Each
repository and path is numbered once, :func:`path_ids`, and the weeks are computed once per
change: the join compares two integers, not two strings.)
"""

from __future__ import annotations

from datetime import UTC, datetime

import ibis
import ibis.expr.types as ir

from leadlens.config import Settings
from leadlens.metrics import flow as fm
from leadlens.timeline import seconds_between

__all__ = ["CONFLICT_BODY", "CONFLICT_SUBJECT", "change_outcomes", "collision_change_flags",
           "collision_pairs", "conflict_commits", "in_flight", "path_ids", "zone"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WEEK_S = 7 * 86400
# A merge commit that kept git's conflict list in its message: "Conflicts:" (git before 1.7.12
# wrote it uncommented) or "# Conflicts:" (kept with --cleanup=whitespace or scissors).
CONFLICT_BODY = r"(?m)^#?[ \t]*Conflicts:[ \t]*$"
# Any commit whose subject speaks of a conflict: "Resolve conflicts", "Merge main, fix conflict".
CONFLICT_SUBJECT = r"(?i)conflict"


def zone(path: ir.StringValue) -> ir.StringValue:
    """A path's area: its first two directories (``src/api/v1/x.py`` -> ``src/api``; ``docs/x.md``
    -> ``docs``); ``.`` for a file at the root."""
    dirs = path.re_extract(r"^((?:[^/]+/){0,2})", 1)
    trimmed = dirs.re_replace(r"/$", "")
    return ibis.ifelse(trimmed == "", ".", trimmed)


def in_flight(fl: fm.Flow) -> ir.Table:
    """``cid``, ``repo``, ``id``, ``author``, ``started_at``, ``merged_at`` per change in scope with
    a ``work_started`` milestone (a start after the merge is clamped to it)."""
    ms = fl.milestones
    ws = ms.filter(ms.name == "work_started").select("cid", started_at=ms.at)
    s = fl.scope.select("cid", "repo", "id", "author", "merged_at").join(ws, "cid")
    return s.mutate(started_at=ibis.least(s.started_at, s.merged_at))


def _paths(backend: ibis.BaseBackend, fl: fm.Flow) -> ir.Table:
    """``cid``, ``repo``, ``path``, ``started_at``, ``merged_at``, ``w0``, ``w1`` (the weeks of
    both, :func:`_week`): the paths the non-merge commits
    of a change in flight change (git lists no files for a merge; a squash or a direct push is
    its one commit), materialised once per report."""
    def build() -> ir.Table:
        keys = fl.scope.select("cid", "repo", change_id=fl.scope.id)
        cc = backend.table("change_commits").select("repo", "change_id", "sha")
        files = backend.table("commit_files").select("repo", "sha", "path")
        j = cc.join(keys, ["repo", "change_id"]).join(files, ["repo", "sha"])
        # A cid names one change of one repository: its repository comes with its interval.
        p = j.select("cid", "path").distinct()
        # The weeks once per change (thousands), not per change and path (a million).
        s = in_flight(fl)
        s = s.select("cid", "repo", "started_at", "merged_at", w0=_week(s.started_at),
                     w1=_week(s.merged_at))
        return p.join(s, "cid").select("cid", "repo", "path", "started_at", "merged_at", "w0",
                                       "w1")
    return fl.once("collision_paths", build)


def _week(at: ir.TimestampValue) -> ir.IntegerValue:
    return (seconds_between(at, ibis.literal(_EPOCH)) / _WEEK_S).floor().cast("int64")


def path_ids(backend: ibis.BaseBackend, fl: fm.Flow) -> ir.Table:
    """``repo``, ``path``, ``pid``: a number for each path a change in flight changed (the pairs
    are joined and counted on it, not on two strings), materialised once per report."""
    def build() -> ir.Table:
        p = _paths(backend, fl).select("repo", "path").distinct()
        return p.mutate(pid=ibis.row_number())
    return fl.once("collision_path_ids", build)


def collision_pairs(backend: ibis.BaseBackend, fl: fm.Flow) -> ir.Table:
    """One row per colliding pair and shared path: ``pid`` (the path, :func:`path_ids`), ``a``,
    ``b`` (cids; ``a`` started first, ties by cid), ``overlap_start`` (``b``'s start),
    ``later_merged``."""
    def build() -> ir.Table:
        p = _paths(backend, fl)
        ids = path_ids(backend, fl)
        p = p.join(ids, ["repo", "path"]).select("cid", "pid", "started_at", "merged_at", "w0",
                                                 "w1")
        a = p.select(a="cid", pid="pid", a_start="started_at", a_merged="merged_at",
                     week=ibis.range(p.w0, p.w1 + 1).unnest())
        q = p.view()
        b = q.select(b="cid", b_pid="pid", b_start="started_at", b_merged="merged_at",
                     b_week=q.w0)
        j = a.join(b, [a.pid == b.b_pid, a.week == b.b_week])
        after = (j.b_start > j.a_start) | ((j.b_start == j.a_start) & (j.b > j.a))
        j = j.filter(after & (j.b_start <= j.a_merged))
        return j.select("pid", "a", "b", overlap_start=j.b_start,
                        later_merged=ibis.greatest(j.a_merged, j.b_merged))
    return fl.once("collision_pairs", build)


def conflict_commits(backend: ibis.BaseBackend) -> ir.Table:
    """``repo``, ``sha``, ``at`` (committer time) of every conflict-resolution commit: a merge
    commit whose message keeps git's conflict list, or any commit whose subject says conflict."""
    c = backend.table("commits")
    body = c.body.fill_null("")
    hit = (c.is_merge & body.re_search(CONFLICT_BODY)) | c.subject.fill_null("").re_search(
        CONFLICT_SUBJECT)
    c = c.filter(hit & c.committer_time.notnull())
    return c.select("repo", "sha", at=c.committer_time)


def change_outcomes(backend: ibis.BaseBackend, fl: fm.Flow, days: float) -> ir.Table:
    """Per change in flight (:func:`in_flight`): ``cid``, ``repo``, ``id``, ``author``,
    ``collided``, ``conflict``, ``reverted``, ``reworked`` (NULL: none of its commits has line
    history). Its window runs from its start to ``days`` after its merge — after the later merge
    of it and the changes it collided with, when it collided."""
    def build() -> ir.Table:
        spans = in_flight(fl)
        pairs = collision_pairs(backend, fl)
        ends = pairs.select(cid=pairs.a, later=pairs.later_merged).union(
            pairs.select(cid=pairs.b, later=pairs.later_merged))
        ends = ends.group_by("cid").aggregate(later=ends.later.max())
        s = spans.left_join(ends, "cid").drop("cid_right")
        window = ibis.interval(seconds=round(days * 86400))
        s = s.mutate(collided=s.later.notnull(),
                     until=ibis.coalesce(s.later, s.merged_at) + window).drop("later")
        s = fl.cache(s)
        keys = s.select("cid", "repo", "started_at", "merged_at", "until", change_id=s.id)
        cc = backend.table("change_commits").select("repo", "change_id", "sha")
        mine = cc.join(keys, ["repo", "change_id"]).select("cid", "repo", "sha")
        # Conflict: a conflict commit of the change's own, or one changing a path it changed.
        cf = conflict_commits(backend)
        own = mine.join(cf, ["repo", "sha"]).select("cid", "at")
        files = backend.table("commit_files").select("repo", "sha", "path")
        cf_paths = files.join(cf, ["repo", "sha"]).select("repo", "path", "at")
        on_paths = _paths(backend, fl).select("cid", "repo", "path").join(
            cf_paths, ["repo", "path"]).select("cid", "at")
        cw = own.union(on_paths).join(keys.select("cid", "started_at", "until"), "cid")
        conflict = cw.filter((cw.at >= cw.started_at) & (cw.at <= cw.until)).select(
            "cid").distinct().mutate(conflict=ibis.literal(True))
        # Revert: a later change reverting it, merged within the window.
        rv = fm.reverts(backend, fl)
        rv = rv.join(keys.select("repo", "merged_at", "until", reverted_id="change_id", cid="cid"),
                     ["repo", "reverted_id"])
        rv = rv.filter(seconds_between(rv.until, rv.merged_at) >= rv.seconds)
        reverted = rv.select("cid").distinct().mutate(reverted=ibis.literal(True))
        # Rework: lines its commits wrote, rewritten by another commit after its merge, in the window.
        commits = backend.table("commits").select("repo", "sha", "line_history", "committer_time")
        mc = mine.join(commits, ["repo", "sha"])
        hist = mc.group_by("cid").aggregate(history=mc.line_history.any())
        rw = backend.table("rewritten_lines").select("repo", "sha", "born_sha", "lines")
        born = mine.select("cid", "repo", born_sha="sha")
        rw = rw.join(born, ["repo", "born_sha"]).anti_join(
            mine.select("cid", "repo", "sha"), ["cid", "repo", "sha"])
        rw = rw.join(commits.select("repo", "sha", at="committer_time"), ["repo", "sha"])
        rw = rw.join(keys.select("cid", "merged_at", "until"), "cid")
        rw = rw.filter((rw.at > rw.merged_at) & (rw.at <= rw.until) & (rw.lines > 0))
        reworked = rw.select("cid").distinct().mutate(rework_hit=ibis.literal(True))
        out = s.left_join(conflict, "cid").drop("cid_right")
        out = out.left_join(reverted, "cid").drop("cid_right")
        out = out.left_join(hist, "cid").drop("cid_right")
        out = out.left_join(reworked, "cid").drop("cid_right")
        return out.select(
            "cid", "repo", "id", "author", "collided",
            conflict=out.conflict.fill_null(False), reverted=out.reverted.fill_null(False),
            reworked=ibis.ifelse(out.history.fill_null(False), out.rework_hit.fill_null(False),
                                 ibis.null("boolean")))
    return fl.once(f"collision_outcomes:{days}", build)


def collision_change_flags(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings
                           ) -> ir.Table:
    """``repo``, ``id``, ``collided`` per change in scope: NULL when the change has no
    ``work_started`` milestone (no commit time: its in-flight interval is unknown)."""
    o = change_outcomes(backend, fl, settings.flow.rework_days).select("repo", "id", "collided")
    s = fl.scope.select("repo", "id")
    out = s.left_join(o, ["repo", "id"])
    return out.select(s.repo, s.id, collided=out.collided)
