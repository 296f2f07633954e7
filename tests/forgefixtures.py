"""Forge rows shaped like migration 006's tables, for hand-made scenarios the recordings lack
(deployments, releases, approvals, drafts): one small insert helper per table."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

__all__ = ["comment", "deployment", "event", "issue", "pr", "pr_commit", "release", "review", "t"]

FETCHED = datetime(2024, 6, 1, tzinfo=UTC)


def t(text: str) -> datetime:
    """'2024-04-01T09:00' (UTC) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _insert(con: duckdb.DuckDBPyConnection, table: str, row: dict[str, object]) -> None:
    row = {"source": "github", "fetched_at": FETCHED, **row}
    cols = ", ".join(f'"{k}"' for k in row)
    con.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def pr(con: duckdb.DuckDBPyConnection, repo: str, number: int, *, created: str, author: str = "bob",
       merged: str | None = None, merge_sha: str | None = None, closed: str | None = None,
       title: str | None = None, body: str | None = None, draft: bool = False,
       additions: int | None = 10, deletions: int | None = 0, head_ref: str | None = None,
       author_is_bot: bool = False, labels: tuple[str, ...] = ()) -> None:
    _insert(con, "pull_requests", {
        "repo": repo, "number": number, "title": title or f"PR {number}", "body": body,
        "author": author, "author_is_bot": author_is_bot,
        "state": "closed" if (merged or closed) else "open", "draft": draft,
        "created_at": t(created), "updated_at": t(merged or closed or created),
        "closed_at": t(closed or merged) if (closed or merged) else None,
        "merged_at": t(merged) if merged else None, "merge_commit_sha": merge_sha,
        "base_ref": "main", "head_ref": head_ref or f"feature-{number}", "additions": additions,
        "deletions": deletions, "changed_files": 1, "labels": list(labels)})


def pr_commit(con: duckdb.DuckDBPyConnection, repo: str, number: int, sha: str, *, authored: str,
              message: str, author: str = "Bob Builder") -> None:
    _insert(con, "pr_commits", {
        "repo": repo, "number": number, "sha": sha, "author_name": author, "author_login": None,
        "author_time": t(authored), "committer_time": t(authored), "message": message})


_ids = iter(range(1000, 10**9))


def review(con: duckdb.DuckDBPyConnection, repo: str, number: int, reviewer: str, state: str,
           at: str, *, bot: bool = False) -> None:
    _insert(con, "reviews", {"repo": repo, "number": number, "id": next(_ids), "reviewer": reviewer,
                             "reviewer_is_bot": bot, "state": state, "submitted_at": t(at)})


def comment(con: duckdb.DuckDBPyConnection, repo: str, number: int, author: str, at: str, *,
            kind: str = "issue", bot: bool = False) -> None:
    _insert(con, "comments", {"repo": repo, "kind": kind, "id": next(_ids), "number": number,
                              "author": author, "author_is_bot": bot, "created_at": t(at)})


def event(con: duckdb.DuckDBPyConnection, repo: str, number: int, name: str, at: str, *,
          actor: str = "bob") -> None:
    _insert(con, "pr_events", {"repo": repo, "number": number, "id": str(next(_ids)), "event": name,
                               "actor": actor, "actor_is_bot": False, "at": t(at)})


def deployment(con: duckdb.DuckDBPyConnection, repo: str, id: int, sha: str, *, at: str,
               state: str = "success", environment: str = "production") -> None:
    _insert(con, "deployments", {"repo": repo, "id": id, "sha": sha, "environment": environment,
                                 "created_at": t(at)})
    _insert(con, "deployment_statuses", {"repo": repo, "deployment_id": id, "id": next(_ids),
                                         "state": state, "environment": environment,
                                         "created_at": t(at)})


def release(con: duckdb.DuckDBPyConnection, repo: str, id: int, tag: str, *, published: str,
            target: str = "main", draft: bool = False, prerelease: bool = False) -> None:
    _insert(con, "releases", {"repo": repo, "id": id, "tag_name": tag, "target_commitish": target,
                              "draft": draft, "prerelease": prerelease,
                              "created_at": t(published), "published_at": t(published)})


def issue(con: duckdb.DuckDBPyConnection, repo: str, number: int, *, created: str,
          closed: str | None = None, labels: tuple[str, ...] = ("incident",),
          body: str | None = None, milestone: str | None = None) -> None:
    _insert(con, "issues", {"repo": repo, "number": number, "title": f"Issue {number}", "body": body,
                            "author": "ops", "state": "closed" if closed else "open",
                            "labels": list(labels), "milestone": milestone,
                            "created_at": t(created),
                            "updated_at": t(closed or created),
                            "closed_at": t(closed) if closed else None})
