"""Benchmark incremental derive: one new commit on a large repository (git/git) vs a full derive,
and `leadlens ingest git` end to end when nothing or one commit is new.

    python benchmarks/derive.py --repo /tmp/bench/git.git [--work DIR] [--runs 5] [--pulls N]

Copies REPO as a bare clone sharing its objects (nothing is written into REPO), ingests it once,
then adds commits to the copy with ``git commit-tree`` + ``update-ref``:

* in process: the git ingest of one new commit, then ``derive.refresh`` (what an ingest runs:
  incremental) and ``derive.run`` (a full derive of the same store), each timed;
* whole process: ``python -m leadlens ingest git COPY --store S`` with nothing new, and with one
  new commit (a commit added before each run).

With ``--pulls N`` the store also holds N merged pull requests (the mainline's newest N merge
commits as their merge commits, each with its commits and an approval), joined by the forge step
before the timings, so the derive after an append also joins pull requests.

Prints medians (and min/max) of wall and CPU seconds (user + system, with git's for a whole
process), the full/incremental ratio, and the machine's load before and after: on a shared,
loaded machine the CPU seconds are the figure to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from leadlens import derive
from leadlens.config import Settings
from leadlens.pipeline import ingest_git
from leadlens.store import open_store

NAME = "bench/repo"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def add_commit(repo: Path, branch: str, n: int) -> str:
    """One commit on ``branch``'s tip (its tree unchanged), dated now."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    sha = subprocess.run(["git", "-C", str(repo), "commit-tree", "-p", branch, "-m",
                          f"bench commit {n} (#{900000 + n})", f"{branch}^{{tree}}"],
                         check=True, capture_output=True, text=True, env=env).stdout.strip()
    _git(repo, "update-ref", branch, sha)
    return sha


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _cli(repo: Path, store: Path, cpu: list[float] | None = None) -> float:
    """Wall seconds of one ``leadlens ingest git``; its CPU seconds (with git's) onto ``cpu``."""
    before = _children_cpu()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "leadlens", "ingest", "git", str(repo), "--store",
                    str(store), "--name", NAME, "-q"], check=True, capture_output=True)
    wall = time.perf_counter() - start
    if cpu is not None:
        cpu.append(_children_cpu() - before)
    return wall


def add_pulls(store_path: Path, n: int) -> int:
    """Merged pull requests on the newest ``n`` mainline merges (numbers 1..n, oldest first):
    their merge commit, the merged branch's commits, an approval an hour before the merge."""
    with open_store(store_path) as store:
        con = store.con
        con.execute(
            "CREATE TEMP TABLE _bench_pr AS SELECT row_number() OVER (ORDER BY m.position) AS number,"
            " c.sha, c.committer_time AS merged, c.parents[2] AS head FROM mainline m"
            " JOIN commits c ON c.repo = m.repo AND c.sha = m.sha"
            " WHERE m.repo = ? AND c.is_merge QUALIFY row_number() OVER (ORDER BY m.position DESC) <= ?",
            [NAME, n])
        con.execute(
            "INSERT INTO pull_requests (repo, number, title, author, author_is_bot, state, draft,"
            " created_at, updated_at, closed_at, merged_at, merge_commit_sha, base_ref, head_ref,"
            " source, fetched_at) SELECT ?, number, 'PR ' || number, 'dev', FALSE, 'closed', FALSE,"
            " merged - INTERVAL 2 DAY, merged, merged, merged, sha, 'master', 'topic', 'github',"
            " now() FROM _bench_pr", [NAME])
        con.execute(
            "INSERT INTO pr_commits (repo, number, sha, author_name, author_time, committer_time,"
            " message, source, fetched_at) SELECT ?, p.number, c.sha, c.author_name, c.author_time,"
            " c.committer_time, c.subject, 'github', now() FROM _bench_pr p"
            " JOIN commits c ON c.repo = ? AND c.sha = p.head", [NAME, NAME])
        con.execute(
            "INSERT INTO reviews (repo, number, id, reviewer, reviewer_is_bot, state, submitted_at,"
            " source, fetched_at) SELECT ?, number, number, 'maintainer', FALSE, 'APPROVED',"
            " merged - INTERVAL 1 HOUR, 'github', now() FROM _bench_pr", [NAME])
        return int(con.execute("SELECT count(*) FROM _bench_pr").fetchall()[0][0])


