"""The store is a local DuckDB file and nothing else: no extension is fetched or loaded for it, no
remote or in-memory database stands in for it, and a damaged file is a clear exit 2."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gitfixtures import build_linear
from leadlens.errors import StoreDamagedError, StoreError
from leadlens.store import open_store


def environment(**extra: str) -> dict[str, str]:
    """This process's environment for a leadlens subprocess, with PYTHONPATH absolute: a command
    run in another directory must still import this leadlens, not an installed one."""
    env = {**os.environ, "COLUMNS": "300", **extra}
    env.pop("LEADLENS_DEBUG", None)
    env["PYTHONPATH"] = os.pathsep.join(
        str(Path(p).resolve()) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)
    return env


def run(*args: str, cwd: Path | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, check=False, env=environment(**extra), cwd=cwd, timeout=300)


def assert_exit_2(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("leadlens: error:"), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    said = " ".join(proc.stderr.split())  # however the line was wrapped
    for needle in needles:
        assert needle in said, said


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real store, with enough history that its file spans several blocks."""
    base = tmp_path_factory.mktemp("store")
    build_linear(base / "repo", 400)
    db = base / "s.duckdb"
    proc = run("ingest", "git", str(base / "repo"), "--store", str(db), "--line-history", "-q")
    assert proc.returncode == 0, proc.stderr
    assert db.stat().st_size > 3 * 262144
    return db


@pytest.mark.parametrize("command", [("summary",), ("report",), ("changes",), ("ai", "report"),
                                     ("ingest", "git", ".")])
def test_a_sqlite_file(tmp_path: Path, command: tuple[str, ...]) -> None:
    lite = tmp_path / "lite.db"
    with sqlite3.connect(lite) as con:
        con.execute("CREATE TABLE t (x)")
    home = tmp_path / "home"  # where DuckDB would put an extension it fetched
    home.mkdir()
    proc = run(*command, "--store", str(lite), HOME=str(home))
    assert_exit_2(proc, str(lite), "not a DuckDB file", "SQLite")
    assert list(home.rglob("*")) == []  # nothing fetched, nothing installed


@pytest.mark.parametrize("command", [("summary",), ("report",), ("changes",)])
def test_a_store_truncated_in_the_middle(real_store: Path, tmp_path: Path,
                                         command: tuple[str, ...]) -> None:
    cut = tmp_path / "cut.duckdb"
    data = real_store.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert_exit_2(run(*command, "--store", str(cut)), str(cut), "damaged", "truncated")


def test_random_bytes(tmp_path: Path) -> None:
    noise = tmp_path / "noise.duckdb"
    noise.write_bytes(os.urandom(3 * 262144))
    assert_exit_2(run("summary", "--store", str(noise)), "not a DuckDB file", "damaged")


def test_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it to read its header would wait forever for a writer
    assert_exit_2(run("summary", "--store", str(fifo)), "not a regular file")


@pytest.mark.parametrize("store", ["md:x", "md:", "s3://bucket/s.duckdb", "https://x.example/s",
                                   ":memory:"])
@pytest.mark.parametrize("command", [("summary",), ("ingest", "git", ".")])
def test_remote_and_in_memory_stores_are_refused(tmp_path: Path, store: str,
                                                 command: tuple[str, ...]) -> None:
    proc = run(*command, "--store", store, cwd=tmp_path)
    assert_exit_2(proc, "local DuckDB file")
    assert list(tmp_path.iterdir()) == []  # no file of that name made either


def test_a_colon_in_an_absolute_path_is_a_file(tmp_path: Path) -> None:
    with open_store(tmp_path / "md:x") as st:
        assert st.path == tmp_path / "md:x"
    assert (tmp_path / "md:x").is_file()


def test_the_connection_loads_and_installs_nothing(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as st:
        settings = dict(st.con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN"
            " ('autoinstall_known_extensions', 'autoload_known_extensions')").fetchall())
    assert settings == {"autoinstall_known_extensions": "false",
                        "autoload_known_extensions": "false"}


def test_the_library_raises_the_damage_class(real_store: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.duckdb"
    cut.write_bytes(real_store.read_bytes()[: real_store.stat().st_size - 100_000])
    with pytest.raises(StoreDamagedError):
        open_store(cut, read_only=True)
    with pytest.raises(StoreDamagedError):
        open_store(cut)  # writable: DuckDB must not be left to grow it back over the hole
    assert issubclass(StoreDamagedError, StoreError)
    with open_store(real_store, read_only=True) as st:  # the intact store still opens
        assert st.con.execute("SELECT count(*) FROM commits").fetchone() == (400,)
