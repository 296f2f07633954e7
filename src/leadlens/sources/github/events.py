"""Pure mapping of the GitHub objects that make issues work items: timeline events of pull
requests and of issues, the issues a pull request closes, sub-issues and dependencies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from leadlens.conventions import closing_references
from leadlens.sources.github import fields as f
from leadlens.sources.github.fields import MappingError
from leadlens.sources.github.rows import Context, Row, is_bot, provenance, repo_in

__all__ = ["ISSUE_ELSEWHERE", "RELATIONS", "TIMELINE_ELSEWHERE", "closing_rows", "issue_event",
           "pr_event", "relation"]

# Timeline entries whose facts other tables hold already (pr_commits, reviews, comments), and
# cross-references, which are about other issues and carry no id of their own.
TIMELINE_ELSEWHERE = frozenset(
    {"committed", "reviewed", "commented", "line-commented", "commit-commented", "cross-referenced"})
# On an issue's timeline, the comments are in `comments`; a cross-reference is what links the
# issue to the pull requests that mention it, so it stays.
ISSUE_ELSEWHERE = TIMELINE_ELSEWHERE - {"cross-referenced"}

# The relation endpoints (after /repos/OWNER/REPO/issues/N/) and what issue_relations calls them.
RELATIONS: dict[str, str] = {"sub_issues": "sub_issue", "dependencies/blocked_by": "blocked_by"}

_WEB_ISSUE = re.compile(r"^https://[^/]+/([^/?#]+)/([^/?#]+)/(?:issues|pull)/\d+")


def _event_detail(obj: Mapping[str, Any]) -> str | None:
    for key, inner in (("requested_reviewer", "login"), ("requested_team", "name"),
                       ("label", "name"), ("assignee", "login"), ("rename", "to")):
        value = obj.get(key)
        if isinstance(value, dict) and value.get(inner) is not None:
            return str(value[inner])
    commit = obj.get("commit_id")
    return str(commit) if commit else None


def _ident(obj: Mapping[str, Any]) -> str | None:
    ident: int | str | None = f.opt_integer(obj, "id")
    if ident is None:
        ident = f.text(obj, "node_id")
    return None if ident is None else str(ident)


def pr_event(obj: Mapping[str, Any], ctx: Context) -> Row | tuple[str, Row | None] | None:
    """A timeline or issue event of a pull request; None for entries other tables hold. An event
    of the repository-wide list whose issue is not a pull request is an issue event."""
    event = f.need_text(obj, "event")
    issue = obj.get("issue")
    if isinstance(issue, dict) and "pull_request" not in issue:
        return "issue_events", issue_event(obj, ctx)
    if event in TIMELINE_ELSEWHERE:
        return None
    number = f.integer(issue, "number") if isinstance(issue, dict) else ctx.number
    if number is None:
        raise MappingError("no pull request number")
    ident = _ident(obj)
    if ident is None:
        raise MappingError("missing field 'id'")
    return {
        "repo": ctx.repo, "number": number, "id": ident, "event": event,
        "actor": f.login(obj, "actor"), "actor_is_bot": is_bot(obj.get("actor")),
        "at": f.need_time(obj, "created_at"), "detail": _event_detail(obj),
        **provenance(obj, ctx, url=False),
    }


def _repo_of(issue: Mapping[str, Any]) -> str | None:
    """The repository of an embedded issue or pull request: its API ``repository_url``, else its
    web ``html_url``, else its ``repository.full_name``."""
    url = f.text(issue, "repository_url", "source.issue.repository_url")
    if url and (repo := repo_in(url)):
        return repo
    web = f.text(issue, "html_url", "source.issue.html_url")
    m = _WEB_ISSUE.match(web) if web else None
    if m:
        return f"{m.group(1)}/{m.group(2)}"
    return f.text(f.nested(issue, "repository"), "full_name", "source.issue.repository.full_name")


def issue_event(obj: Mapping[str, Any], ctx: Context) -> Row | None:
    """An event of an issue that is not a pull request (its timeline, or the repository-wide
    events list, which embeds the issue); None for comments, which ``comments`` holds."""
    event = f.need_text(obj, "event")
    if event in ISSUE_ELSEWHERE:
        return None
    issue = obj.get("issue")
    number = f.integer(issue, "number") if isinstance(issue, dict) else ctx.number
    if number is None:
        raise MappingError("no issue number")
    at = f.need_time(obj, "created_at")
    source_repo: str | None = None
    source_number: int | None = None
    source_is_pr: bool | None = None
    source = f.nested(f.nested(obj, "source"), "issue")
    if source:
        source_repo, source_number = _repo_of(source), f.opt_integer(source, "number")
        source_is_pr = "pull_request" in source
    ident = _ident(obj)
    if ident is None:
        if event != "cross-referenced" or source_repo is None or source_number is None:
            raise MappingError("missing field 'id'")
        # Cross-references have no id: the referencing issue and the time name one.
        ident = f"{event}:{source_repo}#{source_number}@{at.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    detail = None
    for key, inner in (("label", "name"), ("assignee", "login"), ("rename", "to"),
                       ("milestone", "title"), ("project_card", "column_name")):
        value = obj.get(key)
        if isinstance(value, dict) and isinstance(value.get(inner), str):
            detail = value[inner]
            break
    return {
        "repo": ctx.repo, "number": number, "id": ident, "event": event,
        "actor": f.login(obj, "actor"), "actor_is_bot": is_bot(obj.get("actor")), "at": at,
        "commit_id": f.text(obj, "commit_id"), "detail": detail, "source_repo": source_repo,
        "source_number": source_number, "source_is_pr": source_is_pr,
        **provenance(obj, ctx, url=False),
    }


def relation(kind: str, obj: Mapping[str, Any], ctx: Context) -> Row:
    """A sub-issue (``kind`` ``sub_issue``: ``obj`` is the child) or a ``blocked_by`` dependency
    (``obj`` is the blocking issue) of the issue ``ctx.number``."""
    if ctx.number is None:
        raise MappingError("no issue number in the URL")
    other = _repo_of(obj)
    if other is None:
        raise MappingError("missing field 'repository_url'")
    return {"repo": ctx.repo, "number": ctx.number, "relation": kind, "other_repo": other,
            "other_number": f.integer(obj, "number"), "fetched_at": ctx.fetched_at}


def closing_rows(pr: Row, obj: Mapping[str, Any], ctx: Context) -> list[Row]:
    """The issues the pull request ``pr`` (its mapped row; ``obj`` the payload) closes by the
    keywords of its body. GitHub acts on them only when the base is the default branch: a payload
    that names both and they differ closes nothing; one that does not name the default branch
    keeps them, for the derive step to check the base against the mainline."""
    base = obj.get("base")
    base_repo = base.get("repo") if isinstance(base, Mapping) else None
    default = base_repo.get("default_branch") if isinstance(base_repo, Mapping) else None
    if not isinstance(default, str):
        default = None
    if default is not None and pr["base_ref"] is not None and pr["base_ref"] != default:
        return []
    return [{"repo": ctx.repo, "number": pr["number"], "issue_repo": ref.repo,
             "issue_number": ref.number, "how": "body_keyword", "keyword": ref.keyword,
             "fetched_at": ctx.fetched_at}
            for ref in closing_references(pr["body"], ctx.repo)]
