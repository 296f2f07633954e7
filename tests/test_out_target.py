"""`--out` writes a file; it does not replace what the path names: a symlink keeps pointing where it
did, a FIFO or a device is written to, and the store is refused."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gitfixtures import build_linear
from leadlens.store import open_store


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("LEADLENS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, check=False, env=env, timeout=300)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("out")
    build_linear(base / "repo", 6)
    db = base / "s.duckdb"
    proc = run("ingest", "git", str(base / "repo"), "--store", str(db), "-q")
    assert proc.returncode == 0, proc.stderr
    return db


def test_symlink_keeps_pointing_at_its_target(store: Path, tmp_path: Path) -> None:
    real = tmp_path / "real" / "report.json"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    proc = run("report", "--store", str(store), "--format", "json", "--out", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["changes"] == 6
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # the file keeps its permissions
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["link.json", "real", "report.json"]


def test_dangling_symlink_creates_its_target(store: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.jsonl"
    link.symlink_to(tmp_path / "made" / "changes.jsonl")
    proc = run("changes", "--store", str(store), "--out", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert len((tmp_path / "made" / "changes.jsonl").read_text().splitlines()) == 6


def test_fifo_is_written_to(store: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as fh:  # blocks until leadlens opens the FIFO to write
            got.append(fh.read())

    # A daemon: if leadlens never opens the FIFO, the reader must not keep the tests alive.
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc = run("changes", "--store", str(store), "--out", str(fifo))
    assert proc.returncode == 0, proc.stderr
    reader.join(timeout=30)
    assert got and len(got[0].decode().splitlines()) == 6
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def null_device(tmp_path: Path) -> Path:
    """A null device (char 1, 3): our own node when we may make one, so a broken `--out` replaces
    that node and not the machine's /dev/null; else /dev/null itself when we are not root (and
    could not replace it)."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        if os.geteuid() == 0:
            pytest.skip("cannot make a device node, and /dev/null is not to be risked as root")
        return Path("/dev/null")
    return node


def test_dev_null_is_written_to(store: Path, tmp_path: Path) -> None:
    null = null_device(tmp_path)
    proc = run("report", "--store", str(store), "--format", "html", "--out", str(null))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert list(tmp_path.iterdir()) in ([null], [])  # no temporary file beside it


@pytest.mark.parametrize("command", [("report", "--format", "json"), ("report", "--format", "html"),
                                     ("ai", "report", "--format", "json"), ("changes",)])
def test_the_store_is_refused(store: Path, tmp_path: Path, command: tuple[str, ...]) -> None:
    before = store.read_bytes()
    link = tmp_path / "innocent.json"
    link.symlink_to(store)
    for target in (store, link):
        proc = run(*command, "--store", str(store), "--out", str(target))
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "is the store" in proc.stderr and "Traceback" not in proc.stderr
    assert store.read_bytes() == before
    with open_store(store, read_only=True) as st:
        assert st.con.execute("SELECT count(*) FROM commits").fetchone() == (6,)
