"""Benchmark derive and `leadlens report` on a synthetic store of a million changes.

The store is generated with DuckDB SQL straight into leadlens' git tables (no git involved): --repos
repositories whose mainline is a chain of GitHub merges of short branches, squash merges, direct
pushes and reverts, by people and bots, with a release tag about every week. Everything is a hash
of the position, so the same size gives the same store. Then, each in its own process so that its
peak RSS is its own: the derive step over every repository, `leadlens report --format json`,
`leadlens report --format html`, and beside them the reference: one plain DuckDB query for the
median merged -> released time over the same milestones, the floor a report could reach.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ingest import MB, bench_main, machine, measure

from leadlens.engines import TIMINGS_ENV

GOAL_S, GOAL_RSS = 10.0, 2 << 30  # leadlens report: under 10 s (issue 16) and 2 GB peak RSS
SLOTS = 32  # commit ids per change: the landing commit (0) and its branch (1..BRANCH_MAX)
BRANCH_MAX = 18
RELEASE_EVERY = 504  # changes between release tags: one week at 20 minutes per merge

# One row per change: its kind, people, times (seconds after 2021-01-01) and branch length.
_CHANGES = """
CREATE TEMP TABLE g_change AS
WITH base AS (
    SELECT r, i, (hash(r, i, 'kind') % 100)::BIGINT AS roll, (hash(r, i, 'who') % 100)::BIGINT AS who_roll,
           (hash(r, i, 'dev') % 400)::BIGINT AS dev,
           i * 1200 + (hash(r, i, 'jitter') % 600)::BIGINT AS merged_s,
           3600 + pow(((hash(r, i, 'review') % 1000)::BIGINT) / 1000.0, 2) * 259200 AS review_s,
           600 + pow(((hash(r, i, 'coding') % 1000)::BIGINT) / 1000.0, 2) * 432000 AS coding_s
    FROM range($repos) a(r) CROSS JOIN range($per_repo) b(i))
SELECT r, i, (r * $per_repo + i) * $slots AS land,
       CASE WHEN i = 0 OR roll < 3 THEN 'push' WHEN roll < 12 THEN 'squash' ELSE 'merge' END AS kind,
       roll IN (3, 4) AND i > 60 AS is_revert,
       CASE WHEN who_roll < 3 THEN 'dependabot[bot]' WHEN who_roll < 5 THEN 'copilot-swe-agent[bot]'
            ELSE 'dev' || dev END AS login,
       CASE WHEN who_roll < 5 THEN NULL ELSE 'Developer ' || dev END AS person,
       CASE WHEN i = 0 OR roll < 12 THEN 0 ELSE 2 + (hash(r, i, 'len') % ($branch_max - 1))::BIGINT END AS k,
       merged_s, merged_s - review_s - coding_s AS work_s, coding_s
FROM base
"""

# One row per commit: the landing commit (j = 0) and the branch commits j = 1..k.
_COMMITS = """
CREATE TEMP TABLE g_commit AS
SELECT c.*, c.land + j AS cid, j,
       CASE WHEN j = 0 THEN c.merged_s
            ELSE c.work_s + (j - 1) * c.coding_s / greatest(c.k - 1, 1) END AS author_s,
       CASE WHEN j = 0 THEN c.merged_s
            ELSE c.work_s + (j - 1) * c.coding_s / greatest(c.k - 1, 1)
                 + (hash(c.land, j, 'commit') % 3600)::BIGINT END AS committer_s,
       CASE WHEN j > 0 OR c.kind <> 'merge' THEN 1 + (hash(c.land, j, 'n') % 4)::BIGINT ELSE 0 END AS nfiles
FROM g_change c, (SELECT unnest(range(c.k + 1)) AS j)
"""

_FILES = """
CREATE TEMP TABLE g_file AS
SELECT cid, r, 'src/area' || hash(r, i, 'area') % 40 || '/mod' || hash(cid, fi, 'f') % 12 || '.py'
           AS path,
       hash(cid, fi, 'bin') % 100 = 0 AS is_binary,
       (hash(cid, fi, 'add') % 80)::INTEGER AS added, (hash(cid, fi, 'del') % 30)::INTEGER AS deleted
