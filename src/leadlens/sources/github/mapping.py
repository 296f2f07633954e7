"""Pure mapping of GitHub REST objects to store rows; the same code serves live and replayed data."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from leadlens.sources.github import fields as f
from leadlens.sources.github.events import closing_rows, issue_event, pr_event, relation
from leadlens.sources.github.fields import MappingError, raw_json, utf8
from leadlens.sources.github.rows import REPO_IN_URL, SOURCE, Context, Row, is_bot, provenance, repo_in

__all__ = [
    "KEYS", "MAPPERS", "SOURCE", "Context", "MappingError", "Row", "closing_rows", "is_bot",
    "map_object", "number_in", "raw_json", "repo_in", "route", "utf8",
]

# The key of every table the GitHub source fills: rows with the same key replace each other.
KEYS: dict[str, tuple[str, ...]] = {
    "pull_requests": ("repo", "number"),
    "pr_events": ("repo", "id"),
    "reviews": ("repo", "id"),
    "comments": ("repo", "kind", "id"),
    "pr_commits": ("repo", "number", "sha"),
    "builds": ("repo", "kind", "id"),
    "deployments": ("repo", "id"),
    "deployment_statuses": ("repo", "id"),
    "releases": ("repo", "id"),
    "issues": ("repo", "number"),
    "issue_events": ("repo", "id"),
    "closing_references": ("repo", "number", "issue_repo", "issue_number", "how"),
    "issue_relations": ("repo", "number", "relation", "other_repo", "other_number"),
}

_NUMBER_IN_URL = re.compile(r"/(?:pulls|issues)/(\d+)(?:[/?#]|$)")
_DEPLOYMENT_IN_URL = re.compile(r"/deployments/(\d+)(?:[/?#]|$)")


def number_in(url: str | None) -> int | None:
    m = _NUMBER_IN_URL.search(url) if url else None
    return int(m.group(1)) if m else None


def pull_request(obj: Mapping[str, Any], ctx: Context) -> Row:
    base, head = f.nested(obj, "base"), f.nested(obj, "head")
    return {
        "repo": ctx.repo, "number": f.integer(obj, "number"), "node_id": f.text(obj, "node_id"),
        "title": f.text(obj, "title"), "body": f.text(obj, "body"), "author": f.login(obj, "user"),
        "author_is_bot": is_bot(obj.get("user")), "state": f.need_text(obj, "state"),
        "draft": f.flag(obj, "draft"), "created_at": f.need_time(obj, "created_at"),
        "updated_at": f.need_time(obj, "updated_at"), "closed_at": f.time(obj.get("closed_at"), "closed_at"),
        "merged_at": f.time(obj.get("merged_at"), "merged_at"),
        "merge_commit_sha": f.text(obj, "merge_commit_sha"),
        "base_ref": f.text(base, "ref", "base.ref"), "head_ref": f.text(head, "ref", "head.ref"),
        "head_sha": f.text(head, "sha", "head.sha"), "labels": f.labels(obj),
        # Only the single-PR endpoint says these; the list endpoint leaves them out (NULL).
        "additions": f.opt_integer(obj, "additions"), "deletions": f.opt_integer(obj, "deletions"),
        "changed_files": f.opt_integer(obj, "changed_files"), "commits": f.opt_integer(obj, "commits"),
        **provenance(obj, ctx),
    }


def review(obj: Mapping[str, Any], ctx: Context) -> Row:
    number = number_in(f.url_in(obj, "pull_request_url")) or ctx.number
    if number is None:
        raise MappingError("no pull request number (pull_request_url missing)")
    return {
        "repo": ctx.repo, "number": number, "id": f.integer(obj, "id"),
        "reviewer": f.login(obj, "user"), "reviewer_is_bot": is_bot(obj.get("user")),
        "state": f.need_text(obj, "state"),
        "submitted_at": f.time(obj.get("submitted_at"), "submitted_at"),
        "commit_id": f.text(obj, "commit_id"), "body": f.text(obj, "body"),
        **provenance(obj, ctx, url=False), "url": ctx.url,
    }


def _comment(obj: Mapping[str, Any], ctx: Context, kind: str, number: int | None) -> Row:
    return {
        "repo": ctx.repo, "kind": kind, "id": f.integer(obj, "id"), "number": number,
        "author": f.login(obj, "user"), "author_is_bot": is_bot(obj.get("user")),
        "created_at": f.need_time(obj, "created_at"),
        "updated_at": f.time(obj.get("updated_at"), "updated_at"), "body": f.text(obj, "body"),
        **provenance(obj, ctx),
    }


def review_comment(obj: Mapping[str, Any], ctx: Context) -> Row:
    return _comment(obj, ctx, "review", number_in(f.url_in(obj, "pull_request_url")) or ctx.number)


def issue_comment(obj: Mapping[str, Any], ctx: Context) -> Row:
    return _comment(obj, ctx, "issue", number_in(f.url_in(obj, "issue_url")) or ctx.number)


def pr_commit(obj: Mapping[str, Any], ctx: Context) -> Row:
    if ctx.number is None:
        raise MappingError("no pull request number in the URL")
    commit = f.nested(obj, "commit")
    author, committer = f.nested(commit, "author"), f.nested(commit, "committer")
    return {
        "repo": ctx.repo, "number": ctx.number, "sha": f.need_text(obj, "sha"),
        "author_name": f.text(author, "name", "commit.author.name"),
        "author_login": f.login(obj, "author"),
        "author_time": f.time(author.get("date"), "commit.author.date"),
        "committer_time": f.time(committer.get("date"), "commit.committer.date"),
        "message": f.text(commit, "message", "commit.message"), "source": SOURCE,
        "fetched_at": ctx.fetched_at,
    }


def _build(obj: Mapping[str, Any], ctx: Context, kind: str, **times: datetime | None) -> Row:
    return {
        "repo": ctx.repo, "kind": kind, "id": f.integer(obj, "id"), "name": f.text(obj, "name"),
        "head_sha": f.text(obj, "head_sha"), "head_branch": f.text(obj, "head_branch"),
        "event": f.text(obj, "event"), "status": f.text(obj, "status"),
        "conclusion": f.text(obj, "conclusion"),
        **times, **provenance(obj, ctx),
    }


def workflow_run(obj: Mapping[str, Any], ctx: Context) -> Row:
    # Runs have no completion time of their own; a completed run's last update is its end.
    done = obj.get("status") == "completed"
    return _build(obj, ctx, "workflow_run", created_at=f.time(obj.get("created_at"), "created_at"),
                  started_at=f.time(obj.get("run_started_at"), "run_started_at"),
                  completed_at=f.time(obj.get("updated_at"), "updated_at") if done else None)


def _check(obj: Mapping[str, Any], ctx: Context, kind: str) -> Row:
    row = _build(obj, ctx, kind, created_at=f.time(obj.get("created_at"), "created_at"),
                 started_at=f.time(obj.get("started_at"), "started_at"),
                 completed_at=f.time(obj.get("completed_at"), "completed_at"))
    if row["head_branch"] is None:
        suite = f.nested(obj, "check_suite")
        row["head_branch"] = f.text(suite, "head_branch", "check_suite.head_branch")
    return row


def job(obj: Mapping[str, Any], ctx: Context) -> Row:
    return _check(obj, ctx, "job")


def check_run(obj: Mapping[str, Any], ctx: Context) -> Row:
    return _check(obj, ctx, "check_run")


def deployment(obj: Mapping[str, Any], ctx: Context) -> Row:
    return {
        "repo": ctx.repo, "id": f.integer(obj, "id"), "sha": f.need_text(obj, "sha"),
        "ref": f.text(obj, "ref"), "environment": f.text(obj, "environment"),
        "creator": f.login(obj, "creator"),
        "created_at": f.need_time(obj, "created_at"),
        "updated_at": f.time(obj.get("updated_at"), "updated_at"), **provenance(obj, ctx),
    }


def deployment_status(obj: Mapping[str, Any], ctx: Context) -> Row:
    m = _DEPLOYMENT_IN_URL.search(f.url_in(obj, "deployment_url") or ctx.url or "")
    if m is None:
        raise MappingError("no deployment id (deployment_url missing)")
    return {
        "repo": ctx.repo, "deployment_id": int(m.group(1)), "id": f.integer(obj, "id"),
        "state": f.need_text(obj, "state"), "environment": f.text(obj, "environment"),
        "created_at": f.need_time(obj, "created_at"), **provenance(obj, ctx),
    }


def release(obj: Mapping[str, Any], ctx: Context) -> Row:
    return {
        "repo": ctx.repo, "id": f.integer(obj, "id"), "tag_name": f.need_text(obj, "tag_name"),
        "name": f.text(obj, "name"), "target_commitish": f.text(obj, "target_commitish"),
        "draft": f.need_flag(obj, "draft"), "prerelease": f.need_flag(obj, "prerelease"),
        "created_at": f.time(obj.get("created_at"), "created_at"),
        "published_at": f.time(obj.get("published_at"), "published_at"), **provenance(obj, ctx),
    }


def issue(obj: Mapping[str, Any], ctx: Context) -> Row | None:
    """An issue; None for the pull requests the issues endpoint lists too (pull_requests has them)."""
    if "pull_request" in obj:
        return None
    return {
        "repo": ctx.repo, "number": f.integer(obj, "number"), "title": f.text(obj, "title"),
        "body": f.text(obj, "body"), "author": f.login(obj, "user"), "state": f.need_text(obj, "state"),
        "labels": f.labels(obj),
        "milestone": f.text(f.nested(obj, "milestone"), "title", "milestone.title"),
        "created_at": f.need_time(obj, "created_at"), "updated_at": f.need_time(obj, "updated_at"),
        "closed_at": f.time(obj.get("closed_at"), "closed_at"), **provenance(obj, ctx),
    }


# A mapper returns the row, None for an object another table holds, or (table, row) for an object
# that belongs to another table than its resource's (an issue's event in the repository's list).
Mapper = Callable[[Mapping[str, Any], Context], Row | tuple[str, Row | None] | None]


def map_object(resource: str, obj: object, ctx: Context) -> tuple[str, Row | None]:
    """(table, row) for one API object of ``resource``; the row is None for objects another table
    holds. Raises :class:`MappingError` for an object of the wrong shape: a field missing or of the
    wrong type, an integer beyond 64 bits, nesting too deep to read."""
    table, mapper = MAPPERS[resource]
    if not isinstance(obj, Mapping):
        raise MappingError(f"not a JSON object: {type(obj).__name__}")
    try:
        mapped = mapper(obj, ctx)
    except RecursionError:
        raise MappingError("nested too deeply") from None
    row: Row | None
    if isinstance(mapped, tuple):
        table, row = mapped
    else:
        row = mapped
    if row is not None:
        for key, value in row.items():
            # Numbers from URLs and the context too: nothing the store cannot hold gets through.
            if isinstance(value, int) and not isinstance(value, bool) and value not in f.INT64:
                raise f.wrong(key, "a 64-bit integer", value)
            if isinstance(value, str):
                row[key] = utf8(value)
            elif isinstance(value, list):
                row[key] = [utf8(v) if isinstance(v, str) else v for v in value]
    return table, row


# resource -> (table, mapper): the resources leadlens reads, named as in its run summary.
MAPPERS: dict[str, tuple[str, Mapper]] = {
    "pull_requests": ("pull_requests", pull_request),
    "pr_events": ("pr_events", pr_event),
    "reviews": ("reviews", review),
    "review_comments": ("comments", review_comment),
    "issue_comments": ("comments", issue_comment),
    "pr_commits": ("pr_commits", pr_commit),
    "workflow_runs": ("builds", workflow_run),
    "jobs": ("builds", job),
    "check_runs": ("builds", check_run),
    "deployments": ("deployments", deployment),
    "deployment_statuses": ("deployment_statuses", deployment_status),
    "releases": ("releases", release),
    "issues": ("issues", issue),
    "issue_events": ("issue_events", issue_event),
    # The timeline of /issues/N, which may be a pull request's or an issue's: replay settles
    # which (replay.py) before it maps; unsettled, it is taken for a pull request's.
    "timeline": ("pr_events", pr_event),
    "sub_issues": ("issue_relations", lambda obj, ctx: relation("sub_issue", obj, ctx)),
    "blocked_by": ("issue_relations", lambda obj, ctx: relation("blocked_by", obj, ctx)),
}

# API paths (after /repos/OWNER/REPO) -> resource, tried in order; group 1 is a PR/issue number.
_ROUTES: list[tuple[re.Pattern[str], str]] = [(re.compile(p), r) for p, r in (
    (r"^/pulls/comments(?:/\d+)?$", "review_comments"),
    (r"^/pulls/(\d+)/reviews(?:/\d+)?$", "reviews"),
    (r"^/pulls/(\d+)/commits$", "pr_commits"),
    (r"^/pulls(?:/(\d+))?$", "pull_requests"),
    (r"^/issues/comments(?:/\d+)?$", "issue_comments"),
    (r"^/issues/(\d+)/comments$", "issue_comments"),
    (r"^/issues/(\d+)/(?:timeline|events)$", "timeline"),
    (r"^/issues/(\d+)/sub_issues$", "sub_issues"),
    (r"^/issues/(\d+)/dependencies/blocked_by$", "blocked_by"),
    (r"^/issues/events(?:/\d+)?$", "pr_events"),
    (r"^/issues(?:/(\d+))?$", "issues"),
    (r"^/actions/runs/\d+/jobs$", "jobs"),
    (r"^/actions/runs(?:/\d+)?$", "workflow_runs"),
    (r"^/commits/[^/]+/check-runs$", "check_runs"),
    (r"^/check-runs/\d+$", "check_runs"),
    (r"^/deployments/\d+/statuses(?:/\d+)?$", "deployment_statuses"),
    (r"^/deployments(?:/\d+)?$", "deployments"),
    (r"^/releases(?:/\d+)?$", "releases"),
)]


def route(url: str) -> tuple[str, str, int | None] | None:
    """(repository, resource, PR or issue number) for an API URL; None for URLs leadlens does
    not store (accounts, ...)."""
    m = REPO_IN_URL.search(url)
    if m is None:
        return None
    path = url[m.end():].split("?", 1)[0].split("#", 1)[0].rstrip("/")
    for pattern, resource in _ROUTES:
        hit = pattern.match(path)
        if hit:
            number = hit.group(1) if hit.groups() else None
            return f"{m.group(1)}/{m.group(2)}", resource, int(number) if number else None
    return None
