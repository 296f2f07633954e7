"""Each change's activity islands for the report: the ones derive's precompute step stored
(``change_activity``, git events) where current, merged with the forge's activity and with the
islands of repositories whose stored ones are stale (worked out here from their events).

Islands are unions of the windows ``[event, event + window)``; the union of two sets of islands,
merged where they overlap or touch, is the islands of the two sets of events together, so stored
and computed islands combine exactly (``timeline.activity_islands`` is the computation itself).
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import ibis.expr.types as ir

from leadlens.conventions import BotRule
from leadlens.engines import Materialiser, rows
from leadlens.metrics.review import activity as review_activity
from leadlens.timeline import activity_islands

__all__ = ["fresh_repos", "islands", "merge_islands"]


def fresh_repos(backend: ibis.BaseBackend, window: timedelta) -> list[str]:
    """The repositories whose stored islands are current: made with ``window`` after the
    ``changes`` step's last run (derive_state's record of it)."""
    a = backend.table("activity_state")
    d = backend.table("derive_state")
    d = d.filter(d.step == "changes").select(d_repo=d.repo, d_inputs=d.inputs)
    j = a.left_join(d, a.repo == d.d_repo)
    ms = int(window.total_seconds() * 1000)
    ok = j.filter((j.window_ms == ms) & j.changes_inputs.identical_to(j.d_inputs))
    return sorted(r["repo"] for r in rows(backend, ok.select("repo")))


def merge_islands(intervals: ir.Table, key: tuple[str, ...]) -> ir.Table:
    """Intervals (key columns, start, end) merged where they overlap or touch: key, start, end."""
    t = intervals.select(*key, "start", "end")
    order = [t.start, t.end]
    before = ibis.window(group_by=list(key), order_by=order, rows=(None, -1))
    t = t.mutate(starts=(t.start > t.end.max().over(before)).fill_null(True))
    upto = ibis.window(group_by=list(key), order_by=order, rows=(None, 0))
    t = t.mutate(island=t.starts.cast("int64").sum().over(upto))
    return t.group_by([*key, "island"]).aggregate(start=t.start.min(), end=t.end.max()).drop(
        "island")


def islands(backend: ibis.BaseBackend, keys: ir.Table, changes: ir.Table, bots: BotRule,
            window: timedelta, cache: Materialiser, key: tuple[str, ...]) -> ir.Table:
    """Per change of ``keys`` (key columns, repo, change_id; ``changes``: key, repo, number, for
    the forge's activity): key, start, end of its activity islands."""
    fresh = fresh_repos(backend, window)
    stale = keys.filter(~keys.repo.isin(fresh)) if fresh else keys
    cc = backend.table("change_commits")
    cc = cc.join(stale.select(*key, "change_id"), "change_id")
    events = cc.select(*key, at=ibis.array([cc.author_time, cc.committer_time]).unnest())
    events = events.filter(events.at.notnull())
    # Reviews, comments and PR timeline events are someone acting too (forge data).
    events = events.union(review_activity(backend, changes, bots))
    if not fresh:
        return activity_islands(events, window, key)
    stored = backend.table("change_activity")
    stored = stored.join(keys.filter(keys.repo.isin(fresh)).select(*key, "change_id"),
                         "change_id").select(*key, "start", "end")
    computed = cache(activity_islands(events, window, key))
    if not backend.to_pyarrow(computed.count()).as_py():
        return stored
    return merge_islands(stored.union(computed), key)
