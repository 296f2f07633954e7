"""`leadlens ingest git` says how it derived: only the new changes after an append to the mainline,
else the whole repository and why (history rewritten), never on a first run."""

from __future__ import annotations

import subprocess
from pathlib import Path

from clirun import leadlens

ENV = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com", "GIT_COMMITTER_NAME": "a",
       "GIT_COMMITTER_EMAIL": "a@example.com", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
       "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z", "PATH": "/usr/bin:/bin"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=ENV)


def commit(repo: Path, name: str) -> None:
    (repo / name).write_text(name + "\n")
    git(repo, "add", name)
    git(repo, "commit", "-qm", name)


def test_ingest_says_how_it_derived(tmp_path: Path) -> None:
    repo, store = tmp_path / "r", str(tmp_path / "s.duckdb")
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    for name in ("a", "b", "c"):
        commit(repo, name)
    first = leadlens("ingest", "git", str(repo), "--store", store, "-q")
    assert first.returncode == 0 and first.stderr.strip() == "r: 3 new commits; 3 changes"
    commit(repo, "d")
    append = leadlens("ingest", "git", str(repo), "--store", store, "-q")
    assert append.stderr.strip() == "r: 1 new commits; 4 changes, incremental (1 new change)"
    git(repo, "reset", "-q", "--hard", "HEAD~2")
    commit(repo, "e")
    rewritten = leadlens("ingest", "git", str(repo), "--store", store, "-q")
    assert rewritten.stderr.strip().splitlines()[-1] == (
        "r: 1 new commits, 2 now unreachable; 3 changes, history rewritten: full rebuild")
