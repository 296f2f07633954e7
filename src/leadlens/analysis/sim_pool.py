"""What the queueing simulation is calibrated on: the changes delivered in a window of the store's
history (their stage times, sizes, authors, first reviewers and review rounds), the arrival rate
per day, and each reviewer's working hours (docs/whatif.md, "The simulation")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from leadlens.conventions import BotRule
from leadlens.metrics import flow as fm
from leadlens.metrics import time_zones as tz
from leadlens.timeline import STAGES, stage_order

__all__ = [
    "EFFORT_BOUNDS_S",
    "MAX_LOAD",
    "MIN_CHANGES",
    "MIN_RELEASES",
    "MIN_REVIEWS_FOR_HOURS",
    "REVIEW_LINES_PER_HOUR",
    "Pool",
    "capped_effort",
    "load_pool",
    "window_before",
    "working_hours",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

MIN_RELEASES = 3  # releases in the window before a repository's releases are a train
MIN_CHANGES = 20  # delivered changes a window needs before a simulation is calibrated on it
MIN_REVIEWS_FOR_HOURS = 10  # a reviewer's own reviews before their own working hours are used
WORKING_SHARE = 0.8  # working hours: the fewest hours of the day holding 80% of the reviews
# A reviewer's work on one round of review: the change's lines at REVIEW_LINES_PER_HOUR (code
# inspection studies put a careful review at 200-500 lines an hour), kept within these bounds.
# (The timeline's active time cannot say it: an activity window covers 2 h after every event.)
REVIEW_LINES_PER_HOUR = 400.0
EFFORT_BOUNDS_S = (600.0, 2 * 3600.0)
# The reviewers kept up in the window (their reviews were done): what their measured reviews ask
# of their working hours is capped at this load, scaling their effort down where it is more.
MAX_LOAD = 0.85
DAY_S = 86_400.0


@dataclass(frozen=True)
class Pool:
    """The changes delivered in ``[start, end)`` and what the simulation resamples from them."""

    start: date
    end: date
    stages: tuple[str, ...]  # the measured stages, in canonical order (columns of ``seconds``)
    seconds: Floats  # [changes, stages]: each change's time in each stage (0: not its stage)
    queued: Flags  # its pickup waits in a reviewer's queue (a first review by a person)
    reviewer: Ints  # index of its first reviewer (-1: none)
    rounds: Ints  # reviews by people on it (rounds of review work)
    effort_s: Floats  # the reviewer's work per round (REVIEW_LINES_PER_HOUR, EFFORT_BOUNDS_S)
    author: Ints  # index of its author
    size: npt.NDArray[np.str_]  # size bucket (XS .. XL)
    arrivals: Floats  # changes merged per day of the window (a stable pipeline's arrival rate)
    time_of_day: Floats  # seconds after midnight (UTC) its changes started, to place arrivals
    hours: Flags  # [reviewers, 24]: each reviewer's working hours (UTC)
    ready_s: Floats | None = None  # when each was ready for review, seconds after ``start``
    # Release trains: each change's repository (index), and per repository the gaps (seconds)
    # between its releases in the window; a change with a `release` stage in a repository with
    # at least MIN_RELEASES waits for its next release instead of a resampled delay.
    repo: Ints | None = None
    release_gaps: tuple[Floats, ...] = ()

    def backlog_correlation(self) -> float | None:
        """How much the measured pickups grow with the reviewer's backlog (see ``backlog``):
        their rank correlation; None without ready times or with fewer than 20 pickups."""
        if self.ready_s is None or "pickup" not in self.stages:
            return None
        q = self.queued
        ready = self.ready_s[q]
        return rank_correlation(backlog(ready, ready + self.seconds[q, self.stages.index(
            "pickup")], self.reviewer[q]), self.seconds[q, self.stages.index("pickup")])

    @property
    def changes(self) -> int:
        return int(self.seconds.shape[0])

    @property
    def reviewers(self) -> int:
        return int(self.hours.shape[0])

    @property
    def authors(self) -> int:
        return int(self.author.max()) + 1 if self.author.size else 0

    @property
    def lead_s(self) -> Floats:
        return np.asarray(self.seconds.sum(axis=1))


def backlog(ready: Floats, picked: Floats, who: Ints) -> Ints:
    """For each change, how many others of the same reviewer were waiting for them (ready, not
    picked up yet) when it became ready."""
    out = np.zeros(ready.size, dtype=np.int64)
    for r in np.unique(who):
        mine = np.flatnonzero(who == r)
        starts, ends = np.sort(ready[mine]), np.sort(picked[mine])
        out[mine] = (np.searchsorted(starts, ready[mine], "left")
                     - np.searchsorted(ends, ready[mine], "right"))
    return np.maximum(out, 0)


def rank_correlation(x: npt.NDArray[Any], y: Floats) -> float | None:
    """Spearman's rank correlation; None below 20 pairs or when either side is constant."""
    if x.size < 20 or np.all(x == x[0]) or np.all(y == y[0]):
        return None
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def working_hours(hours_of_day: Ints, share: float = WORKING_SHARE) -> Flags:
    """The fewest hours of the day (0-23) that hold ``share`` of these events' hours."""
    counts = np.bincount(hours_of_day, minlength=24)[:24].astype(float)
    mask = np.zeros(24, dtype=bool)
    if not counts.sum():
        mask[:] = True
        return mask
    order = np.argsort(-counts, kind="stable")
    held = np.cumsum(counts[order]) / counts.sum()
    mask[order[: int(np.searchsorted(held, share - 1e-12)) + 1]] = True
    return mask


