"""A hostile repository cannot drive the terminal: repository text reaches it without control
characters and is never read as Rich markup; files and pipes still get the data intact."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
import sys
import threading
import tty
from pathlib import Path

import pytest

from gitfixtures import CLEAR, CSI8, HOSTILE_TEXT, OSC_TITLE, Git, build_hostile

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api" / "github"
# Every C0 control but tab and newline, DEL, and every C1 control.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("LEADLENS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, check=False, env=env)


def assert_clean(proc: subprocess.CompletedProcess[str], code: int = 0) -> str:
    """Both streams free of control characters, the exit code as expected; stdout + stderr."""
    text = proc.stdout + proc.stderr
    assert proc.returncode == code, text
    assert "Traceback" not in text and "internal error" not in text, text
    assert not CONTROL.search(text), repr(CONTROL.findall(text))
    return text


def on_terminal(*args: str) -> bytes:
    """What the command writes to standard output when that is a terminal (a raw pty)."""
    main, side = pty.openpty()
    tty.setraw(side)  # no \n -> \r\n translation: the bytes as written
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: the other side closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "leadlens", *args], stdout=side,
                          stderr=subprocess.PIPE, check=False, env=env)
    os.close(side)
    reader.join(timeout=30)
    os.close(main)
    assert proc.returncode == 0, proc.stderr
    return b"".join(chunks)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The hostile repository at a path holding `[/]` and an escape, and its store (also under a
    `[/]` path), ingested."""
    base = tmp_path_factory.mktemp("hostile")
    repo = base / "ev[" / f"]il{CLEAR}repo"
    build_hostile(repo)
    store = base / "st[" / "]ore" / "s.duckdb"
    text = assert_clean(run("ingest", "git", str(repo), "--store", str(store)))
    assert "acme/ev[2J[/]il" in text  # the name, stripped of its escape, not read as markup
    return repo, store


def test_ingest_warning_quoting_the_repository(hostile: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    repo, _ = hostile
    subprocess.run(["git", "clone", "-q", str(repo), str(tmp_path / "clone")], check=True)
    g = Git.open(tmp_path / "clone")
    g.run("remote", "set-url", "origin", f"https://github.com/acme/ev{CLEAR}[/]il.git")
    g.run("checkout", "-q", "--detach")
    g.run("remote", "set-head", "origin", "-d")
    text = assert_clean(run("ingest", "git", str(tmp_path / "clone"),
                            "--store", str(tmp_path / "s.duckdb")))
    assert "warning: acme/ev[2J[/]il: HEAD is detached" in text


@pytest.mark.parametrize("command", [("summary",), ("report",), ("ai", "report"),
                                     ("report", "--repo", "x[/]y")])
def test_reports_on_the_terminal(hostile: tuple[Path, Path], command: tuple[str, ...]) -> None:
    _, store = hostile
    assert_clean(run(*command, "--store", str(store)))


def test_summary_names_the_repository_as_written(hostile: tuple[Path, Path]) -> None:
    _, store = hostile
    assert "acme/ev[2J[/]il" in assert_clean(run("summary", "--store", str(store)))


def test_html_path_with_markup(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    _, store = hostile
    target = tmp_path / "o[" / f"]ut{CLEAR}.html"
    text = assert_clean(run("report", "--store", str(store), "--format", "html",
                            "--out", str(target)))
    assert target.is_file()
    assert str(target.resolve()).replace(CLEAR, "[2J") in text


def test_ai_share_table_names_authors_without_escapes(hostile: tuple[Path, Path]) -> None:
    repo, _ = hostile
    text = assert_clean(run("ai", "share", str(repo), "--from", "HEAD~1"))
    assert "Ev[2Jil 31mMan"[:6] in text and "Man (AI) 5" in text


def test_error_line_quoting_a_repository_path(hostile: tuple[Path, Path]) -> None:
    repo, _ = hostile
    text = assert_clean(run("ai", "share", str(repo), "--from", "no-such-rev"), code=2)
    (line,) = [t for t in text.splitlines() if t.startswith("leadlens: error:")]
    assert "]il[2Jrepo" in line


def test_replay_notes_and_table(tmp_path: Path) -> None:
    rec = json.loads((FIXTURES / "pull_requests.jsonl").read_text().splitlines()[0])
    # A slash would end the name in the URL: markup without one, read as a tag before.
    rec["url"] = rec["url"].replace("panjf2000/ants", f"acme/ev{CLEAR}[bold]il")
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "pull_requests.jsonl").write_text(json.dumps(rec) + "\n")
    (tmp_path / "rec" / f"bad{OSC_TITLE}[bold].jsonl").write_text("not json\n")
    text = assert_clean(run("ingest", "github", "--from-dir", str(tmp_path / "rec"),
                            "--store", str(tmp_path / "s.duckdb")), code=2)
    assert "GitHub replay: acme/ev[2J[bold]il" in text
    assert "malformed: bad]0;pwned[bold].jsonl:1: not JSON" in text


def test_exports_to_a_pipe_keep_the_data(hostile: tuple[Path, Path]) -> None:
    _, store = hostile
    proc = run("changes", "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows[-1]["title"] == HOSTILE_TEXT
    assert rows[-1]["repo"] == f"acme/ev{CLEAR}[/]il"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_exports_to_a_terminal_are_stripped(hostile: tuple[Path, Path], fmt: str) -> None:
    _, store = hostile
    raw = on_terminal("changes", "--store", str(store), "--format", fmt)
    text = raw.decode("utf-8")
    assert not CONTROL.search(text), repr(CONTROL.findall(text))
    assert "Evil ]0;pwnedtitle[2J [/] [bold]x 31m :smile:" in text
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["number"] for r in rows] == ["", "5"]


def test_rich_output_on_a_terminal_carries_no_repository_escapes(
        hostile: tuple[Path, Path]) -> None:
    repo, store = hostile
    for args in (("summary", "--store", str(store)), ("ai", "share", str(repo), "--from", "HEAD~1")):
        text = on_terminal(*args).decode("utf-8")
        for sequence in (OSC_TITLE, CLEAR, CSI8):
            assert sequence not in text
