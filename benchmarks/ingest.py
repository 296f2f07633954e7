"""Benchmark `leadlens ingest git` against raw `git log` and PyDriller on one repository."""

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
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

import psutil  # type: ignore[import-untyped]

POLL_S = 0.02
MB = 1 << 20


@dataclass
class Run:
    """One measured process: wall time, peak RSS of the process and of its children (bytes)."""

    wall_s: float
    cpu_s: float  # user + system of the whole process tree
    self_rss: int
    self_anon: int
    children_rss: int
    children_anon: int  # children's RSS minus file-backed pages (git mmaps its packs)
    stdout_bytes: int = 0
    stderr: str = ""


def _status(pid: int) -> dict[str, int]:
    """Memory lines of /proc/PID/status in bytes (VmHWM: the exact peak, even between polls)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:", "RssAnon:")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return out


def measure(cmd: list[str]) -> Run:
    """Run ``cmd``, counting its stdout and sampling its process tree every POLL_S."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    tree = psutil.Process(proc.pid)
    counted = [0, 0]
    errs: list[bytes] = []

    def drain(stream: IO[bytes] | None, i: int) -> None:
        assert stream is not None
        while chunk := stream.read(1 << 20):
            counted[i] += len(chunk)
            if i:
                errs.append(chunk)

    readers = [threading.Thread(target=drain, args=(proc.stdout, 0)),
               threading.Thread(target=drain, args=(proc.stderr, 1))]
    for t in readers:
        t.start()
    self_rss = self_anon = children_rss = children_anon = 0
    while True:
        me = _status(proc.pid)
        self_rss = max(self_rss, me.get("VmHWM", 0), me.get("VmRSS", 0))
        self_anon = max(self_anon, me.get("RssAnon", 0))
        try:
            kids = [_status(c.pid) for c in tree.children(recursive=True)]
        except psutil.Error:
            kids = []
        children_rss = max(children_rss, sum(k.get("VmRSS", 0) for k in kids))
        children_anon = max(children_anon, sum(k.get("RssAnon", 0) for k in kids))
        try:
            proc.wait(POLL_S)
            break
        except subprocess.TimeoutExpired:
            continue
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    for t in readers:
        t.join()
    stderr = b"".join(errs).decode("utf-8", "replace")
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{stderr}")
    return Run(wall, cpu, self_rss, self_anon, children_rss, children_anon, counted[0], stderr.strip())


GIT_TABLES = ("commits", "commit_files", "line_hunks", "refs", "tags")


def same_rows(a: Path, b: Path) -> dict[str, list[int]]:
    """Per git table: [rows, rows of ``a`` not in ``b``, rows of ``b`` not in ``a``] (EXCEPT ALL,
    so duplicates count): a fresh ``--line-history`` must store exactly what two passes store."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")

        def count(sql: str) -> int:
            row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
            return int(row[0]) if row else 0

        return {t: [count(f"SELECT * FROM a.{t}"),
                    count(f"SELECT * FROM a.{t} EXCEPT ALL SELECT * FROM b.{t}"),
                    count(f"SELECT * FROM b.{t} EXCEPT ALL SELECT * FROM a.{t}")]
                for t in GIT_TABLES}
    finally:
        con.close()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


def leadlens(repo: Path, store: Path, *extra: str) -> Run:
    return measure([sys.executable, "-m", "leadlens", "ingest", "git", str(repo),
                    "--store", str(store), "-q", *extra])


def warm(objects: Path) -> None:
    """Read the pack files (the repository's and its alternates') so that no run pays for I/O."""
    for pack in objects.glob("pack/*.pack"):
        with pack.open("rb") as f:
            while f.read(1 << 24):
                pass
    alternates = objects / "info" / "alternates"
    for other in alternates.read_text().split() if alternates.exists() else []:
        warm(Path(other))


def prefix_commit(repo: Path, target: int) -> tuple[str, int]:
    """The oldest first-parent ancestor of HEAD that still has >= ``target`` ancestors."""
    chain = git(repo, "rev-list", "--first-parent", "HEAD").split()

    def count(i: int) -> int:
        return int(git(repo, "rev-list", "--count", chain[i]))

    lo, hi = 0, len(chain) - 1  # count(lo) >= target; find the largest such index
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(mid) >= target:
            lo = mid
        else:
            hi = mid - 1
    return chain[lo], count(lo)


def prefix_repo(repo: Path, sha: str, where: Path) -> Path:
    """A bare repository sharing ``repo``'s objects whose only ref is ``sha``: a prefix of history."""
    subprocess.run(["git", "init", "-q", "--bare", str(where)], check=True)
    objects = Path(git(repo, "rev-parse", "--absolute-git-dir")) / "objects"
    (where / "objects" / "info" / "alternates").write_text(f"{objects.resolve()}\n")
    git(where, "update-ref", "refs/heads/master", sha)
    git(where, "symbolic-ref", "HEAD", "refs/heads/master")
    return where


