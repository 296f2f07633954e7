"""GitHub GraphQL, live runs only: what REST does not say.

- The issues a pull request closes as GitHub links them (``closingIssuesReferences``: the closing
  keywords GitHub honoured and the links people make by hand in the sidebar), stored in
  ``closing_references`` with ``how = 'graphql'``, replacing the pull request's earlier ones.
- The status changes of issues in Projects v2 (``ProjectV2ItemStatusChangedEvent``, and
  ``AddedToProjectV2Event``), stored in ``issue_events`` as ``project_v2_status_changed`` (the new
  status in ``detail``; ``previousStatus`` and ``project.title`` in ``raw``) and
  ``added_to_project_v2`` (the project's title in ``detail``).

One query per chunk of objects the REST sweep stores together (five pull requests or issues), in
that chunk's transaction, so the cursors and resumption of the REST sweep cover it. A query GitHub
answers with errors and no data (a token without ``read:project``, a GitHub Enterprise Server whose
schema lacks the field) turns that part off for the run with one warning; the REST data is stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from leadlens.errors import FatalSourceError
from leadlens.sources.base import Skipped
from leadlens.sources.github.client import GitHubAPI
from leadlens.sources.github.load import Batch
from leadlens.sources.github.mapping import raw_json, utf8
from leadlens.sources.github.rows import SOURCE, Row

__all__ = ["GraphQL", "graphql_url", "messages"]

CLOSING_FIRST = 100  # closing references read per pull request (GraphQL's largest page)
EVENTS_FIRST = 100

_ACTOR = "actor { __typename login }"
_EVENTS = (
    "timelineItems(first: %d, after: %s, itemTypes: [PROJECT_V2_ITEM_STATUS_CHANGED_EVENT,"
    " ADDED_TO_PROJECT_V2_EVENT]) { pageInfo { hasNextPage endCursor } nodes { __typename"
    " ... on ProjectV2ItemStatusChangedEvent { id createdAt " + _ACTOR + " previousStatus status"
    " project { title } } ... on AddedToProjectV2Event { id createdAt " + _ACTOR +
    " project { title } } } }")
_RATE = "rateLimit { cost remaining resetAt }"

# What the projects' token scope is called where GitHub says a field needs it.
PROJECT_SCOPE_HINT = ("Projects v2 needs the read:project scope (classic token) or read access to"
                      " the organisation's projects (fine-grained token)")


def graphql_url(api_url: str) -> str:
    """GitHub's GraphQL endpoint beside the REST API ``api_url``: ``https://api.github.com/graphql``,
    or ``https://HOST/api/graphql`` for GitHub Enterprise Server's ``https://HOST/api/v3``."""
    url = httpx.URL(api_url)
    path = url.path.rstrip("/")
    path = path[: -len("/v3")] + "/graphql" if path.endswith("/api/v3") else path + "/graphql"
    return str(url.copy_with(path=path, query=None, fragment=None))


def _time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


# Control characters (terminal escapes) in what GitHub says: shown as spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def messages(errors: list[Mapping[str, Any]]) -> str:
    """GitHub's error messages, each once, shortened and without control characters."""
    return "; ".join(sorted({_CONTROL.sub(" ", str(e.get("message") or e.get("type") or "error"))
                             [:300] for e in errors}))


