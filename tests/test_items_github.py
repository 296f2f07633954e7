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

from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.pipeline import ingest_git
from leadlens.report.changes import write_jsonl
from leadlens.report.items import ItemScope, item_rows
from leadlens.store import open_store

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