def pydriller_rate(repo: Path, to_commit: str) -> tuple[int, int, float]:
    """(commits, modified files, seconds) for PyDriller's traversal of ``to_commit``'s ancestors."""
    from pydriller import Repository  # type: ignore[import-untyped]

    start = time.perf_counter()
    commits = files = 0
    for c in Repository(str(repo), to_commit=to_commit).traverse_commits():
        commits += 1
        for m in c.modified_files:
            _ = (m.added_lines, m.deleted_lines)
            files += 1
    return commits, files, time.perf_counter() - start


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.processor())
    mem = next(int(ln.split()[1]) * 1024 for ln in Path("/proc/meminfo").read_text().splitlines()
               if ln.startswith("MemTotal:"))
    import duckdb
    import pyarrow

    import leadlens
    src = Path(leadlens.__file__).resolve().parents[2]
    rev = subprocess.run(["git", "-C", str(src), "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    return {
        "nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "ram_gb": round(mem / (1 << 30), 1),
        "os": platform.platform(), "git": git(Path.cwd(), "--version").removeprefix("git version "),
        "python": platform.python_version(), "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__, "pydriller": _version("pydriller"),
        "leadlens": f"{leadlens.__version__} ({rev or 'not a git checkout'})",
    }


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages (other work on the machine skews every figure)."""
    return [round(x, 2) for x in os.getloadavg()]


def run(repo: Path, sample: int, line_history: bool, tmp: Path,
        line_history_only: bool = False) -> dict[str, Any]:
    def say(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    total = int(git(repo, "rev-list", "--all", "--count"))
    res: dict[str, Any] = {"machine": machine(), "repo": {
        "path": str(repo), "head": git(repo, "rev-parse", "HEAD"), "commits": total,
        "refs": len(git(repo, "for-each-ref").splitlines()),
        "origin": git(repo, "config", "--default", "", "--get", "remote.origin.url")}}
    res["load"] = {"start": load()}
    say(f"warming the page cache; {total} commits")
    warm(Path(git(repo, "rev-parse", "--absolute-git-dir")) / "objects")
    raw = ["git", "-C", str(repo), "log", "--all"]
    say("raw git log --all --numstat")
    res["raw_numstat"] = asdict(measure([*raw, "--numstat"]))
    say("leadlens ingest (fresh store)")
    store = tmp / "full.duckdb"
    res["ingest"] = asdict(leadlens(repo, store))
    if line_history_only:
        return _line_history(repo, res, tmp, store, say)
    say("no-op re-runs")
    noop = [leadlens(repo, store).wall_s for _ in range(3)]
    res["noop"] = {"runs_s": noop, "median_s": statistics.median(noop)}

    say("prefixes of history (RSS flatness, PyDriller sample)")
    sizes = []
    for target in (sample, total // 2):
        sha, n = prefix_commit(repo, target)
        where = prefix_repo(repo, sha, tmp / f"prefix-{n}.git")
        r = leadlens(where, tmp / f"prefix-{n}.duckdb")
        raw_s = measure(["git", "-C", str(where), "log", "--all", "--numstat"]).wall_s
        sizes.append({"commits": n, "tip": sha, "raw_s": raw_s, **asdict(r)})
    sizes.append({"commits": total, "tip": "all refs", "raw_s": res["raw_numstat"]["wall_s"],
                  **res["ingest"]})
    res["flatness"] = sizes

    small = sizes[0]
    say(f"PyDriller on the {small['commits']} ancestors of {small['tip'][:12]}")
    pd_commits, pd_files, pd_s = pydriller_rate(repo, small["tip"])
    res["pydriller"] = {"to_commit": small["tip"], "commits": pd_commits, "files": pd_files,
                        "pydriller_s": pd_s, "leadlens_s": small["wall_s"],
                        "pydriller_rate": pd_commits / pd_s,
                        "leadlens_rate": small["commits"] / small["wall_s"]}
    if line_history:
        _line_history(repo, res, tmp, store, say)
    return res


def _line_history(repo: Path, res: dict[str, Any], tmp: Path, store: Path,
                  say: Callable[[str], None]) -> dict[str, Any]:
    """The --line-history runs, beside one raw ``git log --all -p -U0``, and the check that a fresh
    one stores what two passes store; ``store`` holds a default ingest of ``repo``."""
    say("raw git log --all -p -U0")
    res["raw_patch"] = asdict(measure(["git", "-C", str(repo), "log", "--all", "-p", "-U0"]))
    say("leadlens ingest --line-history (fresh store)")
    res["ingest_lh"] = asdict(leadlens(repo, tmp / "lh.duckdb", "--line-history"))
    say("leadlens ingest --line-history on the store ingested without it")
    shutil.copy(store, tmp / "lh-only.duckdb")
    res["lh_only"] = asdict(leadlens(repo, tmp / "lh-only.duckdb", "--line-history"))
    res["load"]["end"] = load()
    say("comparing the rows of the two --line-history stores")
    res["lh_same_rows"] = same_rows(tmp / "lh.duckdb", tmp / "lh-only.duckdb")
    return res


def report(res: dict[str, Any]) -> None:
    m, repo = res["machine"], res["repo"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, {m['os']}")
    print("versions: " + ", ".join(f"{k} {m[k]}" for k in
                                   ("git", "python", "duckdb", "pyarrow", "pydriller", "leadlens")))
    print(f"repository: {repo['path']} ({repo['origin'] or 'no origin'}) at {repo['head']}, "
          f"{repo['commits']:,} commits, {repo['refs']} refs\n")
    head = ("run", "wall s", "CPU s", "vs raw", "python MB", "git MB (anon)", "goal")
    rows: list[tuple[str, ...]] = [head]

    def line(name: str, run: dict[str, Any], base: dict[str, Any] | None, goal: str) -> None:
        ratio = f"{run['wall_s'] / base['wall_s']:.2f}" if base else ""
        if base is None:  # the raw git log itself
            py, git = "", f"{run['self_rss'] / MB:,.0f} ({run['self_anon'] / MB:,.0f})"
        else:
            py = f"{run['self_rss'] / MB:,.0f}"
            git = f"{run['children_rss'] / MB:,.0f} ({run['children_anon'] / MB:,.0f})"
        rows.append((name, f"{run['wall_s']:,.2f}", f"{run['cpu_s']:,.1f}", ratio, py, git, goal))

    line("raw git log --all --numstat", res["raw_numstat"], None, "")
    line("leadlens ingest (fresh)", res["ingest"], res["raw_numstat"], "<= 1.0, < 300 MB")
    if "load" in res:
        print("load averages (1, 5, 15 min): " + "; ".join(
            f"{k} {', '.join(map(str, v))}" for k, v in res["load"].items()) + "\n")
    if "raw_patch" in res:
        line("raw git log --all -p -U0", res["raw_patch"], None, "")
        line("leadlens ingest --line-history (fresh)", res["ingest_lh"], res["raw_patch"],
             "<= 1.2")
        line("  line-history pass alone", res["lh_only"], res["raw_patch"], "<= 1.2")
    same = res.get("lh_same_rows")
    if "noop" in res:
        rows.append(("no-op re-run (median of 3)", f"{res['noop']['median_s']:.2f}", "", "", "",
                     "", "< 2 s"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(c.ljust(w) if i in (0, 6) else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    if same:
        print("\nfresh --line-history against the two-pass store (rows; a-b, b-a: EXCEPT ALL):")
        for table, (n, ab, ba) in same.items():
            print(f"  {table:13} {n:>9,}  {ab} {ba}  {'same' if ab == ba == 0 else 'DIFFERENT'}")
    if "flatness" not in res:
        return
    print("\nleadlens default ingest vs history size (goal: python peak < 300 MB, flat):")
    for s in res["flatness"]:
        print(f"  {s['commits']:>7,} commits {s['wall_s']:6.2f} s ({s['commits'] / s['wall_s']:5,.0f}"
              f" commits/s, {s['wall_s'] / s['raw_s']:.2f}x raw numstat)  python"
              f" {s['self_rss'] / MB:4.0f} MB  git {s['children_rss'] / MB:4.0f} MB"
              f" ({s['children_anon'] / MB:,.0f} anon)")
    p = res["pydriller"]
    print(f"\nPyDriller vs leadlens on the {p['commits']:,} ancestors of {p['to_commit'][:12]} "
          f"({p['files']:,} modified files):")
    print(f"  PyDriller {p['pydriller_s']:.1f} s ({p['pydriller_rate']:,.0f} commits/s), "
          f"leadlens {p['leadlens_s']:.2f} s ({p['leadlens_rate']:,.0f} commits/s): "
          f"leadlens {p['pydriller_s'] / p['leadlens_s']:.1f}x faster (goal >= 20x)")


def bench_main(ap: argparse.ArgumentParser,
               measure_all: Callable[[argparse.Namespace, Path], dict[str, Any]],
               show: Callable[[dict[str, Any]], None]) -> None:
    """The benchmarks' shared command line: --json prints what was measured, --from-json FILE
    prints the tables of such a run; otherwise measure in a temporary directory and show."""
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ap.add_argument("--from-json", type=Path, metavar="FILE", help="print the tables of a --json run")
    args = ap.parse_args()
    if args.from_json:
        show(json.loads(args.from_json.read_text()))
        return
    with tempfile.TemporaryDirectory(prefix="leadlens-bench-") as tmp:
        res = measure_all(args, Path(tmp))
    if args.json:
        print(json.dumps(res, indent=2, default=str))
    else:
        show(res)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("repo", type=Path, nargs="?")
    ap.add_argument("--pydriller-sample", type=int, default=5000, metavar="N",
                    help="PyDriller runs on the first N commits (a prefix of history)")
    ap.add_argument("--skip-line-history", action="store_true")
    ap.add_argument("--line-history-only", action="store_true",
                    help="only the --line-history runs (and the default ingest they need)")

    def measure_all(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
        if args.repo is None:
            ap.error("REPO is required")
        return run(args.repo.resolve(), args.pydriller_sample, not args.skip_line_history, tmp,
                   args.line_history_only)

    bench_main(ap, measure_all, report)


if __name__ == "__main__":
    main()
