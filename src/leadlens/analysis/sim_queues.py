"""The reviewers' queues of one replication: the SimPy model (every scenario: WIP limits, one
shared queue), and the same first-come-first-served queues run without SimPy when nothing couples
the reviewers (each reviewer's jobs in time order on a heap: exact FIFO, tested equal to SimPy)."""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from leadlens.analysis.sim_pool import DAY_S, Floats

__all__ = ["Plan", "Queues", "advance", "cums", "fifo_queues", "simpy_queues"]


def advance(t: float, work: float, cum: Sequence[float]) -> float:
    """The time ``work`` seconds of working time after ``t``, in working hours only: ``cum[h]`` is
    the working seconds in a day before hour ``h`` (25 values, ``cum[24]`` > 0)."""
    if work <= 0:
        return t
    day, s = divmod(t, DAY_S)
    h = min(int(s // 3600), 23)
    before = cum[h] + (min(s - h * 3600, 3600.0) if cum[h + 1] > cum[h] else 0.0)
    days, rem = divmod(before + work, cum[24])
    if rem <= 0:
        days, rem = days - 1, cum[24]
    hour = max(bisect_left(cum, rem) - 1, 0)
    return (day + days) * DAY_S + hour * 3600 + (rem - cum[hour])


def cums(hours: np.ndarray) -> list[list[float]]:
    out = []
    for mask in hours:
        m = mask if mask.any() else np.ones(24, dtype=bool)
        out.append([0.0, *np.cumsum(m * 3600.0).tolist()])
    return out


@dataclass(frozen=True)
class Plan:
    """One replication's changes, drawn before the run: everything but the queues."""

    arrive: Floats
    seg: Floats  # [n, stages] scaled by the scenario's speed-ups
    queued: np.ndarray
    pre: Floats  # before the review queue (all of it for changes that do not queue)
    latency: Floats  # the reviewer's response delay before the change joins their queue
    mid: Floats  # after the first review until merged
    rel: Floats  # merged -> released
    service: Floats  # the reviewer's working time for the first round
    later: Floats  # the reviewer's working time for each later round
    rounds: np.ndarray
    reviewer: np.ndarray
    author: np.ndarray
    hours: np.ndarray  # [reviewers, 24]
    train: np.ndarray  # released by its repository's release train (not a resampled delay)
    repo: np.ndarray
    trains: tuple[Floats, ...]  # per repository: its release times over the run


@dataclass(frozen=True)
class Queues:
    """What the queues made of a plan: per change, when it was done (merge + the release
    delay; NaN: not within the run), its pickup and when it was ready for review (NaN: it did
    not queue or was not picked up), its wait for WIP; and the changes waiting at each day's end."""

    done: Floats
    pickup: Floats
    ready_at: Floats
    wip_wait: Floats
    queue: Floats


def simpy_queues(p: Plan, wip: int | None, pooled: bool, until_days: int) -> Queues:
    """The SimPy model of the plan's queues, run for ``until_days``."""
    n = p.arrive.size
    env = simpy.Environment()
    desk_hours = cums(p.hours)
    reviewers = len(desk_hours)
    desks = [simpy.Resource(env, 1) for _ in range(reviewers)]
    free = simpy.Store(env)
    free.items.extend(range(reviewers))
    desks_of: dict[int, simpy.Resource] = {}
    pickup = np.full(n, np.nan)
    ready_at = np.full(n, np.nan)
    wip_wait = np.zeros(n)
    done = np.full(n, np.nan)

    def review(r: int, work: float, at: float) -> Generator[Any, Any, None]:
        """A later round, at ``at``: the same reviewer's work, queued behind the rest (adding
        load; the change's own time in review is its measured one)."""
        yield env.timeout(at - env.now)
        if pooled:
            r = yield free.get()
            yield env.timeout(advance(env.now, work, desk_hours[r]) - env.now)
            free.put(r)
            return
        with desks[r].request() as req:
            yield req
            yield env.timeout(advance(env.now, work, desk_hours[r]) - env.now)


    def change(i: int) -> Generator[Any, Any, None]:
        arrived = env.now
        desk = req = None
        if wip is not None:
            desk = desks_of.setdefault(int(p.author[i]), simpy.Resource(env, wip))
            req = desk.request()
            yield req
            wip_wait[i] = env.now - arrived
            if p.pre[i] > 0:
                yield env.timeout(p.pre[i])
        if p.queued[i]:
            ready = env.now
            if wip is not None and p.latency[i] > 0:
                yield env.timeout(p.latency[i])
            if pooled:
                r = yield free.get()
                yield env.timeout(advance(env.now, float(p.service[i]), desk_hours[r]) - env.now)
                free.put(r)
            else:
                r = int(p.reviewer[i])
                with desks[r].request() as mine:
                    yield mine
                    yield env.timeout(advance(env.now, float(p.service[i]), desk_hours[r]) - env.now)
            pickup[i] = env.now - ready + (0.0 if wip is not None else p.latency[i])
            ready_at[i] = ready - (0.0 if wip is not None else p.latency[i])
            for j in range(1, int(p.rounds[i])):
                env.process(review(r, float(p.later[i]),
                                   env.now + p.mid[i] * j / float(p.rounds[i])))
        if desk is not None and req is not None:
            if p.mid[i] > 0:
                yield env.timeout(p.mid[i])
            desk.release(req)
            done[i] = env.now + p.rel[i]
        else:  # nothing waits on the rest: no event for it
            done[i] = env.now + p.mid[i] + p.rel[i]

    # A change that neither queues nor waits for WIP is arithmetic: no process at all.
    simple = ~p.queued if wip is None else np.zeros(n, dtype=bool)
    done[simple] = p.arrive[simple] + p.pre[simple] + p.mid[simple] + p.rel[simple]
    start = p.arrive + (p.pre + p.latency if wip is None else 0.0)
    todo = np.flatnonzero(~simple)
    todo = todo[np.argsort(start[todo], kind="stable")]

    def arrivals() -> Generator[Any, Any, None]:
        for i in todo.tolist():
            if start[i] > env.now:
                yield env.timeout(start[i] - env.now)
            env.process(change(i))

    queue = np.zeros(until_days)

    def watch() -> Generator[Any, Any, None]:
        for d in range(until_days):
            yield env.timeout(DAY_S)
            waiting = (len(free.get_queue) if pooled else sum(len(x.queue) for x in desks))
            queue[d] = waiting + sum(len(x.queue) for x in desks_of.values())

    env.process(arrivals())
    env.process(watch())
    env.run(until=until_days * DAY_S)
    return Queues(done, pickup, ready_at, wip_wait, queue)


def fifo_queues(p: Plan, until_days: int) -> Queues:
    """Each reviewer's own FIFO queue without SimPy: their first rounds (arriving at arrive + pre
    + latency, known before the run) and later rounds (pushed when the first round is done, at
    its end + mid * j / rounds, before any job arriving after that end is served) on a heap in
    arrival order; the same results as :func:`simpy_queues` with no WIP limit and own queues."""
    n = p.arrive.size
    end = until_days * DAY_S
    desk_hours = cums(p.hours)
    reviewers = len(desk_hours)
    pickup = np.full(n, np.nan)
    ready_at = np.full(n, np.nan)
    done = np.full(n, np.nan)
    simple = ~p.queued
    done[simple] = p.arrive[simple] + p.pre[simple] + p.mid[simple] + p.rel[simple]
    start = p.arrive + p.pre + p.latency
    todo = np.flatnonzero(~simple)
    todo = todo[np.argsort(start[todo], kind="stable")]
    heaps: list[list[tuple[float, int, int, float, int]]] = [[] for _ in range(reviewers)]
    st, svc, who = start.tolist(), p.service.tolist(), p.reviewer.tolist()
    for seq, i in enumerate(todo.tolist()):
        heaps[who[i]].append((st[i], seq, i, svc[i], 0))
    seq = n
    lat, mid, rel, later, rounds = (p.latency.tolist(), p.mid.tolist(), p.rel.tolist(),
                                    p.later.tolist(), p.rounds.tolist())
    came: list[float] = []
    served: list[float] = []
    for r, h in enumerate(heaps):
        heapq.heapify(h)
        cum = desk_hours[r]
        free = -1.0
        while h:
            a, _, i, work, j = heapq.heappop(h)
            if a >= end:
                break
            came.append(a)
            g = a if a > free else free
            if g >= end:
                served.append(np.inf)
                continue
            served.append(g)
            f = advance(g, work, cum)
            free = f
            if f >= end or j:
                continue
            pickup[i] = f - st[i] + lat[i]
            ready_at[i] = st[i] - lat[i]
            k = rounds[i]
            for jj in range(1, k):
                seq += 1
                heapq.heappush(h, (f + mid[i] * jj / k, seq, i, later[i], jj))
            done[i] = f + mid[i] + rel[i]
    queue = np.zeros(until_days)
    at = np.arange(1, until_days) * DAY_S
    arrived, began = np.sort(np.array(came)), np.sort(np.array(served))
    queue[: until_days - 1] = (np.searchsorted(arrived, at, side="right")
                               - np.searchsorted(began, at, side="right"))
    return Queues(done, pickup, ready_at, np.zeros(n), queue)
