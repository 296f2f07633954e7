"""Pure mapping of GitHub REST objects to store rows; the same code serves live and replayed data."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from leadlens.conventions import BotRule

__all__ = [
    "KEYS", "MAPPERS", "SOURCE", "Context", "MappingError", "Row", "is_bot", "number_in", "repo_in",
    "route",
]

Row = dict[str, Any]
SOURCE = "github"

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
}

# Timeline entries whose facts other tables hold already (pr_commits, reviews, comments), and
# cross-references, which are about other issues and carry no id of their own.
TIMELINE_ELSEWHERE = frozenset(
    {"committed", "reviewed", "commented", "line-commented", "commit-commented", "cross-referenced"})

_REPO_IN_URL = re.compile(r"/repos/([^/?#]+)/([^/?#]+)")
_NUMBER_IN_URL = re.compile(r"/(?:pulls|issues)/(\d+)(?:[/?#]|$)")
_DEPLOYMENT_IN_URL = re.compile(r"/deployments/(\d+)(?:[/?#]|$)")


class MappingError(ValueError):
    """An object lacks a field the mapping needs, or has one of the wrong type."""


def is_bot(bots: BotRule, user: object) -> bool | None:
    """Whether an API account is an automation bot (its ``type: Bot`` counts); None without one."""
    if not isinstance(user, dict) or not isinstance(user.get("login"), str):
        return None
    return bots.matches(user["login"], flagged=user.get("type") == "Bot")


@dataclass(frozen=True)
class Context:
    """Where an object came from: its repository, the API URL, when it was fetched."""

    repo: str
    url: str | None
    fetched_at: datetime
    bots: BotRule
    number: int | None = None  # the pull request or issue the URL is about, when it says


def repo_in(url: str) -> str | None:
    """``OWNER/REPO`` from an API URL ``.../repos/OWNER/REPO/...``."""
    m = _REPO_IN_URL.search(url)
    return f"{m.group(1)}/{m.group(2)}" if m else None


def number_in(url: str | None) -> int | None:
    m = _NUMBER_IN_URL.search(url) if url else None
    return int(m.group(1)) if m else None


def _need(obj: Mapping[str, Any], key: str) -> Any:
    value = obj.get(key)
    if value is None:
        raise MappingError(f"missing field {key!r}")
    return value


def _int(obj: Mapping[str, Any], key: str) -> int:
    value = _need(obj, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MappingError(f"field {key!r} is not an integer: {value!r}")
    return value


def _time(value: object, key: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MappingError(f"field {key!r} is not a time: {value!r}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise MappingError(f"field {key!r} is not a time: {value!r}") from None
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def _need_time(obj: Mapping[str, Any], key: str) -> datetime:
    at = _time(_need(obj, key), key)
    assert at is not None
    return at


def _login(user: object) -> str | None:
    return user.get("login") if isinstance(user, dict) else None


def _labels(obj: Mapping[str, Any]) -> list[str]:
    return [label["name"] for label in obj.get("labels") or [] if isinstance(label, dict)
            and isinstance(label.get("name"), str)]


def _provenance(obj: Mapping[str, Any], ctx: Context, *, url: bool = True, raw: bool = True) -> Row:
    row: Row = {"source": SOURCE, "fetched_at": ctx.fetched_at}
    if url:
        row["url"] = obj.get("url") or ctx.url
    if raw:
        row["raw"] = json.dumps(obj, separators=(",", ":"))
    return row


def pull_request(obj: Mapping[str, Any], ctx: Context) -> Row:
    base, head = obj.get("base") or {}, obj.get("head") or {}
    return {
        "repo": ctx.repo, "number": _int(obj, "number"), "node_id": obj.get("node_id"),
        "title": obj.get("title"), "body": obj.get("body"), "author": _login(obj.get("user")),
        "author_is_bot": is_bot(ctx.bots, obj.get("user")), "state": _need(obj, "state"),
        "draft": obj.get("draft"), "created_at": _need_time(obj, "created_at"),
        "updated_at": _need_time(obj, "updated_at"), "closed_at": _time(obj.get("closed_at"), "closed_at"),
        "merged_at": _time(obj.get("merged_at"), "merged_at"),
        "merge_commit_sha": obj.get("merge_commit_sha"),
        "base_ref": base.get("ref"), "head_ref": head.get("ref"), "head_sha": head.get("sha"),
        "labels": _labels(obj),
        # Only the single-PR endpoint says these; the list endpoint leaves them out (NULL).
        "additions": obj.get("additions"), "deletions": obj.get("deletions"),
        "changed_files": obj.get("changed_files"), "commits": obj.get("commits"),
        **_provenance(obj, ctx),
    }


def review(obj: Mapping[str, Any], ctx: Context) -> Row:
    number = number_in(obj.get("pull_request_url")) or ctx.number
    if number is None:
        raise MappingError("no pull request number (pull_request_url missing)")
    return {
        "repo": ctx.repo, "number": number, "id": _int(obj, "id"),
        "reviewer": _login(obj.get("user")), "reviewer_is_bot": is_bot(ctx.bots, obj.get("user")),
        "state": _need(obj, "state"), "submitted_at": _time(obj.get("submitted_at"), "submitted_at"),
        "commit_id": obj.get("commit_id"), "body": obj.get("body"),
        **_provenance(obj, ctx, url=False), "url": ctx.url,
    }


def _comment(obj: Mapping[str, Any], ctx: Context, kind: str, number: int | None) -> Row:
    return {
        "repo": ctx.repo, "kind": kind, "id": _int(obj, "id"), "number": number,
        "author": _login(obj.get("user")), "author_is_bot": is_bot(ctx.bots, obj.get("user")),
        "created_at": _need_time(obj, "created_at"),
        "updated_at": _time(obj.get("updated_at"), "updated_at"), "body": obj.get("body"),
        **_provenance(obj, ctx),
    }


def review_comment(obj: Mapping[str, Any], ctx: Context) -> Row:
    return _comment(obj, ctx, "review", number_in(obj.get("pull_request_url")) or ctx.number)


def issue_comment(obj: Mapping[str, Any], ctx: Context) -> Row:
    return _comment(obj, ctx, "issue", number_in(obj.get("issue_url")) or ctx.number)


def pr_commit(obj: Mapping[str, Any], ctx: Context) -> Row:
    if ctx.number is None:
        raise MappingError("no pull request number in the URL")
    commit = obj.get("commit") or {}
    author, committer = commit.get("author") or {}, commit.get("committer") or {}
    return {
        "repo": ctx.repo, "number": ctx.number, "sha": _need(obj, "sha"),
        "author_name": author.get("name"), "author_login": _login(obj.get("author")),
        "author_time": _time(author.get("date"), "commit.author.date"),
        "committer_time": _time(committer.get("date"), "commit.committer.date"),
        "message": commit.get("message"), "source": SOURCE, "fetched_at": ctx.fetched_at,
    }


def _event_detail(obj: Mapping[str, Any]) -> str | None:
    for key, inner in (("requested_reviewer", "login"), ("requested_team", "name"),
                       ("label", "name"), ("assignee", "login"), ("rename", "to")):
        value = obj.get(key)
        if isinstance(value, dict) and value.get(inner) is not None:
            return str(value[inner])
    commit = obj.get("commit_id")
    return str(commit) if commit else None


def pr_event(obj: Mapping[str, Any], ctx: Context) -> Row | None:
    """A timeline or issue event of a pull request; None for entries other tables hold and for
    events of issues that are not pull requests."""
    event = _need(obj, "event")
    if event in TIMELINE_ELSEWHERE:
        return None
    issue = obj.get("issue")
    if isinstance(issue, dict):  # the repository-wide issue events list embeds its issue
        if "pull_request" not in issue:
            return None
        number: int | None = _int(issue, "number")
    else:
        number = ctx.number
    if number is None:
        raise MappingError("no pull request number")
    ident = obj.get("id") if obj.get("id") is not None else obj.get("node_id")
    if ident is None:
        raise MappingError("missing field 'id'")
    return {
        "repo": ctx.repo, "number": number, "id": str(ident), "event": event,
        "actor": _login(obj.get("actor")), "actor_is_bot": is_bot(ctx.bots, obj.get("actor")),
        "at": _need_time(obj, "created_at"), "detail": _event_detail(obj),
        **_provenance(obj, ctx, url=False),
    }


def _build(obj: Mapping[str, Any], ctx: Context, kind: str, **times: datetime | None) -> Row:
    return {
        "repo": ctx.repo, "kind": kind, "id": _int(obj, "id"), "name": obj.get("name"),
        "head_sha": obj.get("head_sha"), "head_branch": obj.get("head_branch"),
        "event": obj.get("event"), "status": obj.get("status"), "conclusion": obj.get("conclusion"),
        **times, **_provenance(obj, ctx),
    }


def workflow_run(obj: Mapping[str, Any], ctx: Context) -> Row:
    # Runs have no completion time of their own; a completed run's last update is its end.
    done = obj.get("status") == "completed"
    return _build(obj, ctx, "workflow_run", created_at=_time(obj.get("created_at"), "created_at"),
                  started_at=_time(obj.get("run_started_at"), "run_started_at"),
                  completed_at=_time(obj.get("updated_at"), "updated_at") if done else None)


def _check(obj: Mapping[str, Any], ctx: Context, kind: str) -> Row:
    row = _build(obj, ctx, kind, created_at=_time(obj.get("created_at"), "created_at"),
                 started_at=_time(obj.get("started_at"), "started_at"),
                 completed_at=_time(obj.get("completed_at"), "completed_at"))
    suite = obj.get("check_suite")
    if row["head_branch"] is None and isinstance(suite, dict):
        row["head_branch"] = suite.get("head_branch")
    return row


def job(obj: Mapping[str, Any], ctx: Context) -> Row:
    return _check(obj, ctx, "job")


def check_run(obj: Mapping[str, Any], ctx: Context) -> Row:
    return _check(obj, ctx, "check_run")


def deployment(obj: Mapping[str, Any], ctx: Context) -> Row:
    return {
        "repo": ctx.repo, "id": _int(obj, "id"), "sha": _need(obj, "sha"), "ref": obj.get("ref"),
        "environment": obj.get("environment"), "creator": _login(obj.get("creator")),
        "created_at": _need_time(obj, "created_at"),
        "updated_at": _time(obj.get("updated_at"), "updated_at"), **_provenance(obj, ctx),
    }


def deployment_status(obj: Mapping[str, Any], ctx: Context) -> Row:
    m = _DEPLOYMENT_IN_URL.search(obj.get("deployment_url") or ctx.url or "")
    if m is None:
        raise MappingError("no deployment id (deployment_url missing)")
    return {
        "repo": ctx.repo, "deployment_id": int(m.group(1)), "id": _int(obj, "id"),
        "state": _need(obj, "state"), "environment": obj.get("environment"),
        "created_at": _need_time(obj, "created_at"), **_provenance(obj, ctx),
    }


def release(obj: Mapping[str, Any], ctx: Context) -> Row:
    return {
        "repo": ctx.repo, "id": _int(obj, "id"), "tag_name": _need(obj, "tag_name"),
        "name": obj.get("name"), "target_commitish": obj.get("target_commitish"),
        "draft": bool(_need(obj, "draft")), "prerelease": bool(_need(obj, "prerelease")),
        "created_at": _time(obj.get("created_at"), "created_at"),
        "published_at": _time(obj.get("published_at"), "published_at"), **_provenance(obj, ctx),
    }


def issue(obj: Mapping[str, Any], ctx: Context) -> Row | None:
    """An issue; None for the pull requests the issues endpoint lists too (pull_requests has them)."""
    if "pull_request" in obj:
        return None
    return {
        "repo": ctx.repo, "number": _int(obj, "number"), "title": obj.get("title"),
        "body": obj.get("body"), "author": _login(obj.get("user")), "state": _need(obj, "state"),
        "labels": _labels(obj), "created_at": _need_time(obj, "created_at"),
        "updated_at": _need_time(obj, "updated_at"),
        "closed_at": _time(obj.get("closed_at"), "closed_at"), **_provenance(obj, ctx),
    }


Mapper = Callable[[Mapping[str, Any], Context], Row | None]

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
}

# API paths (after /repos/OWNER/REPO) -> resource, tried in order; group 1 is a PR/issue number.
_ROUTES: list[tuple[re.Pattern[str], str]] = [(re.compile(p), r) for p, r in (
    (r"^/pulls/comments(?:/\d+)?$", "review_comments"),
    (r"^/pulls/(\d+)/reviews(?:/\d+)?$", "reviews"),
    (r"^/pulls/(\d+)/commits$", "pr_commits"),
    (r"^/pulls(?:/(\d+))?$", "pull_requests"),
    (r"^/issues/comments(?:/\d+)?$", "issue_comments"),
    (r"^/issues/(\d+)/comments$", "issue_comments"),
    (r"^/issues/(\d+)/(?:timeline|events)$", "pr_events"),
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
    m = _REPO_IN_URL.search(url)
    if m is None:
        return None
    path = url[m.end():].split("?", 1)[0].split("#", 1)[0].rstrip("/")
    for pattern, resource in _ROUTES:
        hit = pattern.match(path)
        if hit:
            number = hit.group(1) if hit.groups() else None
            return f"{m.group(1)}/{m.group(2)}", resource, int(number) if number else None
    return None
