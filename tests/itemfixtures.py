"""Work item rows shaped like migration 009's Jira tables, for hand-made scenarios: one small
insert helper per table (the recorded Jira objects are replayed by the Jira source's tests)."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

__all__ = ["changelog", "jira_issue", "jira_status", "remote_link", "t"]

FETCHED = datetime(2024, 6, 1, tzinfo=UTC)
SITE = "https://example.atlassian.net"


def t(text: str) -> datetime:
    """'2024-04-01T09:00' (UTC) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _insert(con: duckdb.DuckDBPyConnection, table: str, row: dict[str, object]) -> None:
    row = {"fetched_at": FETCHED, **row}
    cols = ", ".join(f'"{k}"' for k in row)
    con.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()))


def jira_status(con: duckdb.DuckDBPyConnection, id: str, name: str, category: str | None) -> None:
    _insert(con, "jira_statuses", {"id": id, "name": name, "category": category})


def jira_issue(con: duckdb.DuckDBPyConnection, id: str, key: str, *, created: str,
               status: str = "Done", status_id: str | None = None,
               category: str | None = "done", resolved: str | None = None,
               reporter: str | None = "acc-1", summary: str | None = None,
               old_keys: tuple[str, ...] = (), labels: tuple[str, ...] = (),
               epic: str | None = None, parent: str | None = None) -> None:
    _insert(con, "jira_issues", {
        "id": id, "key": key, "project_key": key.split("-")[0], "issue_type": "Story",
        "summary": summary or f"Story {key}", "status": status, "status_id": status_id,
        "status_category": category, "reporter": reporter, "labels": list(labels) or None,
        "epic_key": epic, "parent_key": parent, "created_at": t(created),
        "updated_at": t(resolved or created), "resolved_at": t(resolved) if resolved else None,
        "site": SITE})
    for old in (key, *old_keys):
        con.execute("INSERT INTO jira_issue_keys VALUES (?, ?)", [id, old])


_history = iter(range(1, 10**9))


def changelog(con: duckdb.DuckDBPyConnection, issue_id: str, at: str, *, field: str = "status",
              frm: str | None = None, to: str | None = None, to_id: str | None = None,
              author: str | None = "acc-1") -> None:
    _insert(con, "jira_changelog", {
        "issue_id": issue_id, "history_id": str(next(_history)), "item_index": 0, "field": field,
        "field_id": field if field == "status" else None, "from_string": frm, "to_string": to,
        "to_value": to_id, "author": author, "at": t(at)})


def remote_link(con: duckdb.DuckDBPyConnection, issue_id: str, id: str, url: str) -> None:
    _insert(con, "jira_remote_links", {"issue_id": issue_id, "id": id, "url": url,
                                       "title": "link", "relationship": "mentioned on"})
