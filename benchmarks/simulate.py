"""Benchmark the what-if simulation (issue 15, item 7): 1,000 replications of a year of a 50-person
team in under 60 s on 2 cores, replications in parallel processes.

The store is `benchmarks/coordination_store.py`'s, shaped as one team: one repository, --people
developers (the repository draws its authors and reviewers from a pool of 30 of them), one merge
every --spacing seconds (4,320: 20 a day) for --changes merges (4,880: from the generator's fixed
start, 2026-04-01, to 2026-11-30), one Jira project. `coordination.build` makes it and keeps it by
recipe (--store PATH, PATH.recipe.json beside it). Every run is as of 2026-12-01 (AS_OF): the 90
days before it calibrate, the 154 before those give the walk-forward backtest 5 windows. (The
flow leaves out merges after the clock's today, so a store reaching later would calibrate on
another window each day; with a fixed as-of the figures are the same on any later day.)

Then, each in its own process (wall, CPU of the process tree, peak RSS of the process and of its
workers):

- the command a user runs: `leadlens whatif --simulate --stage coding --faster 50% --arrivals +40%
  --replications 1000 --days 365 --jobs 2 --format json`, end to end: calibration, the backtest
  (6 windows), the baseline and the scenario (1,000 replications each), the gain curve (6 points x
  250 replications);
- the part the goal names: the pool of the last 90 days loaded, calibrated once, then 1,000
  replications of a year of the scenario alone (`run_replications(..., jobs=2)`, 60 warm-up days),
  timed on their own; the SimPy events of a replication are counted on a few of them apart;
- the floor: a bare SimPy model of the same size, 1,000 replications over the same 2 processes:
  as many changes arriving (Poisson, over the same warm-up and year), one FIFO `Resource` per
  reviewer (as many reviewers), exponential service with the same mean review effort. Nothing
  else: what SimPy costs for that many events, against which leadlens' replications are a ratio.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from coordination import build, leadlens, say
from ingest import MB, bench_main, machine, measure

AS_OF = "2026-12-01"  # the day after the store's last merge
GOAL_S = 60.0  # 1,000 replications of a year (issue 15, item 7)
WARMUP_DAYS = 60  # as `whatif --simulate` warms up with its default --calibrate-days 90
CALIBRATE_DAYS = 90
SPEEDUPS, ARRIVALS = {"coding": 1.5}, 1.4  # --stage coding --faster 50% --arrivals +40%
COUNTED_REPS = 4  # replications whose SimPy events are counted (in one process, apart)
HERE = Path(__file__).resolve().parent


def _cpu() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    import resource

    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _events(run: Any) -> int:
    """SimPy events processed while ``run()`` runs (Environment.step counted)."""
    import simpy.core

    step = simpy.core.Environment.step
    count = [0]

    def counted(env: simpy.core.Environment) -> None:
        count[0] += 1
        step(env)

    simpy.core.Environment.step = counted  # type: ignore[method-assign]
    try:
        run()
    finally:
        simpy.core.Environment.step = step  # type: ignore[method-assign]
    return count[0]


def child_replications(store: str, reps: str, days: str, jobs: str) -> None:
    """In its own process: load the pool, calibrate, then time the replications of the scenario
    alone; JSON on stderr's last line."""
    from datetime import date, timedelta

    import numpy as np

    from leadlens import engines
    from leadlens.analysis.sim_calibrate import calibrate
    from leadlens.analysis.sim_pool import load_pool
    from leadlens.analysis.sim_results import run_replications
    from leadlens.analysis.simulate import Scenario, replicate
    from leadlens.config import Settings
    from leadlens.conventions import BotRule
    from leadlens.metrics import flow as fm
    from leadlens.store import open_store

    out: dict[str, Any] = {}
    settings = Settings()
    t = time.perf_counter()
    with open_store(store, read_only=True) as st:
        backend = engines.connect(st)
        fl = fm.flow(backend, fm.Filters(bots=BotRule.of(settings.bots),
                                         activity_window=settings.flow.activity_window))
        try:
            as_of = date.fromisoformat(AS_OF)
            pool = load_pool(backend, fl, BotRule.of(settings.bots),
                             as_of - timedelta(days=CALIBRATE_DAYS), as_of)
        finally:
            fl.release()
    out["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    fit = calibrate(pool, days=(pool.end - pool.start).days, seed=1)
    out["calibrate_s"] = time.perf_counter() - t
    sc = Scenario(speedups=SPEEDUPS, arrivals=ARRIVALS)
    t, cpu = time.perf_counter(), _cpu()
    runs = run_replications(fit.pool, [sc], reps=int(reps), seed=1, days=int(days),
                            warmup_days=WARMUP_DAYS, latency_scale=fit.latency_scale,
                            jobs=int(jobs))
    out["replications_s"] = time.perf_counter() - t
    out["replications_cpu_s"] = _cpu() - cpu
    reps_done = runs.by_scenario[0]
    queued = fit.pool.queued
    arrived = [r.arrived for r in reps_done]
    # A few replications apart, in this process: each timed with the queues run without SimPy
    # (what run_replications does here) and with the SimPy model, whose events are counted
    # (counting slows it down, so it is timed on its own first).
    def one(seed: int, engine: str) -> float:
        t = time.perf_counter()
        replicate(fit.pool, sc, days=int(days), warmup_days=WARMUP_DAYS, seed=seed,
                  latency_scale=fit.latency_scale, engine=engine)
        return time.perf_counter() - t

    seeds = range(1, COUNTED_REPS + 1)
    out["rep_fifo_s"] = float(np.mean([one(s, "auto") for s in seeds]))
    out["rep_simpy_s"] = float(np.mean([one(s, "simpy") for s in seeds]))
    events = [_events(lambda s=s: replicate(fit.pool, sc, days=int(days),
                                            warmup_days=WARMUP_DAYS, seed=s,
                                            latency_scale=fit.latency_scale, engine="simpy"))
              for s in seeds]
    out.update({
        "pool": {"changes": pool.changes, "start": str(pool.start), "end": str(pool.end),
                 "reviewers": pool.reviewers, "authors": pool.authors,
                 "arrivals_per_day": float(pool.arrivals.mean()),
                 "queued_share": float(queued.mean()),
                 "effort_mean_s": float(fit.pool.effort_s[queued].mean()),
                 "rounds_mean": float(fit.pool.rounds[queued].mean())},
        "fit": {"latency_scale": fit.latency_scale, "effort_scale": fit.effort_scale},
        "arrived_per_rep": float(np.mean(arrived)),
        # Warm-up included (the same rate): the floor gets as many.
        "all_arrivals_per_rep": float(np.mean(arrived)) * (WARMUP_DAYS + int(days)) / int(days),
        "events_per_rep": float(np.mean(events)),
        "lead_median_h": float(np.median([r.median for r in reps_done])) / 3600})
    print(json.dumps(out), file=sys.stderr)


def _bare(task: tuple[list[int], int, float, int, float]) -> list[float]:
    """Replications of the floor model, one per seed: Poisson arrivals of ``n`` changes over
    ``horizon_s``, each to a uniformly drawn reviewer's FIFO desk, exponential service."""
    import numpy as np
    import simpy

    seeds, n, horizon_s, reviewers, mean_s = task
    medians = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        arrive = np.sort(rng.random(n) * horizon_s).tolist()
        who = rng.integers(0, reviewers, size=n).tolist()
        work = rng.exponential(mean_s, size=n).tolist()
        env = simpy.Environment()
        desks = [simpy.Resource(env, 1) for _ in range(reviewers)]
        lead = [0.0] * n

        def change(i: int, env: simpy.Environment = env, desks: list[Any] = desks,
                   lead: list[float] = lead, work: list[float] = work, who: list[int] = who,
                   arrive: list[float] = arrive) -> Any:
            with desks[who[i]].request() as req:
                yield req
                yield env.timeout(work[i])
            lead[i] = env.now - arrive[i]

        def arrivals(env: simpy.Environment = env, arrive: list[float] = arrive) -> Any:
            for i, at in enumerate(arrive):
                yield env.timeout(at - env.now)
                env.process(change(i))

        env.process(arrivals())
        env.run()
        medians.append(float(np.median(lead)))
    return medians


def child_bare(reps: str, n: str, horizon_s: str, reviewers: str, mean_s: str, jobs: str) -> None:
    """In its own process: the floor's replications over ``jobs`` processes, chunked as
    run_replications chunks them; JSON on stderr's last line."""
    r, j = int(reps), int(jobs)
    chunks = max(1, min(j * 4, r))
    seeds = list(range(1, r + 1))
    tasks = [(seeds[i::chunks], int(n), float(horizon_s), int(reviewers), float(mean_s))
             for i in range(chunks)]
    t, cpu = time.perf_counter(), _cpu()
    with ProcessPoolExecutor(max_workers=j) as ex:
        medians = [m for res in ex.map(_bare, tasks) for m in res]
    wall, cpu = time.perf_counter() - t, _cpu() - cpu
    events = _events(lambda: _bare(([1], int(n), float(horizon_s), int(reviewers),
                                    float(mean_s))))
    print(json.dumps({"replications_s": wall, "replications_cpu_s": cpu, "reps": len(medians),
                      "events_per_rep": events,
                      "lead_median_h": sorted(medians)[len(medians) // 2] / 3600}),
          file=sys.stderr)


def _child(fn: str, *args: str) -> list[str]:
    """A command running ``fn(*args)`` of this module in a fresh interpreter."""
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r}); import simulate;"
            f" simulate.{fn}(*sys.argv[1:])", *args]


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    store: Path = (args.store or tmp / "simulate-bench.duckdb").resolve()
    store.parent.mkdir(parents=True, exist_ok=True)
    shape = argparse.Namespace(changes=args.changes, repos=1, items=args.items, projects=1,
                               people=args.people, line_history=False, spacing=args.spacing,
                               rebuild=args.rebuild)
    res: dict[str, Any] = {"machine": {**machine(), "simpy": version("simpy"),
                                       "numpy": version("numpy")},
                           "args": {"replications": args.replications, "days": args.days,
                                    "jobs": args.jobs, "spacing": args.spacing},
                           "load_before": os.getloadavg(), **build(store, shape)}
    reps, days, jobs = str(args.replications), str(args.days), str(args.jobs)
    if not args.no_cli:
        say(f"leadlens whatif --simulate ... --replications {reps} --days {days} --jobs {jobs}")
        out = store.parent / f"{store.stem}.whatif.json"
        res["cli"] = asdict(measure(leadlens(
            "whatif", "--simulate", "--stage", "coding", "--faster", "50%", "--arrivals", "+40%",
            "--replications", reps, "--days", days, "--jobs", jobs, "--store", str(store),
            "--as-of", AS_OF, "--format", "json", "--out", str(out))))
        doc = json.loads(out.read_text())
        res["cli"]["headline"] = doc["headline"]
        res["cli"]["backtest_windows"] = len((doc.get("backtest") or {}).get("windows") or [])
    say(f"{reps} replications of {days} days of the scenario alone (library, {jobs} processes)")
    part = measure(_child("child_replications", str(store), reps, days, jobs))
    res["replications"] = {**asdict(part), **json.loads(part.stderr.splitlines()[-1])}
    r = res["replications"]
    horizon = (WARMUP_DAYS + args.days) * 86400
    n = round(r["all_arrivals_per_rep"])
    say(f"the floor: bare SimPy, {reps} replications of {n:,} changes, {r['pool']['reviewers']}"
        " reviewers")
    bare = measure(_child("child_bare", reps, str(n), str(horizon), str(r["pool"]["reviewers"]),
                          str(r["pool"]["effort_mean_s"]), jobs))
    res["bare"] = {**asdict(bare), **json.loads(bare.stderr.splitlines()[-1]),
                   "changes_per_rep": n}
    res["load_after"] = os.getloadavg()
    return res


def report(res: dict[str, Any]) -> None:
    m, st, a = res["machine"], res["store"], res["args"]
    r, b = res["replications"], res["bare"]
    p = r["pool"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, {m['os']}")
    if "load_before" in res:
        print("load average (1, 5, 15 min) before: " + ", ".join(
            f"{x:.1f}" for x in res["load_before"]) + "; after: " + ", ".join(
            f"{x:.1f}" for x in res["load_after"]) + (
            f" (above {m['nproc']}: other processes shared the cores; the wall times are longer"
            " than on an idle machine, CPU s / cores is closer to it)"
            if max(res["load_after"]) > m["nproc"] else ""))
    print("versions: " + ", ".join(f"{k} {m[k]}" for k in ("python", "simpy", "numpy", "duckdb",
                                                           "leadlens")))
    print(f"store: {st['changes']:,} changes, one every {a['spacing']:,} s"
          f" ({86400 / a['spacing']:.0f} a day), {st['people']} people,"
          f" {st['pull_requests']:,} pull requests, {st['reviews']:,} reviews"
          f"{' (kept store, reused)' if res.get('reused') else ''}")
    print(f"calibration window {p['start']} to {p['end']}: {p['changes']:,} changes delivered"
          f" ({p['arrivals_per_day']:.1f} a day), {p['authors']} authors, {p['reviewers']}"
          f" reviewers, {p['queued_share']:.0%} queued for review, {p['rounds_mean']:.2f} rounds,"
          f" review effort mean {p['effort_mean_s'] / 60:.0f} min; latency share"
          f" {r['fit']['latency_scale']:.2f}, effort scale {r['fit']['effort_scale']:.2f}")
    print(f"one replication: {r['all_arrivals_per_rep']:,.0f} changes arriving over"
          f" {WARMUP_DAYS} + {a['days']} days ({p['queued_share']:.0%} through a"
          f" reviewer's queue), {r['events_per_rep']:,.0f} events in the SimPy model; the floor:"
          f" {b['changes_per_rep']:,} changes, {b['events_per_rep']:,} events")
    print(f"one replication in one process: {r['rep_fifo_s']:.3f} s with the reviewers' queues"
          f" run without SimPy (what the replications below do: no WIP limit, own queues),"
          f" {r['rep_simpy_s']:.3f} s with the SimPy model ({r['rep_simpy_s'] / r['rep_fifo_s']:.1f}x)"
          "\n")
    head = ("run", "wall s", "CPU s", "peak RSS MB", "workers MB", "events/s", "vs goal")
    rows: list[tuple[str, ...]] = [head]
    events = None  # the replications below run the queues without SimPy: no events to count

    def line(name: str, run: dict[str, Any], wall: float, ev: float | None, goal: bool) -> None:
        rows.append((name, f"{wall:,.2f}", f"{run['cpu_s']:,.1f}", f"{run['self_rss'] / MB:,.0f}",
                     f"{run['children_rss'] / MB:,.0f}", f"{ev / wall:,.0f}" if ev else "",
                     f"{wall / GOAL_S:.2f}" if goal else ""))

    if "cli" in res:
        line("leadlens whatif --simulate (end to end)", res["cli"], res["cli"]["wall_s"], None,
             False)
    line("  its process: load + calibrate + replications", r, r["wall_s"], None, False)
    # CPU of the replications alone: the process's and its workers' (from the child, when known).
    line(f"  {a['replications']:,} replications of a year",
         {**r, "cpu_s": r.get("replications_cpu_s", math.nan)}, r["replications_s"], events, True)
    line(f"bare SimPy: {a['replications']:,} replications",
         {**b, "cpu_s": b.get("replications_cpu_s", math.nan)}, b["replications_s"],
         a["replications"] * b["events_per_rep"], False)
    widths = [max(len(x[i]) for x in rows) for i in range(len(head))]
    for x in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(x, widths, strict=True))).rstrip())
    ratio = r["replications_s"] / b["replications_s"]
    print(f"\nin the library process: pool loaded in {r['load_s']:.2f} s, calibrated in"
          f" {r['calibrate_s']:.2f} s; CPU and RSS above are the whole process's")
    per = r["events_per_rep"] / b["events_per_rep"]
    print(f"leadlens / bare SimPy: {ratio:.2f}x the wall time; the SimPy model has {per:.2f}x the"
          " bare model's events per replication")
    print(f"median lead time over replications: leadlens {r['lead_median_h']:.1f} h,"
          f" bare {b['lead_median_h']:.2f} h")
    ok = r["replications_s"] < GOAL_S
    print(f"goal: {a['replications']:,} replications of {a['days']} days in < {GOAL_S:.0f} s on"
          f" {a['jobs']} processes: {'met' if ok else 'NOT met'} ({r['replications_s']:.1f} s)")
    if "cli" in res:
        print(f"the command's headline: {res['cli']['headline']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--changes", type=int, default=4880, metavar="N",
                    help="merges in the store (default 4,880: 244 days at 20 a day, to AS_OF)")
    ap.add_argument("--spacing", type=int, default=4320, metavar="S",
                    help="seconds between two merges (default 4,320: 20 a day)")
    ap.add_argument("--people", type=int, default=50, metavar="N", help="developers (default 50)")
    ap.add_argument("--items", type=int, default=1000, metavar="N",
                    help="Jira issues (default 1,000)")
    ap.add_argument("--replications", type=int, default=1000, metavar="N")
    ap.add_argument("--days", type=int, default=365, metavar="N", help="days simulated")
    ap.add_argument("--jobs", type=int, default=2, metavar="N", help="processes (default 2)")
    ap.add_argument("--store", type=Path, metavar="PATH",
                    help="build the store here once and reuse it while the recipe is the same"
                         " (default: a temporary store, removed afterwards)")
    ap.add_argument("--rebuild", action="store_true", help="build the --store again anyway")
    ap.add_argument("--no-cli", action="store_true",
                    help="leave out `leadlens whatif --simulate` end to end (the longest run)")
    bench_main(ap, run, report)


if __name__ == "__main__":
    main()
