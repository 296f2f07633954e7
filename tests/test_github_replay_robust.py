"""Replay survives damaged recordings: one wrong-typed object is skipped with its reason and the
rest of its batch is stored; deep nesting, lone surrogates and overlong lines are one bad line
each; only regular files are read (a FIFO or a link to /dev/zero is refused, not read)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.clock import NoSleep
from fakes.github import API, FakeGitHub
from leadlens.errors import UserError
from leadlens.pipeline import replay_github
from leadlens.sources.github import replay
from leadlens.sources.github.client import GitHubAPI, make_client
from leadlens.sources.github.source import sync_repo
from leadlens.store import Store, open_store

RECORDED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api" / "github"
REPO = "panjf2000/ants"
TABLES = ("pull_requests", "reviews", "comments", "pr_commits", "pr_events", "builds", "issues")

Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: object) -> Edit:
    """Set ``data.<path>`` of a recorded line (``url`` sets the line's own URL)."""
    def edit(record: dict[str, Any]) -> None:
        if path == "url":
            record["url"] = value
            return
        *parents, last = path.split(".")
        target = record["data"]
        for key in parents:
            target = target[key]
        target[last] = value
    return edit


# (file, line index, what is done to it, the reason it is skipped with). Lines are picked so that
# the object is stored on a clean replay (events 9: of a pull request; issues 2: not one).
CASES: list[tuple[str, int, Edit, str]] = [
    ("pull_requests", 10, _set("state", {"open": True}), "field 'state' is not a string"),
    ("pull_requests", 11, _set("draft", "yes"), "field 'draft' is not true or false: 'yes'"),
    ("pull_requests", 12, _set("number", 2**63), "field 'number' is not a 64-bit integer"),
    ("pull_requests", 13, _set("head", "main"), "field 'head' is not an object: 'main'"),
    ("pull_requests", 14, _set("user", "octocat"), "field 'user' is not an object"),
    ("pull_requests", 15, _set("labels", 5), "field 'labels' is not a list: 5"),
    ("pull_requests", 16, _set("user.login", 7), "field 'user.login' is not a string: 7"),
    ("pull_request_reviews", 3, _set("id", 2**64), "field 'id' is not a 64-bit integer"),
    ("comments", 4, _set("body", ["a"]), "field 'body' is not a string: ['a']"),
    ("pull_request_commits", 5, _set("commit", "abc"), "field 'commit' is not an object"),
    ("pull_request_commits", 6, _set("url", f"{API}/repos/{REPO}/pulls/{2**64}/commits"),
     "field 'number' is not a 64-bit integer"),
    ("runs", 7, _set("conclusion", 1), "field 'conclusion' is not a string: 1"),
    ("jobs", 8, _set("id", "12"), "field 'id' is not an integer: '12'"),
    ("events", 9, _set("event", {"x": 1}), "field 'event' is not a string"),
    ("issues", 2, _set("title", 12), "field 'title' is not a string: 12"),
    ("issues", 3, _set("created_at", "9999-12-31T23:30:00-05:00"), "field 'created_at' is not a"
     " time"),
    ("issues", 4, _set("milestone", {"title": 3}), "field 'milestone.title' is not a string: 3"),
    ("issues", 7, _set("milestone", "v1"), "field 'milestone' is not an object"),
]


def _write(directory: Path, name: str, records: list[str]) -> None:
    (directory / f"{name}.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")


def _recording(target: Path, damage: dict[str, dict[int, Edit | None]],
               names: tuple[str, ...] | None = None) -> Path:
    """The recorded files (or ``names`` of them) in ``target``, a line edited (None: removed)."""
    target.mkdir()
    for path in sorted(RECORDED.glob("*.jsonl")):
        if names is not None and path.stem not in names:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        out = []
        for i, line in enumerate(lines):
            if i not in damage.get(path.stem, {}):
                out.append(line)
                continue
            edit = damage[path.stem][i]
            if edit is not None:
                record = json.loads(line)
                edit(record)
                out.append(json.dumps(record))
        _write(target, path.stem, out)
    return target


def _counts(db: Path, directory: Path) -> tuple[dict[str, int], list[tuple[str, str]], Any]:
    with open_store(db) as st:
        summary = replay_github(st, directory)
        counts = {t: st.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
        skipped = st.con.execute("SELECT resource, reason FROM skipped_objects ORDER BY reason"
                                 ).fetchall()
    return counts, skipped, summary


def test_a_batch_with_bad_objects_stores_all_the_others(tmp_path: Path) -> None:
    """Every damaged object of CASES in one recording (one batch: fewer than BATCH_OBJECTS lines):
    the store holds exactly what it holds when those lines are removed, and each is skipped."""
    damaged: dict[str, dict[int, Edit | None]] = {}
    removed: dict[str, dict[int, Edit | None]] = {}
    for name, line, edit, _ in CASES:
        damaged.setdefault(name, {})[line] = edit
        removed.setdefault(name, {})[line] = None
    want, _, _ = _counts(tmp_path / "want.duckdb", _recording(tmp_path / "removed", removed))
    got, skipped, summary = _counts(tmp_path / "got.duckdb", _recording(tmp_path / "damaged", damaged))
    assert got == want and sum(got.values()) > 300
    assert summary.malformed == [] and not summary.failed
    left = [reason for _, reason in skipped]
    for _, _, _, reason in CASES:
        hit = next((r for r in left if r.startswith(reason)), None)
        assert hit is not None, (reason, left)
        left.remove(hit)
    assert left == []


@pytest.mark.parametrize("name,line,edit,reason", CASES, ids=[c[3][:40] for c in CASES])
def test_one_wrong_typed_field_skips_its_object_only(tmp_path: Path, name: str, line: int,
                                                     edit: Edit, reason: str) -> None:
    want, _, _ = _counts(tmp_path / "want.duckdb",
                         _recording(tmp_path / "removed", {name: {line: None}}, (name,)))
    got, skipped, summary = _counts(tmp_path / "got.duckdb",
                                    _recording(tmp_path / "damaged", {name: {line: edit}}, (name,)))
    assert got == want
    assert [s.reason for s in summary.skipped] == [skipped[0][1]] and skipped[0][1].startswith(reason)


def test_deep_nesting_and_lone_surrogates_are_one_line_each(store: Store, tmp_path: Path) -> None:
    lines = (RECORDED / "pull_requests.jsonl").read_text(encoding="utf-8").splitlines()
    nested = "[" * 100_000 + "]" * 100_000
    deep = json.dumps({"url": f"{API}/repos/{REPO}/pulls/1", "data": None}).replace("null", nested)
    # A title cut inside a surrogate pair (\ud83d of an emoji): JSON allows it, UTF-8 cannot hold it.
    record = json.loads(lines[20])
    record["data"]["title"] = "fix \ud83d"
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    _write(recorded, "pull_requests", [*lines[:20], deep, json.dumps(record), *lines[21:]])
    summary = replay_github(store, recorded)
    assert summary.malformed == ["pull_requests.jsonl:21: JSON nested too deeply"]
    assert summary.skipped == []
    assert store.con.execute("SELECT title, raw->>'title' FROM pull_requests WHERE number = ?",
                             [record["data"]["number"]]).fetchall() == [("fix \ufffd", "fix \ufffd")]
    assert store.con.execute("SELECT count(*) FROM pull_requests").fetchall()[0][0] == 49


def test_an_overlong_line_is_skipped_without_holding_it(store: Store, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay, "MAX_LINE_BYTES", 100_000)  # the real limit is 64 MiB
    lines = (RECORDED / "pull_requests.jsonl").read_text(encoding="utf-8").splitlines()
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    _write(recorded, "pull_requests", [*lines[:5], "x" * 350_000, *lines[5:]])
    summary = replay_github(store, recorded)
    assert summary.malformed == ["pull_requests.jsonl:6: longer than 100,000 bytes"]
    assert store.con.execute("SELECT count(*) FROM pull_requests").fetchall()[0][0] == 49


def test_live_objects_of_the_wrong_shape_are_skipped_too(store: Store) -> None:
    fake = FakeGitHub()
    fake.pulls[41]["head"] = "main"  # once made the run crash on .get of a string
    fake.pulls[51]["state"] = {"open": True}
    api = GitHubAPI(make_client("t", API, httpx.MockTransport(fake)), clock=NoSleep())
    summary = sync_repo(store, api, REPO)
    assert not summary.failed
    assert sorted(s.reason for s in summary.skipped if s.resource == "pull_requests") == [
        "field 'head' is not an object: 'main'", "field 'head' is not an object: 'main'",
        "field 'state' is not a string: {'open': True}",
        "field 'state' is not a string: {'open': True}"]  # the list row and the detail
    assert store.con.execute("SELECT count(*) FROM pull_requests").fetchall()[0][0] == 49 - 2


def _replay_cli(directory: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    def cap_memory() -> None:  # should /dev/zero be read after all, fail fast, not the machine
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("LEADLENS_DEBUG", None)
    try:
        return subprocess.run(
            [sys.executable, "-m", "leadlens", "ingest", "github", "--from-dir", str(directory),
             "--store", str(tmp_path / "s.duckdb")], capture_output=True, text=True, env=env,
            timeout=60, preexec_fn=cap_memory, check=False)
    except subprocess.TimeoutExpired:
        pass
    pytest.fail("replay did not finish in 60 s: it read a file that never ends")


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_only_regular_files_are_read(tmp_path: Path, kind: str) -> None:
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    shutil.copy(RECORDED / "pull_requests.jsonl", recorded / "a.jsonl")
    if kind == "fifo":
        os.mkfifo(recorded / "b.jsonl")
    else:
        (recorded / "b.jsonl").symlink_to("/dev/zero")
    proc = _replay_cli(recorded, tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "b.jsonl is a" in proc.stderr and "not a regular file" in proc.stderr
    with pytest.raises(UserError, match="not a regular file"), open_store(tmp_path / "t.duckdb") as st:
        replay_github(st, recorded)
