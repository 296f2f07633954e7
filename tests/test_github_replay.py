"""Replaying real recorded GitHub objects (panjf2000/ants, recorded by Apache DevLake) into a store."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadlens.pipeline import replay_github
from leadlens.sources.github.mapping import route
from leadlens.store import Store

RECORDED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api" / "github"
REPO = "panjf2000/ants"


def _count(store: Store, sql: str) -> int:
    return int(store.con.execute(sql).fetchall()[0][0])


def _lines(name: str) -> list[str]:
    return (RECORDED / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()


def test_replay_stores_each_object_once(store: Store) -> None:
    summary = replay_github(store, RECORDED)
    assert summary.repos == [REPO]
    # The recording repeats PR #4 (as paginated crawls do): 50 lines, 49 pull requests.
    assert len(_lines("pull_requests")) == 50
    assert _count(store, "SELECT count(*) FROM pull_requests") == 49
    assert _count(store, "SELECT count(DISTINCT number) FROM pull_requests") == 49
    assert summary.stored["pull_requests"] == 49
    assert _count(store, "SELECT count(*) FROM reviews") == 30  # 31 lines
    assert _count(store, "SELECT count(*) FROM pr_commits") == 90  # 91 lines
    assert _count(store, "SELECT count(*) FROM comments WHERE kind = 'issue'") == 94
    assert _count(store, "SELECT count(*) FROM comments WHERE kind = 'review'") == 16
    assert _count(store, "SELECT count(*) FROM builds WHERE kind = 'workflow_run'") == 35
    assert _count(store, "SELECT count(*) FROM builds WHERE kind = 'job'") == 35
    # 42 issue lines: 16 are pull requests (stored as such), one repeats: 25 issues... counted below.
    issues = [json.loads(x)["data"] for x in _lines("issues")]
    plain = {i["number"] for i in issues if "pull_request" not in i}
    assert _count(store, "SELECT count(*) FROM issues") == len(plain) == 26
    assert summary.not_stored["issues"] == sum("pull_request" in i for i in issues) == 16
    assert summary.not_stored["accounts"] == 15  # /users/... has no table
    assert summary.skipped == [] and summary.malformed == []


def test_replay_maps_real_values(store: Store) -> None:
    replay_github(store, RECORDED)
    row = store.con.execute(
        "SELECT merged_at, merge_commit_sha, author, base_ref, head_ref, labels, state, source, url"
        " FROM pull_requests WHERE repo = ? AND number = 4", [REPO]).fetchall()[0]
    assert row[0] == datetime(2018, 7, 26, 2, 32, 41, tzinfo=UTC)
    assert row[1:7] == ("3ddd58c390b0f928a5782c235f90ad0c9c21312c", "barryz", "master",
                        "pre_allocate", ["enhancement"], "closed")
    assert row[7] == "github" and row[8] == "https://api.github.com/repos/panjf2000/ants/pulls/4"
    assert store.con.execute("SELECT merged_at FROM pull_requests WHERE number = 211"
                             ).fetchall() == [(None,)]
    # Reviews come from three pull requests; the first recorded one, by choleraehyq on #41.
    assert store.con.execute("SELECT number, count(*) FROM reviews GROUP BY number ORDER BY number"
                             ).fetchall() == [(41, 12), (51, 3), (53, 15)]
    assert store.con.execute(
        "SELECT number, reviewer, state, submitted_at FROM reviews WHERE id = 277027723").fetchall() \
        == [(41, "choleraehyq", "COMMENTED", datetime(2019, 8, 20, 9, 5, 2, tzinfo=UTC))]
    # codecov[bot] is an automation bot; panjf2000 is not.
    assert store.con.execute(
        "SELECT author, bool_and(author_is_bot), count(*) FROM comments WHERE author IN"
        " ('codecov[bot]', 'panjf2000') AND kind = 'issue' GROUP BY author ORDER BY author"
    ).fetchall() == [("codecov[bot]", True, 8), ("panjf2000", False, 47)]  # 9 lines: one repeats
    # The issue events list holds 10 events of pull requests (the rest are of plain issues).
    assert store.con.execute("SELECT count(*), count(*) FILTER (WHERE event = 'ready_for_review')"
                             " FROM pr_events").fetchall() == [(10, 1)]
    commit = store.con.execute("SELECT number, author_name, author_time FROM pr_commits WHERE sha ="
                               " '5bbc9e170bbee27c37bcc30da3da75b4531d1edb'").fetchall()
    assert commit == [(23, "Cholerae Hu", datetime(2019, 1, 21, 10, 57, 23, tzinfo=UTC))]


def test_issue_milestones_are_stored_and_backfilled(tmp_path: Path) -> None:
    """Every recorded plain issue is in the milestone v0.11.0; a store written before migration 10
    gets the milestone from the payload it kept."""
    from leadlens.store import open_store
    from leadlens.store.db import migrations

    path = tmp_path / "s.duckdb"
    with open_store(path) as st:
        replay_github(st, RECORDED)
        assert st.con.execute("SELECT milestone, count(*) FROM issues GROUP BY ALL").fetchall() \
            == [("v0.11.0", 26)]
        # The store as migration 9 left it: without the column, and without what later
        # migrations made (they run again on the next open).
        st.con.execute("ALTER TABLE issues DROP COLUMN milestone")
        for version, _, sql in migrations():
            if version > 10:
                for table in re.findall(r"CREATE TABLE (\w+)", sql):
                    st.con.execute(f"DROP TABLE {table}")
        st.con.execute("DELETE FROM schema_migrations WHERE version >= 10")
    with open_store(path) as st:
        assert st.con.execute("SELECT milestone, count(*) FROM issues GROUP BY ALL").fetchall() \
            == [("v0.11.0", 26)]


def test_replay_twice_changes_nothing(store: Store) -> None:
    replay_github(store, RECORDED)
    tables = ["pull_requests", "reviews", "comments", "pr_commits", "builds", "issues", "pr_events"]
    before = {t: _count(store, f"SELECT count(*) FROM {t}") for t in tables}
    replay_github(store, RECORDED)
    assert {t: _count(store, f"SELECT count(*) FROM {t}") for t in tables} == before


def _copy(tmp_path: Path, *names: str) -> Path:
    target = tmp_path / "recorded"
    target.mkdir()
    for name in names:
        shutil.copy(RECORDED / f"{name}.jsonl", target / f"{name}.jsonl")
    return target


def test_malformed_and_truncated_lines_are_reported_with_file_and_line(store: Store,
                                                                       tmp_path: Path) -> None:
    recorded = _copy(tmp_path, "pull_request_reviews")
    lines = _lines("pull_requests")
    # A truncated last line, as an interrupted recording leaves it, and a line of the wrong shape.
    text = "\n".join([*lines[:3], '{"url": "x"}', *lines[3:5], lines[5][: len(lines[5]) // 2]])
    (recorded / "pull_requests.jsonl").write_text(text, encoding="utf-8")
    summary = replay_github(store, recorded)
    assert summary.malformed[0] == "pull_requests.jsonl:4: not a recorded API object (url, data)"
    assert summary.malformed[1].startswith("pull_requests.jsonl:7: not JSON (")
    assert len(summary.malformed) == 2
    # Every good line is stored: 5 lines, of which the first two are both PR #4.
    assert _count(store, "SELECT count(*) FROM pull_requests") == 4
    assert _count(store, "SELECT count(*) FROM reviews") == 30


def test_object_missing_a_field_is_skipped_logged_and_counted(store: Store, tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    records = [json.loads(x) for x in _lines("pull_requests")[:4]]
    del records[1]["data"]["created_at"]
    records[2]["data"]["updated_at"] = "yesterday"
    (recorded / "pull_requests.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    summary = replay_github(store, recorded)
    assert _count(store, "SELECT count(*) FROM pull_requests") == 2
    assert [(s.resource, s.reason) for s in summary.skipped] == [
        ("pull_requests", "missing field 'created_at'"),
        ("pull_requests", "field 'updated_at' is not a time: 'yesterday'")]
    rows = store.con.execute("SELECT resource, url, reason, raw->>'number' FROM skipped_objects"
                             " ORDER BY url").fetchall()
    assert rows == [
        ("pull_requests", records[1]["data"]["url"], "missing field 'created_at'",
         str(records[1]["data"]["number"])),
        ("pull_requests", records[2]["data"]["url"], "field 'updated_at' is not a time: 'yesterday'",
         str(records[2]["data"]["number"]))]
    replay_github(store, recorded)  # the same skip again is not a second row
    assert _count(store, "SELECT count(*) FROM skipped_objects") == 2


def test_routes_name_repository_resource_and_number() -> None:
    base = "https://api.github.com/repos/o/r"
    assert route(f"{base}/pulls/41/reviews?page=1") == ("o/r", "reviews", 41)
    assert route(f"{base}/pulls?state=all") == ("o/r", "pull_requests", None)
    assert route(f"{base}/issues/7/timeline") == ("o/r", "timeline", 7)  # a PR or an issue
    assert route(f"{base}/issues/7/sub_issues") == ("o/r", "sub_issues", 7)
    assert route(f"{base}/issues/7/dependencies/blocked_by") == ("o/r", "blocked_by", 7)
    assert route(f"{base}/deployments/9/statuses") == ("o/r", "deployment_statuses", None)
    assert route(f"{base}/commits/abc/check-runs") == ("o/r", "check_runs", None)
    assert route("https://api.github.com/users/octocat") is None


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True, text=True,
                          check=False, env={**os.environ, "COLUMNS": "200"})


def test_cli_replay_json_summary(tmp_path: Path) -> None:
    proc = _cli("ingest", "github", "--from-dir", str(RECORDED), "--store", str(tmp_path / "s.duckdb"),
                "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["mode"] == "replay" and data["repos"] == [REPO]
    assert data["stored"]["pull_requests"] == 49 and data["stored"]["reviews"] == 30
    assert "no git history of this name" in data["warnings"][0]


@pytest.mark.parametrize("args, message", [
    ((), "name one repository (OWNER/REPO) or pass --from-dir DIR"),
    (("--from-dir", "/nonexistent/dir"), "not a directory"),
])
def test_cli_bad_arguments(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    proc = _cli("ingest", "github", *args, "--store", str(tmp_path / "s.duckdb"))
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_cli_replay_with_a_truncated_line_exits_2_after_storing_the_rest(tmp_path: Path) -> None:
    recorded = _copy(tmp_path)
    lines = _lines("pull_request_reviews")
    (recorded / "pull_request_reviews.jsonl").write_text("\n".join([*lines[1:3], lines[3][:40]]))
    proc = _cli("ingest", "github", "--from-dir", str(recorded), "--store", str(tmp_path / "s.duckdb"),
                "--format", "json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["stored"] == {"reviews": 2}
    assert "pull_request_reviews.jsonl:3: not JSON" in proc.stderr


def test_bot_patterns_are_applied_when_read_not_baked_into_stored_rows(store: Store) -> None:
    """A reviewer the bot pattern names is stored as what the API says (a User): narrowing the
    pattern later takes effect on the stored data, with no refetch."""
    from leadlens.config import Settings

    wide = Settings(bot_pattern=r"(?i)(\[bot\]$|^choleraehyq$)")
    replay_github(store, RECORDED, settings=wide)
    flags = store.con.execute(
        "SELECT DISTINCT reviewer_is_bot FROM reviews WHERE reviewer = 'choleraehyq'").fetchall()
    assert flags == [(False,)]


def test_replay_of_many_repositories_without_clones_warns_once(tmp_path: Path) -> None:
    # The recorded pull requests under three repository names, none with a clone in the store: one
    # warning with the count and where the list is, not one per repository.
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    with (recorded / "pull_requests.jsonl").open("w", encoding="utf-8") as fh:
        for owner in ("one", "two", "three"):
            for line in _lines("pull_requests"):
                fh.write(line.replace("/repos/panjf2000/ants/", f"/repos/{owner}/ants/") + "\n")
    store = str(tmp_path / "s.duckdb")
    proc = _cli("ingest", "github", "--from-dir", str(recorded), "--store", store, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    expected = ("3 repositories have no git history in the store; their merged pull requests stand"
                " alone (`leadlens summary` lists them as \"no clone\"; `leadlens ingest git PATH`"
                " on a clone joins them to commits)")
    assert json.loads(proc.stdout)["warnings"] == [expected]
    assert [ln for ln in proc.stderr.splitlines() if "warning" in ln] == [f"warning: {expected}"]
    listed = _cli("summary", "--store", store, "--format", "json")
    rows = json.loads(listed.stdout)["repositories"]
    assert [(r["repo"], r["commits"], r["pull_requests"]) for r in rows] == [
        ("one/ants", 0, 49), ("three/ants", 0, 49), ("two/ants", 0, 49)]
    table = _cli("summary", "--store", store)
    assert "no clone" in table.stdout
    assert "3 repositories (3 with pull requests but no git history), 0 commits." in table.stdout
