"""Benchmark the coordination signals (issue 14) on a synthetic store of 200,000 changes and
50,000 Jira work items.

The store (benchmarks/coordination_store.py describes its shape) is written with DuckDB SQL
straight into leadlens' source tables: git (people in five time zones, files that collide, merges
from main), GitHub (pull requests, review rounds, review and issue comments with questions and
answers, pr_commits mapping logins to commits, bots and API-only reviewers) and Jira (issues with
descriptions and acceptance criteria, changelogs with status, description, assignee, Flagged and
story-point changes, comments, "is blocked by" links, 5% bugs linking the pull request that
introduced them). Then leadlens' own derive step makes every derived table from them
(`derive.refresh`: changes, mainline, milestones, the forge join; `derive.items`: work items,
transitions, links). With --store PATH the store is kept there and reused while the sizes and the
generator are the same (PATH.recipe.json beside it records what was built).

Then, each in its own process so that its peak RSS is its own:

- `leadlens report --format json` on that store, end to end (with the coordination section once
  the report has it);
- the reference: the same report without the coordination section (`leadlens report
  --no-coordination`) when the command has that switch; until then the plain report *is* the
  reference, and the table says so;
- the coordination builders alone, through the library: every `*_figures(backend, fl, filters,
  settings, as_of, *, per_person, ...)` function of `leadlens.analysis` (the contract of issue
  14), after one flow over the whole store; none yet: the row says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from coordination_store import AS_OF, SPACING_S, fingerprint, generate
from ingest import MB, bench_main, machine, measure

GOAL_S, GOAL_RSS = 20.0, 2 << 30  # all signals: under 20 s and under 2 GB (issue 14, item 10)
SWITCH = "--no-coordination"  # the report's switch that leaves the coordination section out

_DERIVE = """
import sys, time
from leadlens import derive
from leadlens.config import Settings
from leadlens.store import open_store
with open_store(sys.argv[1]) as st:
    t = time.perf_counter()
    done = derive.refresh(st, Settings())
    t1 = time.perf_counter()
    derive.items(st, Settings(), force=True)
    for d in done:
        if d.error:
            print("derive failed:", d.repo, d.error, file=sys.stderr)
    print(len(done), sum(d.error is not None for d in done), round(t1 - t, 2),
          round(time.perf_counter() - t1, 2), file=sys.stderr)
"""

# The coordination builders alone: whatever `*_figures` of leadlens.analysis has the contract's
# signature, after one flow over the whole store (built and counted first, timed on its own).
_BUILDERS = """
import importlib, inspect, json, pkgutil, sys, time
from datetime import datetime
import leadlens.analysis as pkg
WANT = ["backend", "fl", "filters", "settings", "as_of"]
found = []
for m in pkgutil.iter_modules(pkg.__path__):
    mod = importlib.import_module("leadlens.analysis." + m.name)
    for name, fn in sorted(vars(mod).items()):
        if (name.endswith("_figures") and inspect.isfunction(fn) and fn.__module__ == mod.__name__
                and list(inspect.signature(fn).parameters)[:5] == WANT
                and "per_person" in inspect.signature(fn).parameters):
            found.append((m.name + "." + name, fn))
out = {"builders": {}, "flow_s": None}
if found:
    from leadlens import engines
    from leadlens.config import Settings
    from leadlens.conventions import BotRule
    from leadlens.metrics import flow as fm
    from leadlens.store import open_store
    from leadlens.store.db import limit_memory
    from leadlens.config import DEFAULT_COORDINATION_RESAMPLES as RESAMPLES
    settings = Settings()
    as_of = datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))
    with open_store(sys.argv[1], read_only=True) as st:
        limit_memory(st, settings.memory_limit)
        backend = engines.connect(st)
        filters = fm.Filters(bots=BotRule.of(settings.bots),
                             activity_window=settings.flow.activity_window)
        t = time.perf_counter()
        fl = fm.flow(backend, filters)
        backend.execute(fl.scope.count())
        out["flow_s"] = time.perf_counter() - t
        for name, fn in found:
            t = time.perf_counter()
            # As the report runs them: with the coordination signals' resamples.
            fig = fn(backend, fl, filters, settings, as_of, resamples=RESAMPLES)
            out["builders"][name] = {"s": time.perf_counter() - t,
                                     "reason": getattr(fig, "reason", None),
                                     "nulls": sorted(getattr(fig, "null_reasons", None) or {})}
