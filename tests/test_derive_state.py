"""Derive is crash-safe and retryable, and settings that change derivation take effect.

What the derive step last ran on (the git cursor, forge data, line history, the mainline and the
settings it reads) is recorded with its output; any ingest derives every repository whose recorded
inputs differ from the current ones, and only those.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from forgefixtures import t
from gitfixtures import Git, build_flow, build_linear
from leadlens import derive
from leadlens.config import Settings
from leadlens.pipeline import ingest_git
from leadlens.store import Store, open_store
from test_derive_forge import REPO, add_forge_rows, build_forge_repo

SRC = str(Path(__file__).resolve().parents[1] / "src")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, check=False, env=env, cwd=cwd)


def derived_rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Everything the derive step writes, in a stable order."""
    q = {
        "mainline": "SELECT repo, sha, position FROM mainline",
        "changes": "SELECT repo, id, number, merge_sha, title, author, commits, release, authors"
                   " FROM changes",
        "change_commits": "SELECT repo, change_id, sha FROM change_commits",
        "milestones": 'SELECT repo, change_id, name, "at", source, proxy FROM milestones',
        "line_changes": "SELECT * FROM line_changes",
        "rewritten_lines": "SELECT * FROM rewritten_lines",
    }
    return {k: sorted(store.con.execute(sql).fetchall(), key=repr) for k, sql in q.items()}


KILLER = """
import os, signal, sys
sys.path.insert(0, {src!r})
import {module} as m
owner = {owner}
real = getattr(owner, {attr!r})
calls = []
def then_die(*args, **kwargs):
    calls.append(1)
    if {before!r} and len(calls) == {nth}:
        os.kill(os.getpid(), signal.SIGKILL)
    out = real(*args, **kwargs)
    if len(calls) == {nth}:
        os.kill(os.getpid(), signal.SIGKILL)
    return out
setattr(owner, {attr!r}, then_die)
from leadlens.pipeline import ingest_git
from leadlens.store import open_store
ingest_git(open_store({store!r}), [{repo!r}], line_history=True)
"""
STEP = ("leadlens.derive", "m")
SAVE = ("leadlens.derive.state", "m.StepInputs")  # called inside a step's transaction, last


