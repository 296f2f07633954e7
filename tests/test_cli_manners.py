"""What a user notices at once: a cheap summary, one-line errors, what a Ctrl-C kept, exit 2 for
input the user can fix (dates out of range, unusable settings, a full disk)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitfixtures import build_history

# A git that stands still in one subcommand (named by LEADLENS_SLOW_GIT) so that a test can press
# Ctrl-C while leadlens waits on it; every other call is the real git.
SLOW_GIT = """#!/bin/sh
for a in "$@"; do
  if [ "$a" = "$LEADLENS_SLOW_GIT" ]; then : > "$LEADLENS_SLOW_MARK"; exec sleep 60; fi
done
exec {git} "$@"
"""


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    # No COLUMNS: Rich's width off a terminal is what users get in CI logs and pipes.
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LEADLENS_DEBUG")}
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, cwd=cwd, env={**base, **(env or {})}, check=False)


@pytest.fixture(scope="module")
def hist_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("manners")
    build_history(base / "hist")
    store = base / "s.duckdb"
    proc = cli("ingest", "git", str(base / "hist"), "--store", str(store), "-q")
    assert proc.returncode == 0, proc.stderr
    return base / "hist", store


# Runs a command in-process and writes which of the heavy libraries it loaded.
_PROBE = """
import sys
from leadlens.cli import main
out, sys.argv = sys.argv[1], ["leadlens", *sys.argv[2:]]
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
loaded = " ".join(m for m in ("pandas", "ibis", "sqlglot", "plotly", "httpx") if m in sys.modules)
import pandas  # the command is over: pandas imports again
with open(out, "w") as fh:
    fh.write(loaded + "|" + type(pandas.DataFrame()).__name__)
"""


@pytest.mark.parametrize("command", [["summary"], ["ingest", "git", "HIST"]])
def test_summary_and_a_no_op_ingest_stay_cheap(hist_store: tuple[Path, Path], tmp_path: Path,
                                               command: list[str]) -> None:
    # The summary after every ingest is one SQL query: Ibis' import and compilation were most of
    # a no-op ingest's time on a large store (docs/benchmarks.md has the figures).
    hist, store = hist_store
    copy = tmp_path / "s.duckdb"
    shutil.copy(store, copy)
    loaded = tmp_path / "loaded.txt"
    args = [str(hist) if a == "HIST" else a for a in command]
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(loaded), *args, "--store", str(copy),
                           "--format", "json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["repositories"]
    assert (row["repo"], row["commits"], row["merges"], row["tags"], row["pull_requests"]) == (
        "hist", 16, 3, 3, 0)
    assert loaded.read_text() == "|DataFrame"


def test_a_one_commit_ingest_never_imports_pandas(hist_store: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    # pyarrow imports pandas on its first conversion of a Python list: a quarter of a second of
    # a one-commit ingest (docs/benchmarks.md). The ingest commands hide it while they run.
    hist, store = hist_store
    repo, copy = tmp_path / "hist", tmp_path / "s.duckdb"
    shutil.copytree(hist, repo)
    shutil.copy(store, copy)
    (repo / "new.txt").write_text("new\n")
    for args in (["add", "new.txt"], ["-c", "user.name=A", "-c", "user.email=a@example.com",
                                      "commit", "-q", "-m", "One more"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    loaded = tmp_path / "loaded.txt"
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(loaded), "ingest", "git",
                           str(repo), "--store", str(copy)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "1 new commits" in proc.stderr
    assert loaded.read_text() == "|DataFrame"


def test_errors_stay_on_one_line_off_a_terminal(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-directory-name-" * 3) / "store.duckdb"
    proc = cli("summary", "--store", str(deep))
    assert proc.returncode == 2
    assert proc.stderr == (f"leadlens: error: no store at {deep}: run `leadlens ingest git PATH`"
                           " first, or pass --store\n")
    assert len(proc.stderr) > 120  # longer than the 80 columns Rich would wrap at


def _interrupt(args: list[str], slow: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run leadlens with ``slow`` git calls standing still; press Ctrl-C (SIGINT to the process
    group, as a terminal does) once one has started."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    git = bin_dir / "git"
    git.write_text(SLOW_GIT.format(git=shutil.which("git")))
    git.chmod(0o755)
    mark = tmp_path / "waiting"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "LEADLENS_SLOW_GIT": slow, "LEADLENS_SLOW_MARK": str(mark)}
    env.pop("LEADLENS_DEBUG", None)

    def default_sigint() -> None:  # a shell's background job starts with SIGINT ignored
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    proc = subprocess.Popen([sys.executable, "-m", "leadlens", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, process_group=0,
                            preexec_fn=default_sigint)
    deadline = time.monotonic() + 60
    while not mark.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def test_ctrl_c_during_an_ingest_says_what_is_kept_and_the_next_run_resumes(tmp_path: Path) -> None:
    build_history(tmp_path / "hist")
    store = str(tmp_path / "s.duckdb")
    # Ctrl-C while git log streams the commits.
    proc = _interrupt(["ingest", "git", str(tmp_path / "hist"), "--store", store], "--numstat",
                      tmp_path)
    assert proc.returncode == 130
    assert proc.stderr.endswith("leadlens: interrupted; the commits read so far stay in the store,"
                                " and the next run resumes where this one stopped\n")
    assert "Traceback" not in proc.stderr
    again = cli("ingest", "git", str(tmp_path / "hist"), "--store", store, "--format", "json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["repositories"][0]["commits"] == 16


def test_ctrl_c_during_a_read_only_command_says_nothing_changed(tmp_path: Path) -> None:
    build_history(tmp_path / "hist")
    proc = _interrupt(["ai", "share", str(tmp_path / "hist"), "--from", "HEAD~3"], "blame",
                      tmp_path)
    assert (proc.returncode, proc.stderr) == (130, "leadlens: interrupted; nothing was changed\n")


_DUCKDB_CTRL_C = """
import os, signal, threading, duckdb
from leadlens.store.db import interrupted_query
con = duckdb.connect()
armed = []

