"""Benchmark `leadlens ai share --releases` against the sequential blame loop over the same files.

The baseline is the loop a script would write: for each consecutive pair of release tags A, B and
every file at B, `git blame --line-porcelain A..B -- f`, one after another, counting each line's
commit unless git flags it `boundary`. leadlens runs as users run it (`leadlens ai share REPO
--releases --from FIRST --to LAST --format json`, a fresh process), with its default jobs (one per
core) and with `--jobs 1`. Every run's counts must be identical: leadlens' JSON equals the same
aggregation of the baseline's counts, and its per-file, per-commit blame counts equal the loop's.

    python benchmarks/ai_share.py /path/to/aider --from v0.84.0 --to v0.85.4 [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ingest import bench_main, machine, measure, warm

from leadlens.analysis.share import ai_share
from leadlens.attribution import Rules
from leadlens.config import DEFAULT_RELEASE_TAG_PATTERN
from leadlens.sources.git.blame import blame_ranges, share_ranges
from leadlens.sources.git.client import open_repo
from leadlens.sources.git.parse import LOG_FORMAT, parse_log


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True).stdout


def blobs_at(repo: Path, rev: str) -> tuple[list[str], list[str]]:
    """Files at ``rev`` (submodules have no lines to blame): those whose content the clone holds,
    and those it lacks (a snapshot may leave its largest files out)."""
    entries = []
    for entry in git(repo, "ls-tree", "-r", "-z", rev).split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        if entry and meta.split()[1] == b"blob":
            entries.append((meta.split()[2], name.decode("utf-8", "surrogateescape")))
    check = subprocess.run(["git", "cat-file", "--batch-check"], cwd=repo, check=True,
                           capture_output=True, input=b"".join(sha + b"\n" for sha, _ in entries))
    states = check.stdout.decode().splitlines()
    present = [p for (_, p), st in zip(entries, states, strict=True) if not st.endswith(" missing")]
    absent = [p for (_, p), st in zip(entries, states, strict=True) if st.endswith(" missing")]
    return present, absent


def baseline_loop(repo: Path, pairs: list[tuple[str, str]]) -> list[dict[str, dict[str, int]]]:
    """The sequential loop: every file at B, one `git blame --line-porcelain A..B` each."""
    out = []
    for a, b in pairs:
        files: dict[str, dict[str, int]] = {}
        for path in blobs_at(repo, b)[0]:
            counts: dict[str, int] = {}
            sha, boundary = "", False
            for line in git(repo, "blame", "--line-porcelain", f"{a}..{b}", "--", path).split(b"\n"):
                if line.startswith(b"\t"):
                    if not boundary:
                        counts[sha] = counts.get(sha, 0) + 1
                elif line == b"boundary":
                    boundary = True
                elif len(line) > 41 and line[40:41] == b" " and line[:40].isalnum():
                    sha, boundary = line[:40].decode(), False
            if counts:
                files[path] = counts
        out.append(files)
    return out


def run(repo: Path, first: str, last: str, repeat: int) -> dict[str, Any]:
    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    gr = open_repo(repo)
    ranges = share_ranges(gr, first, last, releases=True, release_pattern=DEFAULT_RELEASE_TAG_PATTERN)
    pairs = [(a.name, b.name) for a, b in ranges]
    warm(gr.git_dir / "objects")
    cmd = [sys.executable, "-m", "leadlens", "ai", "share", str(repo), "--releases", "--from", first,
           "--to", last, "--format", "json"]
    runs: dict[str, list[float]] = {"leadlens": [], "leadlens_jobs1": [], "baseline": []}
    for i in range(repeat):
        say(f"round {i + 1}/{repeat}: leadlens ai share (default jobs)")
        r = measure(cmd)
        runs["leadlens"].append(r.wall_s)
        say(f"  {r.wall_s:.2f} s; with --jobs 1")
        r1 = measure([*cmd, "--jobs", "1"])
        runs["leadlens_jobs1"].append(r1.wall_s)
        say(f"  {r1.wall_s:.2f} s; the baseline loop")
        start = time.perf_counter()
        base = baseline_loop(repo, pairs)
        runs["baseline"].append(time.perf_counter() - start)
        say(f"  {runs['baseline'][-1]:.2f} s")
    # Same counts: the CLI's JSON, and the library's per-file per-commit counts.
    got = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
    rules = Rules()
    files_blamed = 0
    for (a, b), mine, theirs, lib in zip(ranges, got, base, blame_ranges(gr, ranges), strict=True):
        if lib.files != theirs:
            sys.exit(f"{a.name}..{b.name}: per-file counts differ from the baseline loop")
        commits = {c.sha: c for c in parse_log(git(repo, "log", "-z", "--no-mailmap", "--date=format:%z",
                                                   f"--format={LOG_FORMAT}", f"{a.sha}..{b.sha}"))}
        expected = ai_share(a.name, b.name, a.sha, b.sha, theirs, commits, rules).to_json()
        if mine != expected:
            sys.exit(f"{a.name}..{b.name}: leadlens' JSON differs from the baseline loop's counts")
        files_blamed += len(lib.files)
    files_at = [blobs_at(repo, b) for _, b in pairs]
    return {
        "machine": machine(), "repo": str(repo),
        "head": git(repo, "rev-parse", "--short=12", f"{last}^{{commit}}").decode().strip(),
        "pairs": [{"from": a, "to": b, "total_lines": g["total_lines"], "ai_lines": g["ai_lines"],
                   "ai_percentage": g["ai_percentage"], "files_at_to": len(n[0]) + len(n[1]),
                   "files_absent": n[1]}
                  for (a, b), g, n in zip(pairs, got, files_at, strict=True)],
        "files_with_range_lines": files_blamed,
        "runs_s": runs, "identical_counts": True,
    }


def report(res: dict[str, Any]) -> None:
    m = res["machine"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']} GB RAM, git {m['git']}, "
          f"Python {m['python']}")
    print(f"repository: {res['repo']} ({res['head']})")
    for p in res["pairs"]:
        print(f"  {p['from']:>10} .. {p['to']:<10} {p['files_at_to']:>5} files, {p['total_lines']:>6} lines"
              f" from the range, {p['ai_lines']:>5} AI ({p['ai_percentage']:.2f} %)"
              + (f"; {len(p['files_absent'])} files' content not in the clone" if p["files_absent"] else ""))
    med = {k: statistics.median(v) for k, v in res["runs_s"].items()}
    print(f"identical counts: {res['identical_counts']}")
    for k, label in (("baseline", "baseline loop (sequential, every file)"),
                     ("leadlens_jobs1", "leadlens ai share --jobs 1"),
                     ("leadlens", "leadlens ai share (one job per core)")):
        runs = ", ".join(f"{x:.2f}" for x in res["runs_s"][k])
        ratio = med["baseline"] / med[k]
        print(f"  {label:40} median {med[k]:7.2f} s  ({runs})  {ratio:5.1f}x the baseline")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", type=Path, nargs="?", help="a clone (bare is fine) with release tags")
    ap.add_argument("--from", dest="first", default="v0.84.0", help="first release tag")
    ap.add_argument("--to", dest="last", default="v0.85.4", help="last release tag")
    ap.add_argument("--repeat", type=int, default=3, help="rounds of the three runs (median shown)")

    def measure_all(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
        if args.repo is None:
            ap.error("REPO is required")
        return run(args.repo.resolve(), args.first, args.last, args.repeat)

    bench_main(ap, measure_all, report)


if __name__ == "__main__":
    main()
