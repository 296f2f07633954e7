"""A bug of ours is not bad input: exit 1 with "please report", the traceback with LEADLENS_DEBUG=1.

The bug is planted in a git reader thread (the parser raises), where a careless pool would turn it
into a per-repository "error" line and exit 2, losing the traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitfixtures import build_linear
from leadlens.store import open_store

# Runs the real CLI with the git log parser broken the way a bug would break it.
BUGGY = """
import sys
import leadlens.sources.git.ingest as ingest
from leadlens.cli import main

class Broken(ingest.LogStreamParser):
    def feed(self, chunk):
        raise ZeroDivisionError("planted bug")

ingest.LogStreamParser = Broken
sys.argv = ["leadlens", *sys.argv[1:]]
main()
"""


def run(args: list[str], debug: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("LEADLENS_DEBUG", None)
    if debug:
        env["LEADLENS_DEBUG"] = "1"
    return subprocess.run([sys.executable, "-c", BUGGY, *args], capture_output=True, text=True,
                          env=env, check=False)


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_in_a_reader_thread_exits_1(tmp_path: Path, debug: bool) -> None:
    build_linear(tmp_path / "r", 3)
    db = tmp_path / "s.duckdb"
    proc = run(["ingest", "git", str(tmp_path / "r"), "--store", str(db)], debug)
    assert proc.returncode == 1, proc.stderr
    if debug:
        # The reader thread's own frames, not just the re-raise in the writer.
        assert "Traceback" in proc.stderr and "_read_commits" in proc.stderr
        assert "ZeroDivisionError: planted bug" in proc.stderr
    else:
        assert "Traceback" not in proc.stderr
        assert "internal error: ZeroDivisionError: planted bug" in proc.stderr
        assert "please report" in proc.stderr
    # Nothing half-done is taken for done: the cursor did not move, so the next run reads it all.
    with open_store(db, read_only=True) as st:
        assert st.con.execute("SELECT count(*) FROM sync_state").fetchall() == [(0,)]


def test_bad_input_still_exits_2(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    proc = run(["ingest", "git", str(tmp_path / "plain"), "--store", str(tmp_path / "s.duckdb")],
               debug=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "is not a git repository" in proc.stderr