def ctrl_c(signum, frame):  # Python's own handler, but once per try: later presses do nothing
    if armed:
        armed.clear()
        raise KeyboardInterrupt

def press():  # Ctrl-C until one lands inside the query (one that comes too early is Python's)
    while True:
        threading.Event().wait(0.3)
        os.kill(os.getpid(), signal.SIGINT)

signal.signal(signal.SIGINT, ctrl_c)
threading.Thread(target=press, daemon=True).start()
while True:
    armed.append(True)
    try:
        con.execute("SELECT count(*) FROM range(10000000000)").fetchall()
    except KeyboardInterrupt:
        continue
    except Exception as exc:
        print(type(exc).__name__, interrupted_query(exc), interrupted_query(RuntimeError("other")))
        break
"""


def test_a_ctrl_c_duckdb_took_is_recognised() -> None:
    # DuckDB takes the SIGINT itself and raises its own error, not a KeyboardInterrupt: the CLI
    # must still say "interrupted", not "internal error".
    proc = subprocess.run([sys.executable, "-c", _DUCKDB_CTRL_C], capture_output=True, text=True,
                          check=False, timeout=120,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout.split()[1:] == ["True", "False"], proc.stdout + proc.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "999999999d"], "'999999999d' is out of range: dates run from year 1 to 9999"),
    (["--since", "99999999999999999999w"], "is out of range"),
    (["--until", "9999-12-31"], "'9999-12-31' is out of range"),  # the whole day: into year 10000
    (["--since", "99999-01-01"], "'99999-01-01' is out of range"),
    (["--since", "0001-01-01T00:00:00+01:00"], "is out of range"),
])
def test_dates_out_of_range_exit_2(hist_store: tuple[Path, Path], args: list[str],
                                   message: str) -> None:
    for command in (["changes"], ["report", "--format", "json"]):
        proc = cli(*command, "--store", str(hist_store[1]), *args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("leadlens: error: ") and message in proc.stderr
        assert len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize(("content", "message"), [
    (b"activity_window_hours = inf\n", "activity_window_hours: Input should be a finite number"),
    (b"incident_window_hours = nan\n", "incident_window_hours: Input should be a finite number"),
    (b"rework_days = inf\n", "rework_days: Input should be a finite number"),
    (b"activity_window_hours = 1e300\n", "activity_window_hours: Value error, at most 876,600"
     " hours (100 years)"),
    (b'store = "caf\xe9.duckdb"\n', "leadlens.toml is not valid TOML: not UTF-8 (byte 13 is"
     " b'\\xe9')"),
])
def test_unusable_settings_exit_2(hist_store: tuple[Path, Path], tmp_path: Path, content: bytes,
                                  message: str) -> None:
    (tmp_path / "leadlens.toml").write_bytes(content)
    proc = cli("report", "--store", str(hist_store[1]), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("leadlens: error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", [["summary"], ["summary", "--format", "json"], ["changes"],
                                     ["report", "--format", "json"]])
def test_a_full_disk_on_stdout_exits_2(hist_store: tuple[Path, Path], command: list[str]) -> None:
    base = {k: v for k, v in os.environ.items() if k != "LEADLENS_DEBUG"}
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "leadlens", *command, "--store",
                               str(hist_store[1])], stdout=full, stderr=subprocess.PIPE,
                              text=True, env=base, check=False)
    # Notes about the data (the history fixture has implausible dates) may come first.
    errors = [ln for ln in proc.stderr.splitlines() if not ln.startswith("note: ")]
    assert (proc.returncode, errors) == (
        2, ["leadlens: error: cannot write standard output: No space left on device"])


def test_a_command_runs_in_an_app_of_its_own_branch_that_says_the_same() -> None:
    # main() builds only the invoked command's branch of the click tree (a faster start); its
    # help and its usage errors must read as the whole app's do.
    from typer.testing import CliRunner

    from leadlens.cli import app
    from leadlens.cli.app import app_for

    names = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert None not in names and len(names) >= 11
    runner = CliRunner()
    for name in names:
        assert isinstance(name, str)
        assert app_for([name]) is not app
        for args in ([name, "--help"], [name, "--no-such-option"]):
            lean, whole = runner.invoke(app_for([name]), args), runner.invoke(app, args)
            assert (lean.exit_code, lean.output) == (whole.exit_code, whole.output), args
    for args in ([], ["--help"], ["--version"], ["no-such-command"]):
        assert app_for(args) is app