print(json.dumps(out), file=sys.stderr)
"""


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def leadlens(*args: str) -> list[str]:
    return [sys.executable, "-m", "leadlens", *args]


def has_switch() -> bool:
    """Whether `leadlens report` has --no-coordination (the integrator's report flag)."""
    help_text = subprocess.run(leadlens("report", "--help"), capture_output=True, text=True,
                               env={**os.environ, "COLUMNS": "300", "TERM": "dumb"}).stdout
    return SWITCH in help_text


def recipe(args: argparse.Namespace) -> dict[str, Any]:
    """What a kept store was built from: the sizes and the generator's source."""
    return {"changes": args.changes, "repos": args.repos, "items": args.items,
            "projects": args.projects, "people": args.people, "line_history": args.line_history,
            "generator": fingerprint(),
            "derive": hashlib.sha256(_DERIVE.encode()).hexdigest()[:16],
            # Only when not the default: stores kept before --spacing existed stay valid.
            **({"spacing": args.spacing} if args.spacing != SPACING_S else {})}


def build(store: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Generate and derive the store (or reuse a kept one built from the same recipe)."""
    meta = store.with_name(store.name + ".recipe.json")
    want = recipe(args)
    if store.exists() and meta.exists() and not args.rebuild:
        try:
            kept = json.loads(meta.read_text())
        except ValueError:
            kept = {}
        if kept.get("recipe") == want:
            say(f"reusing {store} (built {kept['built_at']})")
            return {**kept, "reused": True}
        say(f"{store} was built from another recipe: building it again")
    for p in (store, meta, store.with_name(store.name + ".wal")):
        p.unlink(missing_ok=True)
    say(f"generating {args.changes:,} changes in {args.repos} repositories and {args.items:,}"
        f" items in {args.projects} projects into {store}")
    gen = generate(store, args.changes, args.repos, args.items, args.projects, args.people,
                   args.line_history, spacing=args.spacing)
    say(f"{gen['commits']:,} commits, {gen['pull_requests']:,} pull requests, {gen['comments']:,}"
        f" comments, {gen['jira_changelog']:,} changelog rows in {gen['generate_s']:.1f} s; derive")
    der = measure([sys.executable, "-c", _DERIVE, str(store)])
    repos, failed, changes_s, items_s = der.stderr.split()[-4:]
    if int(failed):
        sys.exit(f"the derive failed on {failed} of {repos} repositories:\n{der.stderr}")
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        derived = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in (
            "changes", "change_commits", "milestones", "work_items", "work_item_transitions",
            "item_links", "line_changes", "rewritten_lines")}
        derived["links_by_how"] = dict(con.execute(
            "SELECT how, count(*) FROM item_links GROUP BY how ORDER BY how").fetchall())
    built = {"recipe": want, "built_at": time.strftime("%Y-%m-%d %H:%M:%S"), "store": gen,
             "derive": {**asdict(der), "changes_s": float(changes_s), "items_s": float(items_s)},
             "derived": derived, "bytes": store.stat().st_size}
    meta.write_text(json.dumps(built, indent=2))
    return {**built, "reused": False}


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    store: Path = (args.store or tmp / "coordination-bench.duckdb").resolve()
    store.parent.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"machine": {**machine(), "ibis": version("ibis-framework")},
                           "as_of": AS_OF, **build(store, args)}
    where = store.parent
    base = ("report", "--store", str(store), "--format", "json", "--as-of", AS_OF)
    switch = has_switch()
    res["switch"] = switch
    if not args.no_coordination:
        say("leadlens report --format json")
        out = where / f"{store.stem}.report.json"
        res["report"] = asdict(measure(leadlens(*base, "--out", str(out))))
        doc = json.loads(out.read_text())
        res["report"]["sections"] = sorted(k for k in ("coordination", "spec_quality") if k in doc)
        res["report"]["changes"] = doc.get("changes")
    if switch:
        say("leadlens report --format json --no-coordination (the reference)")
        res["reference"] = asdict(measure(leadlens(*base, SWITCH, "--out",
                                                   str(where / f"{store.stem}.reference.json"))))
    elif args.no_coordination:
        say("leadlens report --format json (no coordination section yet: the reference)")
        res["reference"] = asdict(measure(leadlens(*base, "--out",
                                                   str(where / f"{store.stem}.reference.json"))))
    if not args.no_coordination:
        say("coordination builders alone (library)")
        b = measure([sys.executable, "-c", _BUILDERS, str(store), AS_OF])
        res["builders"] = {**asdict(b), **json.loads(b.stderr.splitlines()[-1])}
    return res


def report(res: dict[str, Any]) -> None:
    m, st, d, der = res["machine"], res["store"], res["derived"], res["derive"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, {m['os']}")
    print("versions: " + ", ".join(f"{k} {m[k]}" for k in ("python", "duckdb", "ibis", "pyarrow",
                                                           "leadlens")))
    print(f"store: {st['changes']:,} changes in {st['repos']} repositories, {st['commits']:,}"
          f" commits, {st['commit_files']:,} file rows, {st['tags']:,} tags,"
          f" {st['pull_requests']:,} pull requests,"
          f" {st['reviews']:,} reviews, {st['comments']:,} comments ({st['questions']:,}"
          f" questions), {st['pr_commits']:,} PR commits; {st['items']:,} Jira issues in"
          f" {st['projects']} projects ({st['bugs']:,} bugs), {st['jira_changelog']:,} changelog"
          f" rows, {st['jira_comments']:,} comments, {st['jira_issue_links']:,} issue links,"
          f" {st['jira_remote_links']:,} remote links; {st['people']} people; {res['bytes'] / MB:,.0f}"
          f" MB{' (kept store, reused)' if res.get('reused') else ''}")
    print(f"built: generated in {st['generate_s']:.1f} s, derived in {der['wall_s']:.1f} s"
          f" (changes + forge {der['changes_s']:.1f} s, items {der['items_s']:.1f} s, peak"
          f" {der['self_rss'] / MB:,.0f} MB): {d['changes']:,} changes, {d['milestones']:,}"
          f" milestones, {d['work_items']:,} work items, {d['work_item_transitions']:,}"
          f" transitions, {d['item_links']:,} item links ("
          + ", ".join(f"{k} {v:,}" for k, v in d["links_by_how"].items()) + ")"
          + (f"; line history: {st['line_hunks']:,} hunks, {d['line_changes']:,} line changes,"
             f" {d['rewritten_lines']:,} rewritten-line rows" if d.get("line_changes") else "")
          + "\n")
    ref = res.get("reference") or res.get("report")
    same = "reference" not in res
    head = ("run", "wall s", "CPU s", "peak RSS MB", "vs reference", "vs goal (20 s, 2 GB)")
    rows: list[tuple[str, ...]] = [head]

    def line(name: str, r: dict[str, Any], goal: bool) -> None:
        ratio = f"{r['wall_s'] / ref['wall_s']:.2f}x" if ref and r is not ref else ""
        vs = f"{r['wall_s'] / GOAL_S:.2f} time, {r['self_rss'] / GOAL_RSS:.2f} RSS" if goal else ""
        rows.append((name, f"{r['wall_s']:,.2f}", f"{r['cpu_s']:,.1f}", f"{r['self_rss'] / MB:,.0f}",
                     ratio, vs))

    if "report" in res:
        sections = ", ".join(res["report"]["sections"]) or "no coordination section yet"
        line(f"leadlens report --format json ({sections})", res["report"], True)
    if "reference" in res:
        line(f"reference: report {SWITCH}" if res["switch"]
             else "reference: report (no coordination yet)", res["reference"], False)
    b = res.get("builders")
    if b:
        line("coordination builders alone (library)" if b["builders"]
             else "builders alone: none in leadlens.analysis yet", b, bool(b["builders"]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(c.ljust(w) if i in (0, 5) else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    if same and "report" in res:
        print(f"\nthe report has no {SWITCH} switch yet: it is its own reference")
    if b and b["builders"]:
        print(f"\ninside the builders' process: flow over the store {b['flow_s']:.2f} s, then")
        for name, f in b["builders"].items():
            why = f" (null: {f['reason']})" if f["reason"] else (
                f" (null figures: {', '.join(f['nulls'])})" if f["nulls"] else "")
            print(f"  {name:<45} {f['s']:7.2f} s{why}")
        # One builder of them all (analysis/coordination.py) calls the others: count it alone.
        whole = [f["s"] for name, f in b["builders"].items() if name.startswith("coordination.")]
        total = sum(whole) if whole else sum(f["s"] for f in b["builders"].values())
        ok = b["wall_s"] < GOAL_S and b["self_rss"] < GOAL_RSS
        print(f"  {'all builders':<45} {total:7.2f} s; goal (< 20 s, < 2 GB):"
              f" {'met' if ok else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--changes", type=int, default=200_000, metavar="N",
                    help="changes to generate (default 200,000; 20,000 is a quick check)")
    ap.add_argument("--items", type=int, default=50_000, metavar="N",
                    help="Jira issues (default 50,000; 5,000 with --changes 20000)")
    ap.add_argument("--repos", type=int, default=20, metavar="N",
                    help="repositories (default 20; a multiple of --projects)")
    ap.add_argument("--projects", type=int, default=10, metavar="N",
                    help="Jira projects (default 10), each served by --repos/--projects repositories")
    ap.add_argument("--people", type=int, default=150, metavar="N",
                    help="developers (default 150)")
    ap.add_argument("--store", type=Path, metavar="PATH",
                    help="build the store here once and reuse it while the sizes and generator"
                         " are the same (default: a temporary store, removed afterwards)")
    ap.add_argument("--line-history", action=argparse.BooleanOptionalAction, default=True,
                    help="write line history (one hunk per commit and file), from which the derive"
                         " makes line_changes and rewritten_lines for rework and SZZ (default: on)")
    ap.add_argument("--spacing", type=int, default=SPACING_S, metavar="S",
                    help=f"seconds between two merges of a repository (default {SPACING_S})")
    ap.add_argument("--rebuild", action="store_true", help="build the --store again anyway")
    ap.add_argument("--no-coordination", action="store_true",
                    help="time only the reference: the report without the coordination section")
    bench_main(ap, run, report)


if __name__ == "__main__":
    main()