FROM (SELECT cid, r, i, unnest(range(nfiles)) AS fi FROM g_commit)
"""

# Release tags over the generated changes (g_change: r, i, land, merged_s), and their refs; the
# coordination benchmark's store makes its tags the same way.
RELEASE_TAGS = [
    """CREATE TEMP TABLE g_tag AS
       SELECT r, land, merged_s, 'v1.' || (i // $release_every) || '.0' AS name, 7200 AS after_s
       FROM g_change WHERE i % $release_every = $release_every - 1
       UNION ALL
       SELECT r, land, merged_s, 'v1.' || (i // $release_every) || '.0rc1', 3600
       FROM g_change WHERE i % ($release_every * 4) = $release_every // 2""",
    """INSERT INTO tags SELECT 'bench/repo' || r, name, sha(land), md5(r || name) || left(md5(name), 8),
           TRUE, 'Release Bot', 'release@example.com', ts(merged_s + after_s), 0, 'Release ' || name
       FROM g_tag""",
    """INSERT INTO refs SELECT 'bench/repo' || r, 'refs/tags/' || name,
           md5(r || name) || left(md5(name), 8), 'tag' FROM g_tag""",
]

_FILL = [
    "CREATE TEMP MACRO sha(x) AS md5('leadlens-bench' || x::VARCHAR) || left(md5(x::VARCHAR), 8)",
    "CREATE TEMP MACRO ts(s) AS TIMESTAMPTZ '2021-01-01 00:00:00+00' + to_microseconds((s * 1e6)::BIGINT)",
    """INSERT INTO repos SELECT 'bench/repo' || r, '/bench/repo' || r,
           'https://github.com/bench/repo' || r || '.git', 'refs/heads/main',
           sha(r * $per_repo * $slots + ($per_repo - 1) * $slots), FALSE, TRUE, FALSE, NULL,
           now(), now(), []::VARCHAR[] FROM range($repos) t(r)""",
    """INSERT INTO ingest_runs SELECT r + 1, 'bench/repo' || r, 'git', '/bench/repo' || r,
           'benchmark', now(), now(), $per_repo, 0 FROM range($repos) t(r)""",
    """INSERT INTO commit_files SELECT 'bench/repo' || r, sha(cid), path, NULL,
           CASE WHEN is_binary THEN NULL ELSE added END,
           CASE WHEN is_binary THEN NULL ELSE deleted END, is_binary FROM g_file""",
    """INSERT INTO commits
       SELECT 'bench/repo' || c.r, sha(c.cid),
           CASE WHEN c.j > 1 THEN [sha(c.cid - 1)]
                WHEN c.j = 1 THEN [sha(c.land - $slots)]
                WHEN c.i = 0 THEN []::VARCHAR[]
                WHEN c.kind = 'merge' THEN [sha(c.land - $slots), sha(c.land + c.k)]
                ELSE [sha(c.land - $slots)] END,
           CASE WHEN c.kind = 'merge' AND c.j = 0 THEN 'GitHub' ELSE coalesce(c.person, c.login) END,
           CASE WHEN c.kind = 'merge' AND c.j = 0 THEN 'noreply@github.com'
                ELSE c.login || '@users.noreply.github.com' END,
           ts(c.author_s), 0,
           CASE WHEN c.j = 0 AND c.kind <> 'push' THEN 'GitHub' ELSE coalesce(c.person, c.login) END,
           CASE WHEN c.j = 0 AND c.kind <> 'push' THEN 'noreply@github.com'
                ELSE c.login || '@users.noreply.github.com' END,
           ts(c.committer_s), 0,
           CASE WHEN c.j > 0 THEN 'Work on change ' || c.i || ', step ' || c.j
                WHEN c.is_revert THEN 'Revert "Change ' || (c.i - 1 - c.i % 50) || '"'
                WHEN c.kind = 'merge' THEN 'Merge pull request #' || (c.i + 1) || ' from '
                     || c.login || '/topic-' || c.i
                WHEN c.kind = 'squash' THEN 'Change ' || c.i || ' (#' || (c.i + 1) || ')'
                ELSE 'Change ' || c.i END,
           CASE WHEN c.is_revert THEN 'This reverts commit ' || sha(c.land - (1 + c.i % 50) * $slots)
                    || '.'
                WHEN c.kind = 'merge' AND c.j = 0 THEN 'Change ' || c.i ELSE NULL END,
           []::STRUCT(key VARCHAR, value VARCHAR)[],
           c.kind = 'merge' AND c.j = 0,
           CASE WHEN c.j = 0 AND c.kind <> 'push' THEN c.i + 1 END,
           CASE WHEN c.is_revert THEN sha(c.land - (1 + c.i % 50) * $slots) END,
           []::STRUCT(kind VARCHAR, person VARCHAR)[], []::VARCHAR[],
           coalesce(f.n, 0), f.added, f.deleted, c.r + 1, TRUE, FALSE
       FROM g_commit c LEFT JOIN (
           SELECT cid, count(*)::INTEGER AS n, sum(added) AS added, sum(deleted) AS deleted
           FROM g_file GROUP BY cid) f USING (cid)""",
    # A release tag every RELEASE_EVERY merges (annotated), and now and then a pre-release.
    *RELEASE_TAGS,
    """INSERT INTO refs SELECT 'bench/repo' || r, 'refs/heads/main', sha(r * $per_repo * $slots
           + ($per_repo - 1) * $slots), 'commit' FROM range($repos) t(r)""",
]


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def generate(path: Path, changes: int, repos: int) -> dict[str, Any]:
    """Write the synthetic git tables (no derived rows) into a fresh store at ``path``."""
    from leadlens.store import open_store

    per_repo = changes // repos
    params = {"repos": repos, "per_repo": per_repo, "slots": SLOTS, "branch_max": BRANCH_MAX,
              "release_every": RELEASE_EVERY}
    start = time.perf_counter()
    with open_store(path) as st:
        st.con.execute("SET enable_progress_bar = false")
        for sql in [_CHANGES, _COMMITS, _FILES, *_FILL]:
            for key, value in params.items():
                sql = sql.replace(f"${key}", str(value))
            st.con.execute(sql)
        counts = {t: st.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                  for t in ("commits", "commit_files", "tags")}
    return {"changes": per_repo * repos, "repos": repos, **counts,
            "generate_s": time.perf_counter() - start}


_DERIVE = """
import sys, time
from leadlens import derive
from leadlens.config import Settings
from leadlens.store import open_store
with open_store(sys.argv[1]) as st:
    repos = derive.repositories(st)
    t = time.perf_counter()
    for done in derive.run(st, repos, Settings()):
        d = done.changes
        print(done.repo, d and d.changes, done.error or "", file=sys.stderr)
    print("derive", round(time.perf_counter() - t, 2), file=sys.stderr)
"""

# `derive.run` above runs every step, precompute included (derive/precompute.py), as `leadlens
# derive` does, and records what each ran on (derive_state). A store derived step by step without
# that record (as this benchmark did before) is "stale (not derived before)" to the report, which
# still reads the precomputed rows (they carry their own fingerprints) but warns. After it, and
# on a reused store, `derive.refresh` runs what is stale, as every ingest does: nothing on a
# current store.
_PRECOMPUTE = """
import sys, time
from leadlens import derive
from leadlens.config import Settings
from leadlens.store import open_store
with open_store(sys.argv[1]) as st:
    t = time.perf_counter()
    done = derive.refresh(st, Settings())
    print("refresh", [d.repo for d in done], round(time.perf_counter() - t, 2), file=sys.stderr)
"""

# The floor: one query, same milestones, no timeline, no segments, no bots, no Ibis.
_REFERENCE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
t = time.perf_counter()
rows = con.execute(\"\"\"
    SELECT count(*), median(epoch(r."at") - epoch(m."at")),
           quantile_cont(epoch(r."at") - epoch(m."at"), 0.85)
    FROM milestones m JOIN milestones r USING (repo, change_id)
    WHERE m.name = 'merged' AND r.name = 'released'\"\"\").fetchall()
print(rows[0][0], rows[0][1], rows[0][2], time.perf_counter() - t, file=sys.stderr)
"""


def leadlens(*args: str) -> list[str]:
    return [sys.executable, "-m", "leadlens", *args]


def sections(stderr: str) -> dict[str, list[float]]:
    """The report's per-section wall and CPU seconds (``timing: NAME WALL CPU`` lines that
    LEADLENS_TIMINGS asks for)."""
    out: dict[str, list[float]] = {}
    for line in stderr.splitlines():
        if line.startswith("timing: "):
            name, wall, cpu = line.removeprefix("timing: ").rsplit(" ", 2)
            was = out.get(name, [0.0, 0.0])
            out[name] = [was[0] + float(wall), was[1] + float(cpu)]
    return out


def _reused(store: Path) -> dict[str, Any]:
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                  for t in ("commits", "commit_files", "tags")}
        repos = con.execute("SELECT count(*) FROM repos").fetchall()[0][0]
        changes = con.execute("SELECT count(*) FROM changes").fetchall()[0][0]
    return {"changes": changes, "repos": repos, **counts, "generate_s": None, "reused": str(store)}


def run(changes: int, repos: int, keep: Path | None, tmp: Path,
        reuse: Path | None = None) -> dict[str, Any]:
    where = keep or (reuse.parent if reuse else tmp)
    where.mkdir(parents=True, exist_ok=True)
    store = reuse or where / "report-bench.duckdb"
    res: dict[str, Any] = {"machine": {**machine(), "ibis": version("ibis-framework")}}
    if reuse is None:
        if store.exists():
            store.unlink()
        say(f"generating {changes:,} changes in {repos} repositories into {store}")
        res["store"] = generate(store, changes, repos)
        say(f"{res['store']['commits']:,} commits, {res['store']['commit_files']:,} file rows in "
            f"{res['store']['generate_s']:.1f} s; derive")
        derive = measure([sys.executable, "-c", _DERIVE, str(store)])
        res["derive"] = asdict(derive)
    else:
        say(f"reusing {store} (derived before)")
        res["store"] = _reused(store)
    say("derive.refresh (what is stale, as every ingest runs it: nothing on a current store)")
    res["precompute"] = asdict(measure([sys.executable, "-c", _PRECOMPUTE, str(store)]))
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        res["derived"] = dict(zip(("changes", "change_commits", "milestones", "released"),
                                  con.execute(
            "SELECT (SELECT count(*) FROM changes), (SELECT count(*) FROM change_commits),"
            " (SELECT count(*) FROM milestones), (SELECT count(*) FROM changes"
            " WHERE release IS NOT NULL)").fetchall()[0], strict=True))
    res["store"]["bytes"] = store.stat().st_size
    took = f" in {res['derive']['wall_s']:.1f} s" if "derive" in res else ""
    say(f"derived {res['derived']['changes']:,} changes{took}; reference query")
    ref = measure([sys.executable, "-c", _REFERENCE, str(store)])
    n, median, p85, query_s = ref.stderr.split()
    res["reference"] = {**asdict(ref), "changes": int(n), "median_s": float(median),
                        "p85_s": float(p85), "query_s": float(query_s)}
    say("leadlens report --format json")
    out = where / "report.json"
    os.environ[TIMINGS_ENV] = "1"
    res["json"] = asdict(measure(leadlens("report", "--store", str(store), "--format", "json",
                                          "--out", str(out))))
    res["json"]["sections"] = sections(res["json"]["stderr"])
    report = json.loads(out.read_text())
    res["json"]["changes"] = report["changes"]
    res["json"]["median_s"] = report["lead_time"]["median_s"]
    say("leadlens report --format html")
    html = where / "report.html"
    res["html"] = asdict(measure(leadlens("report", "--store", str(store), "--format", "html",
                                          "--out", str(html))))
    res["html"]["bytes"] = html.stat().st_size
    res["html"]["sections"] = sections(res["html"]["stderr"])
    return res


def report(res: dict[str, Any]) -> None:
    m, st, d = res["machine"], res["store"], res["derived"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, {m['os']}")
    print("versions: " + ", ".join(f"{k} {m[k]}" for k in ("python", "duckdb", "ibis", "pyarrow",
                                                           "leadlens")))
    print(f"store: {st['changes']:,} changes in {st['repos']} repositories, {st['commits']:,} commits,"
          f" {st['commit_files']:,} file rows, {st['tags']} tags, {st['bytes'] / MB:,.0f} MB"
          + (f" (generated in {st['generate_s']:.1f} s)" if st["generate_s"] is not None
             else f" (reused: {st['reused']})"))
    print(f"derived: {d['changes']:,} changes ({d['released']:,} released),"
          f" {d['change_commits']:,} change commits, {d['milestones']:,} milestones\n")
    ref = res["reference"]
    head = ("run", "wall s", "CPU s", "peak RSS MB", "vs reference", "vs goal (10 s, 2 GB)")
    rows: list[tuple[str, ...]] = [head]

    def line(name: str, r: dict[str, Any], goal: bool) -> None:
        ratio = f"{r['wall_s'] / ref['wall_s']:.1f}x" if r is not ref else ""
        vs = f"{r['wall_s'] / GOAL_S:.2f} time, {r['self_rss'] / GOAL_RSS:.2f} RSS" if goal else ""
        rows.append((name, f"{r['wall_s']:,.2f}", f"{r['cpu_s']:,.1f}", f"{r['self_rss'] / MB:,.0f}",
                     ratio, vs))

    if "derive" in res:
        line("derive (every repository, every step)", res["derive"], False)
    if "precompute" in res:
        line("derive.refresh (only what is stale)", res["precompute"], False)
    line("reference: one DuckDB query", ref, False)
    line("leadlens report --format json", res["json"], True)
    line("leadlens report --format html", res["html"], True)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(c.ljust(w) if i in (0, 5) else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    print(f"\nreference query alone: {ref['query_s']:.2f} s, median merged -> released"
          f" {ref['median_s'] / 3600:.1f} h over {ref['changes']:,} changes; the report's lead time"
          f" median {(res['json']['median_s'] or 0) / 3600:.1f} h over {res['json']['changes']:,}")
    ok = all(res[k]["wall_s"] < GOAL_S and res[k]["self_rss"] < GOAL_RSS for k in ("json", "html"))
    print(f"goal (report < {GOAL_S:g} s and < 2 GB peak RSS): {'met' if ok else 'NOT met'}")
    times = res["json"].get("sections") or {}
    if times:
        print("\nper section (json run; a/b is part b of section a):  wall s   CPU s")
        for name, (wall, cpu) in times.items():
            print(f"  {name:<48} {wall:7.2f} {cpu:7.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--changes", type=int, default=1_000_000, metavar="N",
                    help="changes to generate (default 1,000,000; 20,000 is a quick check)")
    ap.add_argument("--repos", type=int, default=10, metavar="N",
                    help="repositories they are spread over (default 10)")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="write the store and the reports here and keep them")
    ap.add_argument("--store", type=Path, metavar="FILE",
                    help="reuse this store (one --keep made, derived), do not generate one")
    bench_main(ap, lambda args, tmp: run(args.changes, args.repos, args.keep, tmp, args.store),
               report)


if __name__ == "__main__":
    main()
