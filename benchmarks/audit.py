"""Benchmark `leadlens audit`: every rule kind over a synthetic store of 50,000 changes.

The git tables come from benchmarks/report.py's generator (merges of short branches, squash
merges, direct pushes and reverts, by people and bots), derived as there. On top, forge rows for
every change with a pull-request number, each a hash of the change so the same size gives the
same store: its pull request (a label on one in ten), an approving review on seven in ten (after
the last push on most; half of them by one of the ten seniors), check runs `test` and `lint` on
the head of eight in ten (one in ten failing), and a test file in six changes in ten. Then
`leadlens audit --format json` runs as a whole process, with a policy holding every built-in
rule kind and a CODEOWNERS file; the goal is under 30 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ingest import MB, bench_main, machine, measure
from report import _DERIVE, generate

GOAL_S = 30.0

_FORGE = [
    """INSERT INTO pull_requests BY NAME
       SELECT c.repo, c.number, 'closed' AS state, 'dev' || (hash(c.id, 'a') % 400) AS author,
              m."at" - INTERVAL 2 DAY AS created_at, m."at" AS updated_at, m."at" AS closed_at,
              m."at" AS merged_at, c.merge_sha AS merge_commit_sha, c.merge_sha AS head_sha,
              CASE WHEN hash(c.id, 'l') % 10 = 0 THEN ['size-override'] ELSE []::VARCHAR[] END
                  AS labels,
              'github' AS source, now() AS fetched_at
       FROM changes c JOIN milestones m ON m.repo = c.repo AND m.change_id = c.id
            AND m.name = 'merged'
       WHERE c.number IS NOT NULL""",
    """INSERT INTO reviews BY NAME
       SELECT p.repo, p.number, row_number() OVER (ORDER BY p.repo, p.number) AS id,
              'dev' || CASE WHEN hash(p.repo, p.number, 'sr') % 2 = 0
                            THEN 1 + hash(p.repo, p.number, 'rv') % 10
                            ELSE hash(p.repo, p.number, 'rv') % 400 END AS reviewer,
              FALSE AS reviewer_is_bot,
              'APPROVED' AS state,
              p.merged_at - CASE WHEN hash(p.repo, p.number, 't') % 5 = 0 THEN INTERVAL 3 DAY
                                 ELSE INTERVAL 1 MINUTE END AS submitted_at,
              'github' AS source, now() AS fetched_at
       FROM pull_requests p WHERE hash(p.repo, p.number, 'r') % 10 < 7""",
    """INSERT INTO builds BY NAME
       SELECT p.repo, 'check_run' AS kind,
              row_number() OVER (ORDER BY p.repo, p.number, n.name) AS id, n.name,
              p.head_sha, 'completed' AS status,
              CASE WHEN hash(p.repo, p.number, n.name) % 10 = 0 THEN 'failure' ELSE 'success' END
                  AS conclusion,
              'github' AS source, now() AS fetched_at
       FROM pull_requests p, (SELECT unnest(['test', 'lint']) AS name) n
       WHERE hash(p.repo, p.number, 'b') % 10 < 8""",
    # A test file beside the source on six changes in ten (in a work commit of the change).
    """INSERT INTO commit_files
       SELECT c.repo, min(cc.sha), 'tests/test_' || (hash(c.id) % 40) || '.py', NULL, 5, 0, FALSE
       FROM changes c JOIN change_commits cc ON cc.repo = c.repo AND cc.change_id = c.id
       WHERE (cc.sha <> c.merge_sha OR c.commits = 1) AND hash(c.id, 't') % 10 < 6
       GROUP BY c.repo, c.id""",
]

# Every built-in rule kind (docs/policy.md).
POLICY = """\
[groups]
seniors = ["dev1", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7", "dev8", "dev9", "dev10"]

[[rules]]
name = "risky-areas"
rule = "risk-paths"
paths = ["src/area1/**", "src/area2/**", "src/area3/**"]
approvals = 1
group = "seniors"
after_last_push = true

[[rules]]
name = "owners"
rule = "codeowners"

[[rules]]
name = "tests"
rule = "tests-with-code"

[[rules]]
name = "ci"
rule = "checks-green"
checks = ["test", "lint"]

[[rules]]
name = "api"
rule = "contracts"

[[rules]]
name = "traceable"
rule = "ai-traceable"

[[rules]]
name = "secrets"
rule = "no-secrets"

[[rules]]
name = "small"
rule = "size"
max_lines = 400
max_files = 20
override_label = "size-override"

[[rules]]
name = "self"
rule = "no-self-approval"

[[rules]]
name = "ai-review"
rule = "ai-human-review"
"""

CODEOWNERS = "* @dev1 @dev2 @dev3 @dev4 @dev5\n/src/area1/ @dev1\n/src/area2/ @dev2 @dev3\n"


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def prepare(store: Path, changes: int, repos: int) -> dict[str, Any]:
    """Generate, derive and add the forge rows; the store is kept for a --reuse run."""
    import duckdb

    res: dict[str, Any] = {"store": generate(store, changes, repos)}
    say(f"{res['store']['commits']:,} commits generated; derive")
    res["derive"] = asdict(measure([sys.executable, "-c", _DERIVE, str(store)]))
    with duckdb.connect(str(store)) as con:
        for sql in _FORGE:
            con.execute(sql)
    return res


def run(changes: int, repos: int, keep: Path | None, reuse: bool, tmp: Path) -> dict[str, Any]:
    where = keep or tmp
    where.mkdir(parents=True, exist_ok=True)
    store = where / "audit-bench.duckdb"
    res: dict[str, Any] = {"machine": {**machine(), "ibis": version("ibis-framework")}}
    if not (reuse and store.exists()):
        store.unlink(missing_ok=True)
        say(f"generating {changes:,} changes in {repos} repositories into {store}")
        res.update(prepare(store, changes, repos))
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        res["rows"] = dict(zip(
            ("changes", "change_commits", "commit_files", "pull_requests", "reviews", "builds"),
            con.execute("SELECT (SELECT count(*) FROM changes), (SELECT count(*) FROM"
                        " change_commits), (SELECT count(*) FROM commit_files), (SELECT count(*)"
                        " FROM pull_requests), (SELECT count(*) FROM reviews), (SELECT count(*)"
                        " FROM builds)").fetchall()[0], strict=True))
    res["bytes"] = store.stat().st_size
    policy, owners, out = where / "policy.toml", where / "CODEOWNERS", where / "audit.json"
    policy.write_text(POLICY)
    owners.write_text(CODEOWNERS)
    say("leadlens audit --format json")
    cmd = [sys.executable, "-m", "leadlens", "audit", "--store", str(store), "--policy",
           str(policy), "--codeowners", str(owners), "--format", "json", "--out", str(out)]
    res["audit"] = asdict(measure(cmd))
    res["command"] = "leadlens audit --store STORE --policy policy.toml --codeowners CODEOWNERS" \
                     " --format json --out audit.json"
    doc = json.loads(out.read_text())
    res["result"] = {"changes": doc["changes"], "failures": doc["failures"],
                     "rules": {r["rule"]: {k: r[k] for k in ("kind", "passed", "failed", "unknown",
                                                           "not_applicable", "compliance")}
                               for r in doc["rules"]}}
    return res


def report(res: dict[str, Any]) -> None:
    m, rows, a = res["machine"], res["rows"], res["audit"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, {m['os']}")
    print("versions: " + ", ".join(f"{k} {m[k]}" for k in ("python", "duckdb", "ibis", "pyarrow",
                                                           "leadlens")))
    print("store: " + ", ".join(f"{v:,} {k}" for k, v in rows.items())
          + f", {res['bytes'] / MB:,.0f} MB")
    print(f"command: {res['command']}")
    print(f"audit: {a['wall_s']:.2f} s wall, {a['cpu_s']:.1f} s CPU, peak RSS"
          f" {a['self_rss'] / MB:,.0f} MB; {res['result']['changes']:,} changes,"
          f" {res['result']['failures']:,} rule failures")
    for name, r in res["result"]["rules"].items():
        comp = "-" if r["compliance"] is None else f"{r['compliance']:.1%}"
        print(f"  {name:<12} {r['kind']:<16} pass {r['passed']:>6,} fail {r['failed']:>6,}"
              f" unknown {r['unknown']:>6,} n/a {r['not_applicable']:>6,} compliance {comp}")
    print(f"goal (audit < {GOAL_S:.0f} s): {'met' if a['wall_s'] < GOAL_S else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--changes", type=int, default=50_000, metavar="N",
                    help="changes to generate (default 50,000)")
    ap.add_argument("--repos", type=int, default=10, metavar="N",
                    help="repositories they are spread over (default 10)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="write the store here and keep it")
    ap.add_argument("--reuse", action="store_true",
                    help="with --keep: audit the store already there instead of generating one")
    bench_main(ap, lambda args, tmp: run(args.changes, args.repos, args.keep, args.reuse, tmp),
               report)


if __name__ == "__main__":
    main()
