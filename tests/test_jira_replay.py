"""Replay of the recorded Jira objects (../shared/fixtures/recorded-api/jira): exact values, counts
for every table, idempotency, and the CLI's --from-dir."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fakes.jira import RECORDED
from leadlens.config import Settings
from leadlens.errors import UserError
from leadlens.sources.jira.ingest import JiraReplay
from leadlens.store import Store
from test_bad_input import assert_clean_failure, cli

# Rows per table, counted from the fixture files apart from leadlens (each line a JSON object):
# issues: 33 lines of issues.jsonl + 22 of issue_relationships.jsonl; one key each, none moved.
# changelog: one row per item: 732 items in the issues' embedded histories + 284 in the 279
# histories of issue_changelogs.jsonl. comments: 30 embedded in the issues (`fields.comment`).
# worklogs: 30 distinct (issue, id) in worklogs.jsonl (the 6 embedded are among them).
# remote_links: 151 lines, 130 distinct (input.issue_id, data.id). issue_types: 7 lines, 6 ids.
# issue_links: 16 in `fields.issuelinks` of the Data Center issues. sprints: 30 lines.
# users: 32 distinct account ids (accountId, else key/name) named anywhere, users.jsonl included.
COUNTS = {
    "jira_projects": 12, "jira_issue_types": 6, "jira_statuses": 53, "jira_issues": 55,
    "jira_issue_keys": 55, "jira_changelog": 1016, "jira_comments": 30, "jira_worklogs": 30,
    "jira_remote_links": 130, "jira_issue_links": 16, "jira_sprints": 30, "jira_users": 32,
}

# The first move into a status of category `indeterminate` ("In Progress"), by hand: the status
# items of an issue's embedded changelog (`changelog.histories[].items[]` with field "status"),
# the `to` status id looked up in status.jsonl, the earliest such history's `created`.
# EE-1: history 10911, "Ready for Dev" -> "In Development" (to 3: status.jsonl "In Progress",
#   category indeterminate), created 2020-06-12T11:38:39.785+0800 = 03:38:39.785 UTC.
# EE-17: history 20833, Open -> In Progress (3), 2020-07-22T14:34:22.169+0800 = 06:34:22.169 UTC.
# EE-2: never (Inbox -> Ready for Dev -> To Do -> Open -> Resolved -> Closed -> 已完成: 10029,
#   10000 and 5 are not in status.jsonl, 1 is new, 6 and 10068 done).
FIRST_IN_PROGRESS = {
    "EE-1": datetime(2020, 6, 12, 3, 38, 39, 785000, UTC),
    "EE-17": datetime(2020, 7, 22, 6, 34, 22, 169000, UTC),
    "EE-2": None,
}


def _replay(store: Store, directory: Path = RECORDED, *projects: str) -> dict[str, object]:
    return JiraReplay(directory, tuple(projects)).ingest(store, Settings()).to_json()


def _counts(store: Store) -> dict[str, int]:
    return {t: store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in COUNTS}


def test_counts_for_every_table(store: Store) -> None:
    summary = _replay(store)
    assert _counts(store) == COUNTS
    assert summary["stored"] == {t.removeprefix("jira_"): n for t, n in COUNTS.items()}
    assert summary["malformed"] == [] and summary["skipped"] == [] and summary["repos"] == []
    assert summary["mode"] == "replay"


def test_replay_twice_is_the_same_rows(store: Store) -> None:
    _replay(store)
    tables = {t: sorted(map(str, store.con.execute(
        f"SELECT * EXCLUDE (fetched_at) FROM {t}" if t != "jira_issue_keys" else f"SELECT * FROM {t}"
    ).fetchall())) for t in COUNTS}
    _replay(store)
    assert _counts(store) == COUNTS
    again = {t: sorted(map(str, store.con.execute(
        f"SELECT * EXCLUDE (fetched_at) FROM {t}" if t != "jira_issue_keys" else f"SELECT * FROM {t}"
    ).fetchall())) for t in COUNTS}
    assert again == tables


def test_created_and_first_in_progress(store: Store) -> None:
    _replay(store)
    rows = dict(store.con.execute(
        "SELECT i.key, (SELECT min(c.at) FROM jira_changelog c JOIN jira_statuses s"
        " ON s.id = c.to_value WHERE c.issue_id = i.id AND c.field = 'status'"
        " AND s.category = 'indeterminate') FROM jira_issues i").fetchall())
    for key, at in FIRST_IN_PROGRESS.items():
        assert rows[key] == at, key
    created = dict(store.con.execute(
        "SELECT key, (created_at, created_offset_min) FROM jira_issues").fetchall())
    # issues.jsonl EE-1 "created": "2020-06-12T08:13:13.360+0800"
    assert created["EE-1"] == (datetime(2020, 6, 12, 0, 13, 13, 360000, UTC), 480)
    # issue_relationships.jsonl DZFNK0168-20 "created": "2023-05-29T03:57:45.000+0000"
    assert created["DZFNK0168-20"] == (datetime(2023, 5, 29, 3, 57, 45, tzinfo=UTC), 0)


def test_issue_fields(store: Store) -> None:
    _replay(store)
    ee1 = store.con.execute(
        "SELECT project_key, issue_type, status, status_category, labels, sprint_ids, flagged,"
        " story_points, site FROM jira_issues WHERE key = 'EE-1'").fetchone()
    # EE-1: labels frontEnd, Saas; in closed sprint 7 (closedSprints); the agile API's flagged.
    assert ee1 == ("EE", "故事", "已完成", "new", ["frontEnd", "Saas"], ["7"], False, None,
                   "https://merico.atlassian.net")
    links = store.con.execute(
        "SELECT i.key, l.type, l.direction, l.phrase, l.other_key FROM jira_issue_links l"
        " JOIN jira_issues i ON i.id = l.issue_id WHERE i.key = 'DZFNK0168-5' ORDER BY l.id"
    ).fetchall()
    # issue_relationships.jsonl, DZFNK0168-5's fields.issuelinks: 10108 (inwardIssue
    # DZFNK0168-11, type Duplicate) and 10111 (outwardIssue DZFNK0168-1, type Blocks).
    assert links == [("DZFNK0168-5", "Duplicate", "inward", "is duplicated by", "DZFNK0168-11"),
                     ("DZFNK0168-5", "Blocks", "outward", "blocks", "DZFNK0168-1")]


def test_anonymised_author_is_null_and_emails_not_kept(store: Store) -> None:
    _replay(store)
    # issue_changelogs.jsonl line 1: history 57278 of issue 13383, author.accountId "" (and no
    # key or name): no one to name.
    assert store.con.execute("SELECT DISTINCT author FROM jira_changelog WHERE history_id ="
                             " '57278'").fetchall() == [(None,)]
    assert store.con.execute("SELECT count(*) FROM jira_users WHERE email IS NOT NULL"
                             ).fetchone() == (0,)


def test_store_emails_when_asked(store: Store) -> None:
    JiraReplay(RECORDED, store_emails=True).ingest(store, Settings())
    # The Data Center user `admin` carries emailAddress in the recording.
    assert store.con.execute("SELECT email FROM jira_users WHERE account_id = 'admin'"
                             ).fetchone() == ("hao.ke@merico.dev",)


def test_one_project_only(store: Store) -> None:
    _replay(store, RECORDED, "K5")
    assert store.con.execute("SELECT list(key ORDER BY key) FROM jira_issues").fetchone() == (
        ["K5-2", "K5-3", "K5-4"],)


def test_a_project_the_recording_lacks_is_refused(store: Store) -> None:
    with pytest.raises(UserError, match="no issues of Jira project NOPE in the recording"):
        _replay(store, RECORDED, "EE", "NOPE")
    assert store.con.execute("SELECT count(*) FROM jira_issues").fetchone() == (0,)


def test_odd_objects_are_skipped_and_bad_lines_counted(store: Store, tmp_path: Path) -> None:
    shutil.copy(RECORDED / "status.jsonl", tmp_path / "status.jsonl")
    lines = (RECORDED / "issues.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    odd = json.loads(lines[1])
    odd["data"]["fields"]["created"] = 12  # not a time
    (tmp_path / "issues.jsonl").write_text(
        "\n".join([lines[0], json.dumps(odd), "not json", lines[2]]) + "\n", encoding="utf-8")
    summary = _replay(store, tmp_path)
    assert store.con.execute("SELECT count(*) FROM jira_issues").fetchone() == (2,)
    assert summary["malformed"] == ["issues.jsonl:3: not JSON (Expecting value at column 1)"]
    assert [s["reason"] for s in summary["skipped"]] == ["field 'created' is not a time: 12"]
    assert store.con.execute("SELECT resource, reason FROM skipped_objects").fetchall() == [
        ("issues", "field 'created' is not a time: 12")]


def test_cli_replay(tmp_path: Path) -> None:
    proc = cli("ingest", "jira", "--from-dir", str(RECORDED), "--store",
               str(tmp_path / "s.duckdb"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["stored"]["issues"] == 55 and data["mode"] == "replay"


def test_cli_replay_unknown_project(tmp_path: Path) -> None:
    proc = cli("ingest", "jira", "NOPE", "--from-dir", str(RECORDED), "--store",
               str(tmp_path / "s.duckdb"))
    assert_clean_failure(proc, "no issues of Jira project NOPE")