def _arrow(backend: ibis.BaseBackend, expr: ir.Table) -> pa.Table:
    return backend.to_pyarrow(expr)


def _seconds_of_day(at: pa.ChunkedArray) -> Floats:
    ts = at.cast(pa.timestamp("us")).to_numpy().astype("datetime64[us]")
    day = ts.astype("datetime64[D]")
    return np.asarray((ts - day).astype("timedelta64[us]").astype(np.int64) / 1e6, dtype=float)


def load_pool(backend: ibis.BaseBackend, fl: fm.Flow, rule: BotRule, start: date, end: date
              ) -> Pool:
    """The pool of the changes of ``fl`` delivered in ``[start, end)`` (UTC days)."""
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC)
    s = fl.spans.filter(fl.spans.done & (fl.spans.last_at >= lo) & (fl.spans.last_at < hi))
    done = s.join(fl.scope.select("cid", "author", "size", change_id=fl.scope.id), "cid")
    done = done.join(fl.scope.select("cid", "lines", "repo"), "cid")
    changes = _arrow(backend, done.select("cid", "change_id", "author", "size", "lines", "repo",
                                          "first_at", "last_at").order_by("cid"))
    cids = changes.column("cid").to_numpy()
    n = cids.size
    segs = fl.segments.semi_join(done.select("cid"), "cid")
    seg = _arrow(backend, segs.select("cid", "stage", "seconds"))
    stages = tuple(sorted(set(seg.column("stage").to_pylist()), key=stage_order))
    row = {c: i for i, c in enumerate(cids.tolist())}
    col = {name: j for j, name in enumerate(stages)}
    seconds = np.zeros((n, len(stages)))
    has_pickup = np.zeros(n, dtype=bool)
    has_release = np.zeros(n, dtype=bool)
    for c, name, sec in zip(seg.column("cid").to_pylist(), seg.column("stage").to_pylist(),
                            seg.column("seconds").to_pylist(), strict=True):
        seconds[row[c], col[name]] = sec
        has_pickup[row[c]] |= name == "pickup"
        has_release[row[c]] |= name == "release"
    ids = changes.column("change_id").to_pylist()
    firsts, rounds_by = _first_reviewers(backend, fl, rule, done)
    people = sorted({r for r in firsts.values()})
    who = {p: i for i, p in enumerate(people)}
    reviewer = np.array([who.get(firsts.get(i, ""), -1) for i in ids], dtype=np.int64)
    rounds = np.array([max(1, rounds_by.get(i, 0)) for i in ids], dtype=np.int64)
    lines = np.array([x or 0 for x in changes.column("lines").to_pylist()], dtype=float)
    effort = np.clip(lines / REVIEW_LINES_PER_HOUR * 3600.0, *EFFORT_BOUNDS_S)
    hours = _hours(backend, fl, rule, people)
    effort = capped_effort(effort, rounds, reviewer, hours, (end - start).days)
    authors = changes.column("author").to_pylist()
    names = {a: i for i, a in enumerate(sorted({a or "" for a in authors}))}
    # Arrivals: every change merged in the window (released or not), so that release batches
    # (a tag twice a week) do not make the days' counts lumpy.
    sc = fl.scope
    merged = _arrow(backend, sc.filter((sc.merged_at >= lo) & (sc.merged_at < hi))
                    .select("merged_at")).column("merged_at")
    merged_days = (merged.cast(pa.timestamp("us")).to_numpy().astype("datetime64[D]")
                   - np.datetime64(start)).astype(np.int64)
    days = (end - start).days
    repo, gaps = _trains(changes, has_release)
    before = np.array([stage_order(x)[0] < STAGES.index("pickup") for x in stages], dtype=bool)
    started = changes.column("first_at").cast(pa.timestamp("us")).to_numpy().astype(
        "datetime64[us]")
    ready = ((started - np.datetime64(lo.replace(tzinfo=None), "us")).astype(np.int64) / 1e6
             + seconds[:, before].sum(axis=1))
    return Pool(start=start, end=end, stages=stages, seconds=seconds,
                queued=has_pickup & (reviewer >= 0), reviewer=reviewer, rounds=rounds,
                effort_s=effort, author=np.array([names[a or ""] for a in authors],
                                                 dtype=np.int64),
                size=np.array([s or "" for s in changes.column("size").to_pylist()], dtype=str),
                arrivals=np.bincount(merged_days, minlength=days)[:days].astype(float),
                time_of_day=_seconds_of_day(changes.column("first_at")),
                hours=hours, ready_s=ready, repo=repo, release_gaps=gaps)


