"""`leadlens gate` starts light (docs/benchmarks.md, the gate's budget): it never loads the
store, DuckDB, Arrow or the ingest pipeline, and loads detect-secrets only for a policy with
`no-secrets` and a change that adds lines. Each case is a fresh interpreter, as a CI job is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import leadlens
from test_gate import build

HEAVY = ("detect_secrets", "duckdb", "leadlens.derive", "leadlens.pipeline", "leadlens.store",
         "leadlens.store.db", "numpy", "pyarrow")
RUN = """
import sys
from leadlens.cli import main
sys.argv = ["leadlens", "gate", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
print(code, " ".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gate-startup") / "repo"
    build(path)
    return path


def loaded(repo: Path, *args: str) -> str:
    """The gate's exit code and the heavy modules it loaded, in a new interpreter."""
    src = str(Path(leadlens.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", RUN.format(heavy=HEAVY), str(repo), *args],
                         cwd=repo.parent, env=env, capture_output=True, text=True, check=False,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_a_policy_without_no_secrets_loads_nothing_heavy(repo: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[[rules]]\nname = "tests"\nrule = "tests-with-code"\n')
    assert loaded(repo, "--base", "main", "--head", "good", "--policy", str(policy),
                  "--format", "json", "--out", str(tmp_path / "g.json")) == "0"


def test_no_secrets_on_added_lines_loads_detect_secrets_only(repo: Path, tmp_path: Path) -> None:
    assert loaded(repo, "--base", "main", "--head", "bad", "--format", "json",
                  "--out", str(tmp_path / "g.json")) == "1 detect_secrets"
