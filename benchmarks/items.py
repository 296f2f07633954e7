"""Benchmark the items derive (linking commits to work items) and `leadlens items` on a synthetic
store of a million commits and a hundred thousand Jira issues.

The store is generated with DuckDB SQL straight into leadlens' tables (no git, no Jira involved):
--commits commits in --repos repositories, grouped into changes of about ten commits (a third of
them with a pull request whose branch, title and body may name an item), and --items Jira issues in
--projects projects, with old keys of moved issues, statuses (one without a category), three status
changes each and remote links to commits. Commit messages name one key (60%), two keys (10%), a key
of no ingested project or past the last issue (5%), noise that looks like a key (`UTF-8`,
`SHA-256`, `ISO-9001`: 5%) or nothing. Everything is a hash of the position, so the same sizes give
the same store, and the generator knows which item each text names: after the run the links the
derive made are checked against it, per kind, so the benchmark also proves the linking right.

Then, each in its own process so that its peak RSS is its own: the items derive
(`leadlens.derive.items(store, settings, force=True)`), the same again (nothing changed: the
common re-run), `leadlens items --format jsonl`, and beside
them the reference: one plain DuckDB query that extracts keys from the same commit messages with
`regexp_extract_all` and joins them to the keys table, the floor any linker could reach.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ingest import MB, bench_main, machine, measure

GOAL_S = 10.0  # linking 1M commits x 100k items under 10 s
SITE = "https://bench.atlassian.net"
MOVED_PROJECT = "MOV"  # where moved issues came from (their old keys)
GHOST_PROJECT = "ZQX"  # named in commit messages, never ingested
NOISE = "Fix UTF-8 decoding of SHA-256 sums (ISO-9001 audit)"


def project_keys(n: int) -> list[str]:
    """``n`` distinct project keys of 2-6 letters (A-Y: never a ghost `Z...` key), none of them a
    noise word or the moved project."""
    keys: list[str] = []
    x = 7
    taken = {"UTF", "SHA", "ISO", MOVED_PROJECT}
    while len(keys) < n:
        x = (x * 1103515245 + 12345) % (1 << 31)
        length, v, key = 2 + len(keys) % 5, x, ""
        for _ in range(length):
            key, v = key + chr(ord("A") + v % 25), v // 25
        if key not in taken:
            taken.add(key)
            keys.append(key)
    return keys


_GEN = [
    "CREATE TEMP MACRO sha(x) AS md5('leadlens-items' || x::VARCHAR) || left(md5(x::VARCHAR), 8)",
    "CREATE TEMP MACRO ts(s) AS TIMESTAMPTZ '2023-01-01 00:00:00+00' + to_microseconds((s * 1e6)::BIGINT)",
    # Items: item i is issue number i // P + 1 of project i % P; one in 20 moved from MOV.
    """CREATE TEMP TABLE g_item AS
       SELECT i, p.key || '-' || (i // $projects + 1) AS key, p.key AS project,
              hash(i, 'moved') % 20 = 0 AS moved, '$moved-' || (i + 1) AS old_key,
              i * 600 AS created_s, (hash(i, 'weird') % 10 = 0) AS weird
       FROM range($items) t(i) JOIN g_project p ON p.p = i % $projects""",
    # Commits: position j in repository r; a change starts at j = 0 and then about every $per_change.
    """CREATE TEMP TABLE g_commit AS
       WITH c AS (
           SELECT r, j, r * $per_repo + j AS cid,
                  (j = 0 OR hash(r, j, 'cut') % $per_change = 0)::INTEGER AS cut,
                  (hash(r * $per_repo + j, 'msg') % 100)::INTEGER AS roll,
                  (hash(r * $per_repo + j, 'i1') % $items)::BIGINT AS item1,
                  (hash(r * $per_repo + j, 'i2') % $items)::BIGINT AS item2,
                  hash(r * $per_repo + j, 'old') % 2 = 0 AS use_old
           FROM range($repos) a(r) CROSS JOIN range($per_repo) b(j))
       SELECT c.*, sum(cut) OVER (PARTITION BY r ORDER BY j) - 1 AS ci,
              CASE WHEN i1.moved AND c.use_old THEN i1.old_key ELSE i1.key END AS k1,
              i2.key AS k2, i1.project AS p1
       FROM c JOIN g_item i1 ON i1.i = c.item1 JOIN g_item i2 ON i2.i = c.item2""",
    """CREATE TEMP TABLE g_message AS
       SELECT r, j, cid, ci, roll, item1, item2,
              CASE WHEN roll < 70 THEN k1 || ': work on step ' || j
                   WHEN roll < 73 THEN '$ghost-' || (1 + hash(cid, 'g') % 500) || ': not ours'
                   WHEN roll < 75 THEN p1 || '-' || ($items + 1 + hash(cid, 'g') % 500)
                                      || ': past the last issue'
                   WHEN roll < 80 THEN '$noise'
                   ELSE 'Refactor module ' || j % 97 END AS subject,
              CASE WHEN roll >= 60 AND roll < 70 THEN 'Also touches ' || k2 || '.'
                   WHEN roll % 3 = 0 THEN 'Signed-off-by: Dev <dev@example.com>' END AS body
       FROM g_commit""",
    """CREATE TEMP TABLE g_change AS
       SELECT r, ci, min(cid) AS first_cid, max(cid) AS land, count(*) AS n,
              hash(r, ci, 'pr') % 10 < 3 AS has_pr,
              (hash(r, ci, 'head') % 100)::INTEGER AS pr_roll,
              (hash(r, ci, 'pri') % $items)::BIGINT AS pr_item,
              (hash(r, ci, 'pr2') % $items)::BIGINT AS pr_item2
       FROM g_commit GROUP BY r, ci""",
    """CREATE TEMP TABLE g_ch AS
       SELECT g.*, 'bench/repo' || g.r AS repo,
              CASE WHEN g.has_pr THEN 'bench/repo' || g.r || '#' || (g.ci + 1)
                   ELSE 'bench/repo' || g.r || '@' || sha(g.land) END AS id,
              CASE WHEN g.has_pr THEN g.ci + 1 END AS number,
              CASE WHEN g.pr_roll < 70 THEN 'feature/' || a.key || '-thing'
                   ELSE 'fix/thing-' || g.ci END AS head_ref,
              CASE WHEN g.pr_roll % 2 = 0 THEN a.key || ' Implement the thing'
                   ELSE 'Implement thing ' || g.ci END AS pr_title,
              CASE WHEN g.pr_roll < 40 THEN 'Closes ' || a.key || '.'
                   WHEN g.pr_roll < 50 THEN 'Closes ' || a.key || ', see ' || b.key || ' (UTF-8).'
                   ELSE 'No ticket.' END AS pr_body,
              m.subject AS land_subject
       FROM g_change g JOIN g_item a ON a.i = g.pr_item JOIN g_item b ON b.i = g.pr_item2
       JOIN g_message m ON m.cid = g.land""",
    # --- the leadlens tables
    """INSERT INTO repos SELECT 'bench/repo' || r, '/bench/repo' || r,
           'https://github.com/bench/repo' || r || '.git', 'refs/heads/main',
           sha(r * $per_repo + $per_repo - 1), FALSE, TRUE, FALSE, NULL, now(), now(), []::VARCHAR[]
       FROM range($repos) t(r)""",
    """INSERT INTO ingest_runs SELECT r + 1, 'bench/repo' || r, 'git', '/bench/repo' || r,
           'benchmark', now(), now(), $per_repo, 0 FROM range($repos) t(r)""",
    """INSERT INTO commits (repo, sha, parents, author_name, author_email, author_time,
           committer_name, committer_email, committer_time, subject, body, is_merge, run_id)
       SELECT 'bench/repo' || r, sha(cid), CASE WHEN j = 0 THEN []::VARCHAR[] ELSE [sha(cid - 1)] END,
              'Dev', 'dev@example.com', ts(86400 * 30 + j * 600), 'Dev', 'dev@example.com',
              ts(86400 * 30 + j * 600 + 60), subject, body, FALSE, r + 1
       FROM g_message""",
    """INSERT INTO changes (repo, id, number, merge_sha, title, author, is_merge, commits)
       SELECT repo, id, number, sha(land), CASE WHEN has_pr THEN pr_title ELSE land_subject END,
              'dev', FALSE, n FROM g_ch""",
    """INSERT INTO change_commits (repo, change_id, sha, author_time, committer_time)
       SELECT 'bench/repo' || m.r, c.id, sha(m.cid), ts(86400 * 30 + m.j * 600),
              ts(86400 * 30 + m.j * 600 + 60) FROM g_message m JOIN g_ch c ON c.r = m.r AND c.ci = m.ci""",
    """INSERT INTO milestones (repo, change_id, name, "at", source, proxy)
       SELECT c.repo, c.id, 'work_started', ts(86400 * 30 + (c.first_cid - c.r * $per_repo) * 600),
              'git', FALSE FROM g_ch c
       UNION ALL
       SELECT c.repo, c.id, 'merged', ts(86400 * 30 + (c.land - c.r * $per_repo) * 600 + 60),
              'git', FALSE FROM g_ch c
       UNION ALL
       SELECT c.repo, c.id, 'released', ts(86400 * 32 + (c.land - c.r * $per_repo) * 600),
              'git', FALSE FROM g_ch c WHERE hash(c.r, c.ci, 'rel') % 10 < 8""",
    """INSERT INTO pull_requests (repo, number, title, body, author, state, created_at, updated_at,
           closed_at, merged_at, merge_commit_sha, base_ref, head_ref, source, fetched_at)
       SELECT repo, number, pr_title, pr_body, 'dev', 'closed',
              ts(86400 * 29 + (first_cid - r * $per_repo) * 600),
              ts(86400 * 30 + (land - r * $per_repo) * 600 + 60),
              ts(86400 * 30 + (land - r * $per_repo) * 600 + 60),
              ts(86400 * 30 + (land - r * $per_repo) * 600 + 60), sha(land), 'main', head_ref,
              'github', now()
       FROM g_ch WHERE has_pr""",
    # --- Jira: statuses (one without a category), issues, their keys, changelog, remote links
    """INSERT INTO jira_statuses (id, name, category, fetched_at) VALUES
       ('1', 'Backlog', 'new', now()), ('2', 'Selected', 'new', now()),
       ('3', 'In Progress', 'indeterminate', now()), ('4', 'In Review', 'indeterminate', now()),
       ('5', 'Done', 'done', now()), ('6', 'Parked', NULL, now())""",
    """INSERT INTO jira_issues (id, key, project_key, project_id, issue_type, summary, status_id,
           status, status_category, reporter, created_at, updated_at, resolved_at, site, fetched_at)
       SELECT (10000 + i)::VARCHAR, key, project, project, 'Story', 'Story ' || key,
              CASE WHEN weird THEN '6' ELSE '5' END, CASE WHEN weird THEN 'Parked' ELSE 'Done' END,
              CASE WHEN weird THEN NULL ELSE 'done' END, 'acc-' || i % 50, ts(created_s),
              ts(created_s + 86400 * 6), CASE WHEN NOT weird THEN ts(created_s + 86400 * 6) END,
              '$site', now()
       FROM g_item""",
    """INSERT INTO jira_issue_keys SELECT (10000 + i)::VARCHAR, key FROM g_item
       UNION ALL SELECT (10000 + i)::VARCHAR, old_key FROM g_item WHERE moved""",
    """INSERT INTO jira_changelog (issue_id, history_id, item_index, field, field_id, from_value,
           from_string, to_value, to_string, author, "at", fetched_at)
       SELECT (10000 + i)::VARCHAR, (i * 3 + s)::VARCHAR, 0, 'status', 'status',
              ['1', '2', '3'][s + 1], ['Backlog', 'Selected', 'In Progress'][s + 1],
              CASE WHEN s = 2 AND weird THEN '6' ELSE ['2', '3', '5'][s + 1] END,
              CASE WHEN s = 2 AND weird THEN 'Parked' ELSE ['Selected', 'In Progress', 'Done'][s + 1] END,
              'acc-' || i % 50, ts(created_s + 86400 * [1, 3, 6][s + 1]), now()
       FROM g_item, range(3) t(s)""",
    # One issue in ten links a commit (one of those in ten by a 12-digit short sha), one in twenty a
    # wiki page (never a change).
    """CREATE TEMP TABLE g_remote AS
       SELECT i, (hash(i, 'rc') % ($repos * $per_repo))::BIGINT AS cid,
              hash(i, 'short') % 10 = 0 AS short
       FROM g_item WHERE hash(i, 'rl') % 10 = 0""",
    """INSERT INTO jira_remote_links (issue_id, id, url, title, relationship, fetched_at)
       SELECT (10000 + g.i)::VARCHAR, '1', 'https://github.com/bench/repo' || (g.cid // $per_repo)
              || '/commit/' || CASE WHEN g.short THEN left(sha(g.cid), 12) ELSE sha(g.cid) END,
              'commit', 'mentioned in', now() FROM g_remote g
       UNION ALL
       SELECT (10000 + i)::VARCHAR, '2', 'https://wiki.example.com/pages/' || i, 'spec',
              'wiki page', now() FROM g_item WHERE hash(i, 'wiki') % 20 = 0""",
]

# What the derive must find, from what the generator wrote (never from the texts): distinct
# (item, change) pairs per kind of link.
_EXPECTED = """
WITH ch AS (SELECT c.*, m.roll AS land_roll, m.item1 AS land_item FROM g_ch c
            JOIN g_message m ON m.cid = c.land),
named AS (
    SELECT m.item1 AS item, c.id, 'commit' AS how FROM g_message m JOIN g_ch c USING (r, ci)
    WHERE m.roll < 70
    UNION ALL SELECT m.item2, c.id, 'commit' FROM g_message m JOIN g_ch c USING (r, ci)
    WHERE m.roll >= 60 AND m.roll < 70
    UNION ALL SELECT pr_item, id, 'branch' FROM ch WHERE has_pr AND pr_roll < 70
    UNION ALL SELECT pr_item, id, 'title' FROM ch WHERE has_pr AND pr_roll % 2 = 0
    UNION ALL SELECT land_item, id, 'title' FROM ch WHERE NOT has_pr AND land_roll < 70
    UNION ALL SELECT pr_item, id, 'body' FROM ch WHERE has_pr AND pr_roll < 50
    UNION ALL SELECT pr_item2, id, 'body' FROM ch WHERE has_pr AND pr_roll >= 40 AND pr_roll < 50
    UNION ALL SELECT g.i, c.id, 'remote_link' FROM g_remote g
    JOIN g_commit m ON m.cid = g.cid JOIN g_ch c USING (r, ci))
SELECT how, count(DISTINCT (item, id)) FROM named GROUP BY how ORDER BY how
"""


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def generate(path: Path, commits: int, repos: int, per_change: int, items: int,
             projects: int) -> dict[str, Any]:
    """Write the synthetic tables into a fresh store at ``path``; return sizes and the links the
    derive must make, per kind."""
    from leadlens.store import open_store

    per_repo = commits // repos
    params = {"repos": repos, "per_repo": per_repo, "per_change": per_change, "items": items,
              "projects": projects, "moved": MOVED_PROJECT, "ghost": GHOST_PROJECT,
              "noise": NOISE, "site": SITE}
    start = time.perf_counter()
    with open_store(path) as st:
        con = st.con
        con.execute("SET enable_progress_bar = false")
        con.execute("CREATE TEMP TABLE g_project (p BIGINT, key VARCHAR)")
        con.executemany("INSERT INTO g_project VALUES (?, ?)",
                        list(enumerate(project_keys(projects))))
        for sql in _GEN:
            for key, value in params.items():
                sql = sql.replace(f"${key}", str(value))
            con.execute(sql)
        expected = dict(con.execute(_EXPECTED).fetchall())
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                  for t in ("commits", "changes", "pull_requests", "jira_issues",
                            "jira_issue_keys", "jira_changelog", "jira_remote_links")}
    return {"repos": repos, "projects": projects, **counts, "expected": expected,
            "generate_s": time.perf_counter() - start}


_DERIVE = """
import sys, time
from leadlens import derive
from leadlens.config import Settings
from leadlens.store import open_store
with open_store(sys.argv[1]) as st:
    t = time.perf_counter()
    run = derive.items(st, Settings(), force=True)
    d = run.derived
    print(d.items, d.links, d.linked_changes, round(time.perf_counter() - t, 2), file=sys.stderr)
"""

# The floor: one query over the same commit messages and the same keys: extract, join, count the
# distinct (issue, change) pairs. No other text, no statuses, no remote links.
_REFERENCE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
t = time.perf_counter()
n = con.execute(\"\"\"
    SELECT count(*) FROM (
        SELECT DISTINCT k.issue_id, cc.change_id
        FROM (SELECT repo, sha, unnest(regexp_extract_all(concat_ws(chr(10), subject, body), $1))
                  AS key FROM commits) m
        JOIN jira_issue_keys k ON k.key = m.key
        JOIN change_commits cc ON cc.repo = m.repo AND cc.sha = m.sha)\"\"\",
    [sys.argv[2]]).fetchall()[0][0]
print(n, time.perf_counter() - t, file=sys.stderr)
"""


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    where: Path = args.keep or tmp
    where.mkdir(parents=True, exist_ok=True)
    store = where / "items-bench.duckdb"
    res: dict[str, Any] = {"machine": machine()}
    if store.exists():
        store.unlink()
    say(f"generating {args.commits:,} commits in {args.repos} repositories and {args.items:,}"
        f" items in {args.projects} projects into {store}")
    res["store"] = generate(store, args.commits, args.repos, args.per_change, args.items,
                            args.projects)
    res["store"]["bytes"] = store.stat().st_size
    say(f"generated in {res['store']['generate_s']:.1f} s; items derive")
    derive = measure([sys.executable, "-c", _DERIVE, str(store)])
    items, links, linked, inner_s = derive.stderr.split()[-4:]
    res["derive"] = {**asdict(derive), "items": int(items), "links": int(links),
                     "linked_changes": int(linked), "inner_s": float(inner_s)}
    say("items derive again (nothing changed: every row is rebuilt and compared)")
    again = measure([sys.executable, "-c", _DERIVE, str(store)])
    res["rederive"] = {**asdict(again), "inner_s": float(again.stderr.split()[-1])}
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        res["made"] = dict(con.execute(
            "SELECT how, count(*) FROM item_links GROUP BY how ORDER BY how").fetchall())
        from leadlens.config import ItemSettings
        from leadlens.derive.items import key_pattern
        pattern = key_pattern(con, ItemSettings())
    assert pattern is not None
    say("reference query")
    ref = measure([sys.executable, "-c", _REFERENCE, str(store), pattern])
    n, query_s = ref.stderr.split()[-2:]
    res["reference"] = {**asdict(ref), "pairs": int(n), "query_s": float(query_s)}
    say("leadlens items --format jsonl")
    out = where / "items.jsonl"
    exp = measure([sys.executable, "-m", "leadlens", "items", "--store", str(store),
                   "--format", "jsonl", "--out", str(out)])
    with out.open("rb") as f:
        rows = sum(1 for _ in f)
    res["export"] = {**asdict(exp), "rows": rows, "bytes": out.stat().st_size}
    return res


def report(res: dict[str, Any]) -> None:
    m, st, d, ref = res["machine"], res["store"], res["derive"], res["reference"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, {m['os']}")
    print("versions: " + ", ".join(f"{k} {m[k]}" for k in ("python", "duckdb", "pyarrow",
                                                           "leadlens")))
    print(f"store: {st['commits']:,} commits in {st['repos']} repositories, {st['changes']:,}"
          f" changes ({st['pull_requests']:,} with a pull request), {st['jira_issues']:,} items in"
          f" {st['projects']} projects ({st['jira_issue_keys']:,} keys), {st['jira_changelog']:,}"
          f" status changes, {st['jira_remote_links']:,} remote links, {st['bytes'] / MB:,.0f} MB"
          f" (generated in {st['generate_s']:.1f} s)")
    print(f"derived: {d['items']:,} items, {d['links']:,} links, {d['linked_changes']:,} linked"
          f" changes; `leadlens items`: {res['export']['rows']:,} rows,"
          f" {res['export']['bytes'] / MB:,.0f} MB\n")
    head = ("run", "wall s", "CPU s", "peak RSS MB", "vs reference")
    rows: list[tuple[str, ...]] = [head]
    for name, r in (("items derive (every statement)", d),
                    ("items derive again, nothing changed", res["rederive"]),
                    ("reference: one DuckDB query", ref),
                    ("leadlens items --format jsonl", res["export"])):
        ratio = f"{r['wall_s'] / ref['wall_s']:.1f}x" if r is not ref else ""
        rows.append((name, f"{r['wall_s']:,.2f}", f"{r['cpu_s']:,.1f}",
                     f"{r['self_rss'] / MB:,.0f}", ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    print(f"\ninside the processes: derive {d['inner_s']:.2f} s, reference query"
          f" {ref['query_s']:.2f} s ({d['inner_s'] / ref['query_s']:.1f}x)")
    expected, made = st["expected"], res["made"]
    print("links per kind (made / expected by the generator): " + ", ".join(
        f"{k} {made.get(k, 0):,}/{v:,}" for k, v in sorted(expected.items())))
    ok_links = made == expected and ref["pairs"] == expected.get("commit")
    print(f"reference found {ref['pairs']:,} (item, change) pairs in commit messages;"
          f" links {'correct' if ok_links else 'WRONG'}")
    print(f"goal (items derive < {GOAL_S:.0f} s): {'met' if d['wall_s'] < GOAL_S else 'NOT met'}")
    if not ok_links:
        sys.exit("the derive's links differ from what the generator wrote")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--commits", type=int, default=1_000_000, metavar="N",
                    help="commits to generate (default 1,000,000; 50,000 is a quick check)")
    ap.add_argument("--repos", type=int, default=10, metavar="N",
                    help="repositories they are spread over (default 10)")
    ap.add_argument("--per-change", type=int, default=10, metavar="N",
                    help="commits per change on average (default 10)")
    ap.add_argument("--items", type=int, default=100_000, metavar="N",
                    help="Jira issues (default 100,000)")
    ap.add_argument("--projects", type=int, default=20, metavar="N",
                    help="Jira projects (default 20)")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="write the store and the export here and keep them")
    bench_main(ap, run, report)


if __name__ == "__main__":
    main()