def capped_effort(effort: Floats, rounds: Ints, reviewer: Ints, hours: Flags, days: int
                  ) -> Floats:
    """``effort`` scaled down per reviewer whose rounds in the window would take more than
    MAX_LOAD of their working hours over ``days``."""
    out = effort.copy()
    for r in range(hours.shape[0]):
        mine = reviewer == r
        work = float((effort[mine] * rounds[mine]).sum())
        capacity = MAX_LOAD * max(int(hours[r].sum()), 1) * 3600.0 * days
        if work > capacity:
            out[mine] *= capacity / work
    return out


def _trains(changes: pa.Table, released: Flags) -> tuple[Ints, tuple[Floats, ...]]:
    """Each change's repository index and, per repository, the gaps between its releases (the
    distinct times its delivered changes were released)."""
    names = changes.column("repo").to_pylist()
    index = {r: i for i, r in enumerate(sorted(set(names)))}
    repo = np.array([index[r] for r in names], dtype=np.int64)
    at = (changes.column("last_at").cast(pa.timestamp("us")).to_numpy().astype("datetime64[s]")
          .astype(np.int64).astype(float))
    gaps = []
    for r in range(len(index)):
        times = np.unique(at[(repo == r) & released])
        gaps.append(np.diff(times) if times.size >= MIN_RELEASES else np.zeros(0))
    return repo, tuple(gaps)


def _first_reviewers(backend: ibis.BaseBackend, fl: fm.Flow, rule: BotRule, done: ir.Table
                     ) -> tuple[dict[str, str], dict[str, int]]:
    """Per change id: the person whose review came first, and how many reviews people gave."""
    rv = tz.reviews(backend, fl.scope.semi_join(done.select("cid"), "cid"), rule)
    first = rv.group_by("id").aggregate(reviewer=rv.reviewer.argmin(rv["at"]),
                                        reviews=rv.count())
    t = _arrow(backend, first)
    ids = t.column("id").to_pylist()
    return (dict(zip(ids, t.column("reviewer").to_pylist(), strict=True)),
            dict(zip(ids, t.column("reviews").to_pylist(), strict=True)))


def _hours(backend: ibis.BaseBackend, fl: fm.Flow, rule: BotRule, people: list[str]) -> Flags:
    """Each reviewer's working hours (UTC) from the hours of all their reviews in scope; the
    reviewers' pooled hours for someone with fewer than MIN_REVIEWS_FOR_HOURS."""
    if not people:
        return np.zeros((0, 24), dtype=bool)
    rv = tz.reviews(backend, fl.scope, rule)
    rv = rv.filter(rv.reviewer.isin(people))
    t = _arrow(backend, rv.select("reviewer", hour=rv["at"].hour()))
    who = np.array(t.column("reviewer").to_pylist(), dtype=str)
    hour = t.column("hour").to_numpy().astype(np.int64)
    pooled = working_hours(hour)
    out = np.zeros((len(people), 24), dtype=bool)
    for i, p in enumerate(people):
        mine = hour[who == p]
        out[i] = working_hours(mine) if mine.size >= MIN_REVIEWS_FOR_HOURS else pooled
    return out


def window_before(as_of: date, days: int) -> tuple[date, date]:
    """The ``days`` UTC days before ``as_of``: ``[as_of - days, as_of)``."""
    return as_of - timedelta(days=days), as_of