@dataclass
class GraphQL:
    """The GraphQL part of one live run of one repository."""

    api: GitHubAPI
    repo: str
    warnings: list[str]  # the run summary's
    url: str = ""
    closing: bool = True  # closingIssuesReferences still asked this run
    projects: bool = True  # Projects v2 timeline events still asked this run
    points: int = 0  # rate-limit points the queries cost, as rateLimit.cost says
    remaining: int | None = None
    pulls: list[int] = field(default_factory=list)  # of the chunk being read
    issues: list[int] = field(default_factory=list)
    _warned: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.url:
            self.url = graphql_url(str(self.api.client.base_url))

    def query(self, text: str, variables: Mapping[str, Any], *,
              shrinkable: bool = False) -> tuple[Any, list[Mapping[str, Any]]]:
        """``data`` (None when GitHub gave none) and the errors of one query; a ``RATE_LIMITED``
        answer (GraphQL's primary limit comes with status 200) waits for the reset and asks again.
        ``shrinkable``: a 5xx raises ``ServerTimeout`` (the caller asks less) instead of a retry.
        A recording run (``--record``) records each answer with data: the query, its variables
        and the repository as input."""
        attempt = 0
        while True:
            resp, body = self.api.post(self.url, {"query": text, "variables": dict(variables)},
                                       shrinkable=shrinkable)
            body = body if isinstance(body, Mapping) else {}
            raw_errors = body.get("errors")
            errors = [e for e in raw_errors if isinstance(e, Mapping)] \
                if isinstance(raw_errors, list) else []
            if any(e.get("type") == "RATE_LIMITED" for e in errors):
                attempt += 1
                self.api.wait_for_limit(resp, attempt, "graphql")
                continue
            data = body.get("data")
            data = data if isinstance(data, Mapping) else None
            if data is not None and self.api.recorder is not None:
                self.api.recorder(self.url, {"repo": self.repo, "query": text,
                                             "variables": dict(variables)}, data)
            rate = data.get("rateLimit") if data else None
            if isinstance(rate, Mapping):
                cost, remaining = rate.get("cost"), rate.get("remaining")
                self.points += cost if isinstance(cost, int) else 0
                self.remaining = remaining if isinstance(remaining, int) else self.remaining
            return data, errors

    def warn(self, kind: str, message: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            self.warnings.append(f"{self.repo}: {message}")

    def flush(self, batch: Batch) -> None:
        """Read what GraphQL adds for the chunk's pull requests and issues into ``batch``."""
        pulls, issues = self.pulls, self.issues
        self.pulls, self.issues = [], []
        if pulls and self.closing:
            self._closing(pulls, batch)
        if issues and self.projects:
            self._project_events(issues, batch)

    def _repository(self, fields: str) -> tuple[Any, list[Mapping[str, Any]]]:
        owner, name = self.repo.split("/", 1)
        text = ("query($owner: String!, $name: String!) { " + _RATE +
                " repository(owner: $owner, name: $name) { " + fields + " } }")
        data, errors = self.query(text, {"owner": owner, "name": name})
        repository = data.get("repository") if data else None
        return (repository if isinstance(repository, Mapping) else None), errors

    def _closing(self, numbers: list[int], batch: Batch) -> None:
        fields = " ".join(
            f"p{n}: pullRequest(number: {n}) {{ closingIssuesReferences(first: {CLOSING_FIRST})"
            " { totalCount nodes { number repository { nameWithOwner } } } }" for n in numbers)
        try:
            repository, errors = self._repository(fields)
        except FatalSourceError as exc:
            self.closing = False
            self.warn("closing", f"closing references not read through GraphQL: {exc}")
            return
        if repository is None:
            self.closing = False
            self.warn("closing", "closing references not read through GraphQL (GitHub answered: "
                      f"{messages(errors) or 'no data'}); the closing keywords of bodies are"
                      " still read")
            return
        if errors:
            self.warn("closing-partial", "some closing references not read through GraphQL: "
                      + messages(errors))
        fetched = datetime.now(UTC)
        for n in numbers:
            pr = repository.get(f"p{n}")
            refs = pr.get("closingIssuesReferences") if isinstance(pr, Mapping) else None
            if not isinstance(refs, Mapping) or not isinstance(refs.get("nodes"), list):
                continue  # not answered (an error names it): the stored rows stay
            batch.replace("closing_references", repo=self.repo, number=n, how="graphql")
            total = refs.get("totalCount")
            if isinstance(total, int) and total > len(refs["nodes"]):
                self.warn(f"closing-many-{n}", f"pull request #{n} closes {total} issues; the"
                          f" first {len(refs['nodes'])} are stored")
            for node in refs["nodes"]:
                number = node.get("number") if isinstance(node, Mapping) else None
                repo = node.get("repository") if isinstance(node, Mapping) else None
                repo = repo.get("nameWithOwner") if isinstance(repo, Mapping) else None
                if not isinstance(number, int) or isinstance(number, bool) \
                        or not isinstance(repo, str) or "/" not in repo:
                    self._skip(batch, "closing_references", node, "no issue number or repository")
                    continue
                batch.put("closing_references", {
                    "repo": self.repo, "number": n, "issue_repo": utf8(repo), "issue_number": number,
                    "how": "graphql", "keyword": None, "fetched_at": fetched})

    def _project_events(self, numbers: list[int], batch: Batch) -> None:
        fields = " ".join(f"i{n}: issue(number: {n}) {{ {_EVENTS % (EVENTS_FIRST, 'null')} }}"
                          for n in numbers)
        try:
            repository, errors = self._repository(fields)
        except FatalSourceError as exc:
            self._no_projects(str(exc))
            return
        if repository is None:
            self._no_projects(messages(errors) or "no data")
            return
        if errors:
            self.warn("projects-partial", "some Projects v2 status changes not read: "
                      f"{messages(errors)} ({PROJECT_SCOPE_HINT})")
        for n in numbers:
            issue = repository.get(f"i{n}")
            while isinstance(issue, Mapping):
                items = issue.get("timelineItems")
                if not isinstance(items, Mapping):
                    break
                for node in items.get("nodes") or []:
                    self._event(batch, n, node)
                page = items.get("pageInfo")
                after = page.get("endCursor") if isinstance(page, Mapping) \
                    and page.get("hasNextPage") is True else None
                if not isinstance(after, str):
                    break
                issue, _ = self._repository(
                    f"i{n}: issue(number: {n}) {{ {_EVENTS % (EVENTS_FIRST, json.dumps(after))} }}")
                issue = issue.get(f"i{n}") if isinstance(issue, Mapping) else None

    def _no_projects(self, why: str) -> None:
        self.projects = False
        self.warn("projects", f"Projects v2 status history not read ({why}): {PROJECT_SCOPE_HINT};"
                  " GitHub Enterprise Server before Projects v2 timeline events has none")

    def _event(self, batch: Batch, number: int, node: object) -> None:
        if not isinstance(node, Mapping) or not node:
            return  # a timeline item of another type (not asked for)
        kind = node.get("__typename")
        ident, at = node.get("id"), _time(node.get("createdAt"))
        if not isinstance(ident, str) or at is None:
            self._skip(batch, "issue_events", node, "no id or createdAt")
            return
        project = node.get("project")
        title = project.get("title") if isinstance(project, Mapping) else None
        if kind == "ProjectV2ItemStatusChangedEvent":
            event, status = "project_v2_status_changed", node.get("status")
            detail = utf8(status) if isinstance(status, str) and status else None  # "": none
        elif kind == "AddedToProjectV2Event":
            event, detail = "added_to_project_v2", utf8(title) if isinstance(title, str) else None
        else:
            return
        actor = node.get("actor")
        login = actor.get("login") if isinstance(actor, Mapping) else None
        typename = actor.get("__typename") if isinstance(actor, Mapping) else None
        row: Row = {
            "repo": self.repo, "number": number, "id": ident, "event": event,
            "actor": utf8(login) if isinstance(login, str) else None,
            "actor_is_bot": None if not isinstance(typename, str) else typename == "Bot",
            "at": at, "commit_id": None, "detail": detail, "source_repo": None,
            "source_number": None, "source_is_pr": None, "source": SOURCE,
            "fetched_at": datetime.now(UTC), "raw": raw_json(node)}
        batch.put("issue_events", row)

    def _skip(self, batch: Batch, resource: str, node: object, reason: str) -> None:
        batch.skipped.append((Skipped(resource, self.url, reason), raw_json(node)))