@pytest.mark.parametrize(("where", "attr", "nth", "before", "kept"), [
    (STEP, "derive_repo", 1, True, set()),  # before the changes step wrote anything
    (SAVE, "save", 1, True, set()),  # inside the changes step's transaction, after its writes
    (STEP, "derive_repo", 1, False, {"changes"}),  # after it committed
    (STEP, "derive_line_ages", 1, False, {"changes", "line_ages"}),  # before forge
    (SAVE, "save", 3, True, {"changes", "line_ages"}),  # inside the forge step's transaction
])
def test_sigkill_during_derive_then_plain_ingest_derives(
        tmp_path: Path, where: tuple[str, str], attr: str, nth: int, before: bool,
        kept: set[str]) -> None:
    repo = tmp_path / "forge"
    s = build_forge_repo(repo)  # with pull requests and deployments: every step has work
    db = tmp_path / "killed.duckdb"
    for path in (tmp_path / "clean.duckdb", db):
        with open_store(path) as st:
            add_forge_rows(st.con, s)
    with open_store(tmp_path / "clean.duckdb") as clean:
        ingest_git(clean, [repo], line_history=True)
        want = derived_rows(clean)
    assert want["changes"] and want["line_changes"]
    assert any(r[4] == "github" for r in want["milestones"])
    proc = subprocess.run([sys.executable, "-c", KILLER.format(
        src=SRC, module=where[0], owner=where[1], attr=attr, nth=nth, before=before,
        store=str(db), repo=str(repo))], capture_output=True, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    with open_store(db) as st:
        # A step's output and its record of what it ran on commit together, or not at all.
        steps = {r[0] for r in st.con.execute("SELECT step FROM derive_state").fetchall()}
        assert steps == kept
        got = derived_rows(st)
        assert bool(got["changes"]) == ("changes" in kept)
        assert bool(got["line_changes"]) == ("line_ages" in kept)
        assert not any(r[4] == "github" for r in got["milestones"])
        # The git read completed (its cursor moved) before the kill: the repository is up to
        # date as far as git goes, yet its derived data is not.
        assert set(derive.stale(st, Settings())) == {REPO}
        report = ingest_git(st, [repo], line_history=True)
        assert report.outcomes[0].up_to_date
        assert derived_rows(st) == want
        assert derive.stale(st, Settings()) == {}


def test_no_derive_then_ingest_derives(store: Store,
                                       history_repo: tuple[Path, dict[str, str]]) -> None:
    ingest_git(store, [history_repo[0]], derive_after=False)
    assert store.con.execute("SELECT count(*) FROM changes").fetchone() == (0,)
    report = ingest_git(store, [history_repo[0]])
    outcome = report.outcomes[0]
    assert outcome.up_to_date and outcome.changes == 10
    assert store.con.execute("SELECT count(*) FROM changes").fetchone() == (10,)


def test_new_commits_after_an_interrupted_derive_are_derived(store: Store, tmp_path: Path) -> None:
    """The cursor moved with new commits but the derive never ran: the newest changes were missing
    for good."""
    repo = tmp_path / "lin"
    build_linear(repo, 5)
    ingest_git(store, [repo])
    build_linear(repo, 3, start_day=10, prefix="d")
    ingest_git(store, [repo], derive_after=False)
    assert store.con.execute("SELECT count(*) FROM changes").fetchone() == (5,)
    ingest_git(store, [repo])
    assert store.con.execute("SELECT count(*) FROM changes").fetchone() == (8,)


def test_nothing_changed_derives_nothing(store: Store, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "flow"
    build_flow(repo)
    ingest_git(store, [repo], line_history=True)
    calls: list[str] = []

    def spy(name: str) -> Callable[..., object]:
        real = getattr(derive, name)

        def step(*args: object, **kwargs: object) -> object:
            calls.append(name)
            return real(*args, **kwargs)
        return step

    for name in ("derive_repo", "derive_line_ages", "derive_forge"):
        monkeypatch.setattr(derive, name, spy(name))
    report = ingest_git(store, [repo], line_history=True)
    assert report.outcomes[0].up_to_date and report.outcomes[0].changes is None
    assert calls == []


def test_branch_on_a_stored_repository_rederives_and_stays(tmp_path: Path) -> None:
    g = Git(tmp_path / "odd")
    g.write("x.txt", "x\n")
    g.commit("x\n", date="2024-03-01T09:00:00Z")
    g.write("y.txt", "y\n")
    g.commit("y\n", date="2024-03-02T09:00:00Z")
    g.run("branch", "-m", "main", "other")
    g.run("symbolic-ref", "HEAD", "refs/heads/gone")  # the default branch cannot be determined
    db = str(tmp_path / "s.duckdb")
    first = run("ingest", "git", str(tmp_path / "odd"), "--store", db, "-q")
    assert first.returncode == 0, first.stderr
    # The report's own hint: "ingest it again with --branch NAME".
    again = run("ingest", "git", str(tmp_path / "odd"), "--store", db, "--branch", "other", "-q")
    assert again.returncode == 0, again.stderr
    assert "2 changes" in again.stderr
    with open_store(db, read_only=True) as st:
        assert st.con.execute("SELECT default_branch FROM repos").fetchone() == ("refs/heads/other",)
        assert st.con.execute("SELECT count(*) FROM changes").fetchone() == (2,)
    # A later run without --branch (here: a report over the PATH) keeps the chosen mainline.
    report = run("report", str(tmp_path / "odd"), "--store", db, "--format", "json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["changes"] == 2


def test_branch_switch_between_existing_branches(store: Store, tmp_path: Path) -> None:
    repo = tmp_path / "two"
    build_linear(repo, 3)
    g = Git.open(repo)
    g.run("checkout", "-q", "-b", "next")
    build_linear(repo, 2, start_day=5, prefix="n")
    g.run("checkout", "-q", "main")
    ingest_git(store, [repo])
    assert store.con.execute("SELECT count(*) FROM mainline").fetchone() == (3,)
    report = ingest_git(store, [repo], branch="next")
    assert report.outcomes[0].changes == 5
    assert store.con.execute("SELECT count(*) FROM mainline").fetchone() == (5,)
    assert store.con.execute("SELECT default_branch FROM repos").fetchone() == ("refs/heads/next",)
    # Remembered: a run without --branch keeps it (nothing to read, nothing to derive).
    again = ingest_git(store, [repo]).outcomes[0]
    assert again.up_to_date and again.changes is None
    assert store.con.execute("SELECT count(*) FROM mainline").fetchone() == (5,)
    # --branch '' goes back to the default mainline.
    assert ingest_git(store, [repo], branch="").outcomes[0].changes == 3
    assert store.con.execute("SELECT default_branch FROM repos").fetchone() == ("refs/heads/main",)
    # A remembered branch that is gone is an error that says where it came from.
    ingest_git(store, [repo], branch="next")
    g.run("branch", "-q", "-D", "next")
    gone = ingest_git(store, [repo]).outcomes[0]
    assert gone.error == (f"{repo}: branch 'next' (the mainline an earlier --branch chose) does not"
                          " exist; pass --branch NAME for another, or --branch '' for the default")


def released(db: Path) -> dict[str, str | None]:
    with open_store(db, read_only=True) as st:
        return dict(st.con.execute("SELECT id, release FROM changes").fetchall())


def test_release_tag_pattern_change_rederives_and_reports_say_stale(
        tmp_path: Path, history_repo: tuple[Path, dict[str, str]]) -> None:
    repo, _ = history_repo
    db = tmp_path / "s.duckdb"
    assert run("ingest", "git", str(repo), "--store", str(db), "-q", cwd=tmp_path).returncode == 0
    before = released(db)
    assert before["history#7"] == "v1.0"
    # Release candidates become releases; nothing new in git.
    (tmp_path / "leadlens.toml").write_text('release_tag_pattern = "^(v1\\\\.1|2\\\\.0\\\\.0rc1)$"\n')
    report = run("report", "--store", str(db), "--format", "json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "history" in report.stderr and "release_tag_pattern" in report.stderr
    assert "leadlens derive" in report.stderr
    changes = run("changes", "--store", str(db), cwd=tmp_path)
    assert "leadlens derive" in changes.stderr
    proc = run("ingest", "git", str(repo), "--store", str(db), "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    after = released(db)
    assert after["history#7"] == "v1.1"  # v1.0 is no release any more
    assert after["history#34"] == "2.0.0rc1"
    assert "stale" not in run("report", "--store", str(db), cwd=tmp_path).stderr


@pytest.fixture
def forge_repo(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    s = build_forge_repo(tmp_path / "forge")
    db = tmp_path / "f.duckdb"
    with open_store(db) as st:
        add_forge_rows(st.con, s)
        ingest_git(st, [tmp_path / "forge"])
    return tmp_path / "forge", db, s


def milestone(st: Store, change: str, name: str) -> object:
    rows = st.con.execute('SELECT "at" FROM milestones WHERE change_id = ? AND name = ?',
                          [f"{REPO}#{change}", name]).fetchall()
    return rows[0][0] if rows else None


def test_production_pattern_change_rederives(forge_repo: tuple[Path, Path, dict[str, str]]) -> None:
    path, db, _ = forge_repo
    with open_store(db) as st:
        assert milestone(st, "3", "released") == t("2024-04-04T10:00")
        staging = Settings(production_pattern="^staging$")
        assert set(derive.stale(st, staging)) == {REPO}
        ingest_git(st, [path], settings=staging)
        assert milestone(st, "3", "released") == t("2024-04-04T08:30")  # the staging deployment
        assert derive.stale(st, staging) == {}


def test_bot_pattern_change_rederives(forge_repo: tuple[Path, Path, dict[str, str]]) -> None:
    path, db, _ = forge_repo
    with open_store(db) as st:
        assert milestone(st, "1", "first_review") == t("2024-04-01T13:00")
        assert milestone(st, "1", "approved") == t("2024-04-02T10:00")
        carol_a_bot = Settings(bot_pattern=r"(?i)(\[bot\]$|^renovate$|^carol$)")
        ingest_git(st, [path], settings=carol_a_bot)
        # Carol's reviews no longer count: erin's (dismissed) review is the first, and no
        # approval before the merge remains.
        assert milestone(st, "1", "first_review") == t("2024-04-02T11:00")
        assert milestone(st, "1", "approved") is None
        ingest_git(st, [path], settings=Settings())  # back to the defaults: derived again
        assert milestone(st, "1", "approved") == t("2024-04-02T10:00")
        # An agent that reviews is an AI review, never a person's approval (DESIGN.md, Bots and
        # agents): changing the agent or the AI reviewer pattern derives again.
        for changed in (Settings(agent_pattern="(?i)^carol$"),
                        Settings(ai_reviewer_pattern="(?i)^carol$")):
            ingest_git(st, [path], settings=changed)
            assert milestone(st, "1", "approved") is None
            ingest_git(st, [path], settings=Settings())
            assert milestone(st, "1", "approved") == t("2024-04-02T10:00")


def test_derive_command(tmp_path: Path, history_repo: tuple[Path, dict[str, str]]) -> None:
    repo, _ = history_repo
    db = str(tmp_path / "s.duckdb")
    assert run("ingest", "git", str(repo), "--store", db, "--no-derive", "-q").returncode == 0
    stale = run("report", "--store", db)
    assert "history" in stale.stderr and "leadlens derive" in stale.stderr
    proc = run("derive", "--store", db)
    assert proc.returncode == 0, proc.stderr
    assert "history: 10 changes" in proc.stderr
    assert "stale" not in run("report", "--store", db).stderr
    # Forced: derives again though nothing changed.
    forced = run("derive", "--store", db, "--repo", "history")
    assert forced.returncode == 0 and "history: 10 changes" in forced.stderr
    unknown = run("derive", "--store", db, "--repo", "nope/nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "leadlens: error: no repository nope/nope in the store" \
        f" {db} (it holds: history)"
    assert "Traceback" not in unknown.stderr