def _stats(xs: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(xs), 3), "min": round(min(xs), 3),
            "max": round(max(xs), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", type=Path, default=Path("/tmp/bench/git.git"))
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pulls", type=int, default=0,
                    help="merged pull requests to join (the newest mainline merges')")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="leadlens-derive-bench-"))
    copy, base = work / "repo.git", work / "base.duckdb"
    out: dict[str, object] = {"machine": f"{platform.machine()} {os.cpu_count()} cpus",
                              "python": platform.python_version(),
                              "duckdb": version("duckdb"), "load_before": _load()}
    if not copy.exists():
        subprocess.run(["git", "clone", "-q", "--bare", "--shared", str(args.repo), str(copy)],
                       check=True)
    branch = _git(copy, "symbolic-ref", "HEAD")
    if not base.exists():
        out["first_ingest_s"] = round(_cli(copy, base), 2)
    store_path = work / "s.duckdb"
    shutil.copy(base, store_path)
    if args.pulls:
        out["pulls"] = add_pulls(store_path, args.pulls)
    s = Settings()
    inc, full, git, inc_cpu, full_cpu = [], [], [], [], []
    n = 0
    with open_store(store_path) as store:
        # Bring the store's derive base up to date (a store made before incremental derive).
        ingest_git(store, [copy], name=NAME, settings=s)
        for _ in range(args.runs):
            n += 1
            add_commit(copy, branch, n)
            t0 = time.perf_counter()
            ingest_git(store, [copy], name=NAME, settings=s, derive_after=False)
            t1, c1 = time.perf_counter(), time.process_time()
            (done,) = derive.refresh(store, s)
            t2 = time.perf_counter()
            inc_cpu.append(time.process_time() - c1)
            assert done.changes is not None and done.changes.how == "incremental (1 new change)", \
                done
            c2 = time.process_time()
            derive.run(store, [NAME], s)
            t3 = time.perf_counter()
            full_cpu.append(time.process_time() - c2)
            git.append(t1 - t0)
            inc.append(t2 - t1)
            full.append(t3 - t2)
        out["changes"] = done.changes.changes
    out["git_ingest_one_commit_s"] = _stats(git)
    out["derive_incremental_s"] = _stats(inc)
    out["derive_incremental_cpu_s"] = _stats(inc_cpu)
    out["derive_full_s"] = _stats(full)
    out["derive_full_cpu_s"] = _stats(full_cpu)
    out["full_over_incremental"] = round(statistics.median(full) / statistics.median(inc), 1)
    out["full_over_incremental_cpu"] = round(statistics.median(full_cpu)
                                             / statistics.median(inc_cpu), 1)
    noop_cpu: list[float] = []
    one_cpu: list[float] = []
    noop = [_cli(copy, store_path, noop_cpu) for _ in range(args.runs)]
    one = []
    for _ in range(args.runs):
        n += 1
        add_commit(copy, branch, n)
        one.append(_cli(copy, store_path, one_cpu))
    out["cli_noop_s"] = _stats(noop)
    out["cli_noop_cpu_s"] = _stats(noop_cpu)
    out["cli_one_commit_s"] = _stats(one)
    out["cli_one_commit_cpu_s"] = _stats(one_cpu)
    before, start = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", "import leadlens.cli"], check=True)
    out["python_start_and_import_cli_s"] = round(time.perf_counter() - start, 3)
    out["python_start_and_import_cli_cpu_s"] = round(_children_cpu() - before, 3)
    out["load_after"] = _load()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
