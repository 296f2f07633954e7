"""GitHub issues as work items: closing references, connected events, PR bodies and branches
link them to changes; their closed/reopened events are their status history. Plus the golden
`leadlens items` export of the hand-made Jira scenario."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.forgefixtures import FETCHED, issue, pr, t
from tests.gitfixtures import Git
from tests.itemfixtures import jira_issue
from tests.test_items import make

from leadlens.config import Settings
from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.pipeline import ingest_git
from leadlens.report.changes import write_jsonl
from leadlens.report.items import ItemScope, item_rows
from leadlens.store import Store, open_store

GOLDEN = Path(__file__).parent / "golden" / "items.jsonl"


def _event(con, repo: str, number: int, id: str, event: str, at: str, *,
           source_number: int | None = None) -> None:  # type: ignore[no-untyped-def]
    con.execute(
        "INSERT INTO issue_events (repo, number, id, event, actor, actor_is_bot, \"at\","
        " source_repo, source_number, source_is_pr, source, fetched_at)"
        " VALUES (?, ?, ?, ?, 'ann', FALSE, ?, ?, ?, ?, 'github', ?)",
        [repo, number, id, event, t(at), repo if source_number else None, source_number,
         source_number is not None, FETCHED])


def test_github_issue_links_and_status(tmp_path: Path) -> None:
    g = Git(tmp_path / "app")
    g.write("a.txt", "0\n")
    g.commit("initial", date="2024-01-01T10:00:00Z")
    g.run("checkout", "-q", "-b", "feature")
    g.write("b.txt", "1\n")
    g.commit("work", date="2024-01-05T10:00:00Z")
    g.run("checkout", "-q", "main")
    merge = g.merge("feature", message="Merge pull request #7 from alice/feature\n\nWork",
                    date="2024-01-06T10:00:00Z")
    store = open_store(tmp_path / "s.duckdb")
    con = store.con
    pr(con, "app", 7, created="2024-01-05T12:00", merged="2024-01-06T10:00", merge_sha=merge,
       body="Fixes #3 and resolves app#9 (never ingested); part of OPS-12.",
       head_ref="alice/feature")
    jira_issue(con, "5001", "OPS-12", created="2024-01-01T09:00")
    issue(con, "app", 3, created="2024-01-02T09:00", closed="2024-01-06T10:00", labels=())
    issue(con, "app", 4, created="2024-01-03T09:00", labels=())
    issue(con, "app", 5, created="2024-01-03T09:00", labels=())
    con.execute("INSERT INTO closing_references VALUES ('app', 7, 'app', 3, 'body_keyword',"
                " 'fixes', ?), ('app', 7, 'app', 9, 'body_keyword', 'resolves', ?)",
                [FETCHED, FETCHED])
    _event(con, "app", 3, "e1", "closed", "2024-01-06T10:00")
    _event(con, "app", 4, "e2", "connected", "2024-01-05T13:00", source_number=7)
    _event(con, "app", 5, "e3", "connected", "2024-01-05T13:00", source_number=7)
    _event(con, "app", 5, "e4", "disconnected", "2024-01-05T14:00", source_number=7)
    ingest_git(store, [tmp_path / "app"])
    links = sorted(tuple(r) for r in con.execute(
        "SELECT item_id, change_id, how FROM item_links").fetchall())
    # #9 is not in the store (nothing to link to); #5 was connected, then disconnected
    assert links == [("OPS-12", "app#7", "body"), ("app#3", "app#7", "closing_reference"),
                     ("app#4", "app#7", "connected")]
    status = dict(con.execute("SELECT id, status_category FROM work_items").fetchall())
    assert status == {"app#3": "done", "app#4": "to_do", "app#5": "to_do", "OPS-12": "done"}
    assert con.execute("SELECT to_status, to_category FROM work_item_transitions"
                       " WHERE item_id = 'app#3'").fetchall() == [("closed", "done")]


def test_golden_items_export(tmp_path: Path) -> None:
    store, _ = make(tmp_path)
    stages, rows = item_rows(connect(store), Filters(), ItemScope())
    out = tmp_path / "items.jsonl"
    with out.open("w") as fh:
        write_jsonl(rows, fh)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(out.read_text())
    assert [json.loads(x) for x in out.read_text().splitlines()] == \
        [json.loads(x) for x in GOLDEN.read_text().splitlines()]
    assert stages == ["spec", "spec+queue", "queue", "coding", "delivery", "pickup+review+merge",
                      "release"]


def _project_move(con, number: int, id: str, at: str, status: str, previous: str = "",
                  ) -> None:  # type: ignore[no-untyped-def]
    """A Projects v2 status change as the live GraphQL read stores it."""
    raw = json.dumps({"__typename": "ProjectV2ItemStatusChangedEvent", "id": id, "createdAt": at,
                      "previousStatus": previous, "status": status,
                      "project": {"title": "Roadmap"}})
    con.execute(
        "INSERT INTO issue_events (repo, number, id, event, actor, actor_is_bot, \"at\", detail,"
        " source, fetched_at, raw) VALUES ('app', ?, ?, 'project_v2_status_changed', 'ann', FALSE,"
        " ?, ?, 'github', ?, ?)", [number, id, t(at), status or None, FETCHED, raw])


def _project_items(tmp_path: Path, settings: Settings) -> Store:
    from leadlens import derive

    store = open_store(tmp_path / "s.duckdb")
    con = store.con
    issue(con, "app", 3, created="2024-01-02T09:00", closed="2024-01-06T10:00", labels=())
    issue(con, "app", 4, created="2024-01-02T09:00", labels=())
    _project_move(con, 3, "PVTISC_1", "2024-01-03T10:00", "Todo")
    _project_move(con, 3, "PVTISC_2", "2024-01-04T10:00", "Ready", "Todo")
    _project_move(con, 3, "PVTISC_3", "2024-01-05T09:00", "In Progress", "Ready")
    _event(con, "app", 3, "e1", "closed", "2024-01-06T10:00")
    _project_move(con, 3, "PVTISC_4", "2024-01-06T10:01", "Done", "In Progress")
    _project_move(con, 4, "PVTISC_5", "2024-01-03T11:00", "Waiting")
    assert derive.items(store, settings) is not None
    return store


def _milestones(store: Store) -> dict[str, dict[str, str | None]]:
    _, rows = item_rows(connect(store), Filters(), ItemScope())
    return {r["id"]: {k: v for k, v in r["milestones"].items() if v} for r in rows}


def test_projects_v2_statuses_are_github_status_history(tmp_path: Path) -> None:
    store = _project_items(tmp_path, Settings())
    moves = store.con.execute(
        "SELECT item_id, seq, \"at\"::VARCHAR, from_status, to_status, to_category"
        " FROM work_item_transitions ORDER BY item_id, seq").fetchall()
    # GitHub's default Status options map by name; Ready and Waiting map to nothing by default.
    assert moves == [
        ("app#3", 1, "2024-01-03 10:00:00+00", None, "Todo", "to_do"),
        ("app#3", 2, "2024-01-04 10:00:00+00", "Todo", "Ready", None),
        ("app#3", 3, "2024-01-05 09:00:00+00", "Ready", "In Progress", "in_progress"),
        ("app#3", 4, "2024-01-06 10:00:00+00", "open", "closed", "done"),
        ("app#3", 5, "2024-01-06 10:01:00+00", "In Progress", "Done", "done"),
        ("app#4", 1, "2024-01-03 11:00:00+00", None, "Waiting", None)]
    got = _milestones(store)
    assert got["app#3"] == {"item_created": "2024-01-02T09:00:00Z",
                            "work_started": "2024-01-05T09:00:00Z"}
    assert got["app#4"] == {"item_created": "2024-01-02T09:00:00Z"}
    from leadlens.analysis.items_summary import _unmapped
    unmapped = [(u.project, u.status, u.items) for u in _unmapped(connect(store))]
    assert unmapped == [("app", "Ready", 1), ("app", "Waiting", 1)]


def test_status_settings_map_projects_v2_statuses(tmp_path: Path) -> None:
    settings = Settings(ready_statuses={"app": ["ready"]}, in_progress_statuses={"*": ["Waiting"]})
    store = _project_items(tmp_path, settings)
    categories = store.con.execute(
        "SELECT item_id, to_status, to_category FROM work_item_transitions"
        " WHERE to_status IN ('Ready', 'Waiting') ORDER BY item_id").fetchall()
    assert categories == [("app#3", "Ready", "ready"), ("app#4", "Waiting", "in_progress")]
    got = _milestones(store)
    assert got["app#3"] == {"item_created": "2024-01-02T09:00:00Z",
                            "item_ready": "2024-01-04T10:00:00Z",
                            "work_started": "2024-01-05T09:00:00Z"}
    assert got["app#4"] == {"item_created": "2024-01-02T09:00:00Z",
                            "work_started": "2024-01-03T11:00:00Z"}
