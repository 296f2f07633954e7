"""Benchmark `leadlens gate --base --head` on a 5,000-file change, beside raw `git diff --numstat`.

A generated repository: on main a policy with every built-in rule kind, CODEOWNERS and a few
hundred files; on `change`, three commits (one AI-assisted, with trailers) that touch 5,000 files
(4,000 added, 1,000 modified; 20 lines each) and a contract. Both commands are timed as whole
processes, in turn, in the same run (goal: the gate under 1 s). Usage:

    python benchmarks/gate.py [--files 5000] [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICY = """\
[groups]
seniors = ["alice", "bob"]

[[rules]]
name = "risky paths"
rule = "risk-paths"
paths = ["src/auth/**"]
approvals = 2
group = "seniors"

[[rules]]
name = "owners"
rule = "codeowners"

[[rules]]
name = "tests"
rule = "tests-with-code"

[[rules]]
name = "ci"
rule = "checks-green"
checks = ["test"]

[[rules]]
name = "contracts"
rule = "contracts"

[[rules]]
name = "traceable"
rule = "ai-traceable"

[[rules]]
name = "secrets"
rule = "no-secrets"

[[rules]]
name = "size"
rule = "size"
max_files = 1000
override_label = "big-ok"

[[rules]]
name = "self"
rule = "no-self-approval"

[[rules]]
name = "ai review"
rule = "ai-human-review"
"""
ENV = {"GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@example.com",
       "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "alice@example.com",
       "GIT_AUTHOR_DATE": "2024-01-01T10:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T10:00:00Z",
       "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, text=True,
                          check=True, env={**os.environ, **ENV}).stdout.strip()


def body(i: int, version: int) -> str:
    return "".join(f"def f{i}_{n}(x):\n    return x * {n + version}  # line {n}\n"
                   for n in range(10))


def build(repo: Path, files: int) -> None:
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / ".leadlens").mkdir()
    (repo / ".leadlens" / "policy.toml").write_text(POLICY)
    (repo / ".github").mkdir()
    (repo / ".github" / "CODEOWNERS").write_text("* @acme/everyone\nsrc/auth/ @acme/security\n")
    modified = files // 5
    for i in range(modified):
        p = repo / "src" / f"pkg{i % 50}" / f"mod{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body(i, 0))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "change")
    for i in range(modified):
        (repo / "src" / f"pkg{i % 50}" / f"mod{i}.py").write_text(body(i, 1))
    git(repo, "commit", "-q", "-a", "-m", "Change every module\n\nAssisted-by: Claude Code\n"
        "AI-Session: 1234\n")
    for i in range(modified, files - 2):
        p = repo / ("tests" if i % 10 == 0 else "src") / f"new{i % 40}" / f"m{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body(i, 2))
    (repo / "src" / "auth").mkdir()
    (repo / "src" / "auth" / "login.py").write_text(body(0, 3))
    (repo / "api.proto").write_text('syntax = "proto3";\nmessage A { string b = 1; }\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Add modules\n\nReviewed-by: Bob <bob@example.com>\n")


def farm_bench(repo: Path, store: Path, runs: int, *extra: str) -> str:
    """``farm-bench``: the gate (A) and raw ``git diff --numstat`` (B) in turn, whole processes."""
    gate = [sys.executable, "-m", "leadlens", "gate", str(repo), "--base", "main", "--head",
            "change", "--format", "json", "--store", str(store), *extra]
    raw = f"git -C {repo} diff --numstat main change"
    return subprocess.run(["farm-bench", "-n", str(runs), "--timeout", "300", "--vs", raw, "--",
                           *gate], capture_output=True, text=True, check=True).stdout


def versions() -> dict[str, str]:
    import platform

    import leadlens
    return {"python": platform.python_version(), "leadlens": leadlens.__version__,
            "git": git(Path.cwd(), "--version"), "detect-secrets": _version("detect-secrets"),
            "os": platform.platform(), "nproc": str(len(os.sched_getaffinity(0)))}


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="Build the repository here and keep it.")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="leadlens-gate-bench-"))
    repo = args.keep or tmp / "repo"
    try:
        start = time.perf_counter()
        build(repo, args.files)
        built = time.perf_counter() - start
        gate = [sys.executable, "-m", "leadlens", "gate", str(repo), "--base", "main",
                "--head", "change", "--format", "json", "--store", str(tmp / "none.duckdb")]
        out = subprocess.run(gate, capture_output=True, text=True, check=False)
        doc = json.loads(out.stdout)
        numstat = git(repo, "diff", "--numstat", "main", "change").splitlines()
        print(json.dumps({
            "versions": versions(), "build_s": round(built, 1),
            "change": {"files": len(numstat),
                       "added_lines": sum(int(x.split("\t")[0]) for x in numstat)},
            "gate_exit": out.returncode,
            "findings": {f["rule"]: f["outcome"] for f in doc["findings"]},
        }, indent=2))
        print(farm_bench(repo, tmp / "none.duckdb", args.runs))
        # The same policy without no-secrets: the gate's own cost beside the secret detector's.
        lean = tmp / "policy-without-secrets.toml"
        lean.write_text(POLICY.replace('[[rules]]\nname = "secrets"\nrule = "no-secrets"\n\n', ""))
        print(farm_bench(repo, tmp / "none.duckdb", args.runs, "--policy", str(lean)))
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
