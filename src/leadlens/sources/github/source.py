"""Incremental GitHub sync: per repository and resource a cursor, moved only with the page it covers.

Two ways to page, as the endpoints allow:

- *since* (issues, review comments, issue comments): ``sort=updated&direction=asc&since=`` with the
  cursor minus the overlap window; each page's transaction moves the cursor to the newest
  ``updated_at`` it stored, so an interrupted run resumes after its last stored page.
- *sweep* (pull requests by ``updated_at``; workflow runs, deployments and releases by
  ``created_at``): these lists have no ``since``, so they are read newest first until an object
  older than the cursor minus the overlap. Each page's transaction stores the next page's URL and
  the newest time seen; the cursor itself moves only when the sweep ends. Objects that change
  during a sweep only move up the list, so resuming from a stored page URL skips nothing.

Rows are upserted by key, so the overlap window and repeated pages never duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from leadlens.config import GithubSettings
from leadlens.errors import FatalSourceError, TransientSourceError, UserError
from leadlens.sources.base import QUIET, Progress, RunSummary
from leadlens.sources.github.client import GitHubAPI, NotFoundError, RequestBudgetSpent
from leadlens.sources.github.events import RELATIONS
from leadlens.sources.github.gql_pulls import PullSweep
from leadlens.sources.github.graphql import GraphQL
from leadlens.sources.github.load import Batch, write_batch
from leadlens.sources.github.mapping import SOURCE, Context
from leadlens.store import Store
from leadlens.store.queries import stored_issue_updated
from leadlens.store.writer import load_cursor, save_cursor, transaction

__all__ = ["API_MODES", "RESOURCES", "check_repo_name", "sync_repo"]

API_MODES = ("graphql", "rest")

_DEFAULT_OVERLAP = GithubSettings().overlap

PER_PAGE = 100
CHILDREN_CHUNK = 5
_REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


Children = Callable[["_Sync", Mapping[str, Any], Batch], None]


@dataclass(frozen=True)
class Resource:
    name: str           # the cursor's resource in sync_state and the mapper's resource
    path: str           # after repos/OWNER/REPO/
    params: tuple[tuple[str, str], ...]
    sweep: bool         # newest first until older than the cursor (no `since` on the endpoint)
    time_field: str
    items_key: str | None = None  # list pages that wrap their items in an object
    children: Children | None = None


def _items(data: Any, key: str | None) -> list[Any]:
    found = data.get(key) if key and isinstance(data, dict) else data
    if not isinstance(found, list):
        raise FatalSourceError(f"GitHub returned {type(data).__name__} where a list was expected")
    return found


def _pr_children(sync: _Sync, pr: Mapping[str, Any], batch: Batch) -> None:
    """Per pull request: its detail (size), reviews, commits, timeline and head check runs."""
    api, repo, ctx_for = sync.api, sync.repo, sync.ctx_for
    number = pr.get("number")
    if not isinstance(number, int):
        return  # the list row is skipped with its reason already
    base = f"repos/{repo}"
    detail = api.get(f"{base}/pulls/{number}")
    batch.add("pull_requests", detail.data, ctx_for(detail.url))
    for resource, path in (("reviews", "reviews"), ("pr_commits", "commits")):
        for page in api.pages(f"{base}/pulls/{number}/{path}", {"per_page": PER_PAGE}):
            for obj in _items(page.data, None):
                batch.add(resource, obj, _with_number(ctx_for(page.url), number))
    for page in api.pages(f"{base}/issues/{number}/timeline", {"per_page": PER_PAGE}):
        for obj in _items(page.data, None):
            batch.add("pr_events", obj, _with_number(ctx_for(page.url), number))
    if sync.gql is not None:
        sync.gql.pulls.append(number)
    head = pr.get("head")
    head = head.get("sha") if isinstance(head, Mapping) else None
    if isinstance(head, str) and head:
        for page in api.pages(f"{base}/commits/{head}/check-runs", {"per_page": PER_PAGE}):
            for obj in _items(page.data, "check_runs"):
                batch.add("check_runs", obj, ctx_for(page.url))


def _deployment_children(sync: _Sync, dep: Mapping[str, Any], batch: Batch) -> None:
    if not isinstance(dep.get("id"), int):
        return
    for page in sync.api.pages(f"repos/{sync.repo}/deployments/{dep['id']}/statuses",
                               {"per_page": PER_PAGE}):
        for obj in _items(page.data, None):
            batch.add("deployment_statuses", obj, sync.ctx_for(page.url))


# Per relation: the issue's own count of them (github.com's issue objects carry one; others may not).
_SUMMARIES = {"sub_issue": ("sub_issues_summary", "total"),
              "blocked_by": ("issue_dependencies_summary", "total_blocked_by")}


def _issue_children(sync: _Sync, issue: Mapping[str, Any], batch: Batch) -> None:
    """Per issue that is not a pull request and changed since the store's copy: its timeline,
    sub-issues and blocked_by dependencies. A copy stored with the same ``updated_at`` was stored
    with its children (in one transaction), so an overlap window re-reads no timeline."""
    number = issue.get("number")
    if not isinstance(number, int) or "pull_request" in issue:
        return
    if sync.stored_as(number, issue.get("updated_at")):
        return
    if sync.gql is not None:
        sync.gql.issues.append(number)
    base = f"repos/{sync.repo}/issues/{number}"
    for page in sync.api.pages(f"{base}/timeline", {"per_page": PER_PAGE}):
        for obj in _items(page.data, None):
            batch.add("issue_events", obj, _with_number(sync.ctx_for(page.url), number))
    for path, relation in RELATIONS.items():
        _relations(sync, issue, number, path, relation, batch)


def _relations(sync: _Sync, issue: Mapping[str, Any], number: int, path: str, relation: str,
               batch: Batch) -> None:
    """The issue's sub-issues or blocked_by dependencies, read in full (they replace the stored
    ones). Asked only where the issue's own count says there are some; where it gives none
    (GitHub Enterprise Server, say), the first issue of the run probes the endpoint, and a 404 or
    410 (not served) means none, for every issue of the run."""
    if sync.relations.get(path) is False:
        return
    summary_key, count_key = _SUMMARIES[relation]
    summary = issue.get(summary_key)
    count = summary.get(count_key) if isinstance(summary, Mapping) else None
    if isinstance(count, int) and not isinstance(count, bool) and count == 0:
        batch.replace("issue_relations", repo=sync.repo, number=number, relation=relation)
        return
    resource = "sub_issues" if relation == "sub_issue" else relation
    try:
        for page in sync.api.pages(f"repos/{sync.repo}/issues/{number}/{path}",
                                   {"per_page": PER_PAGE}):
            for obj in _items(page.data, None):
                batch.add(resource, obj, _with_number(sync.ctx_for(page.url), number))
    except NotFoundError:
        sync.relations[path] = False
        return
    sync.relations[path] = True
    batch.replace("issue_relations", repo=sync.repo, number=number, relation=relation)


def _with_number(ctx: Context, number: int) -> Context:
    return Context(ctx.repo, ctx.url, ctx.fetched_at, number)


RESOURCES: tuple[Resource, ...] = (
    Resource("pull_requests", "pulls", (("state", "all"), ("sort", "updated"), ("direction", "desc")),
             sweep=True, time_field="updated_at", children=_pr_children),
    Resource("review_comments", "pulls/comments", (("sort", "updated"), ("direction", "asc")),
             sweep=False, time_field="updated_at"),
    Resource("issue_comments", "issues/comments", (("sort", "updated"), ("direction", "asc")),
             sweep=False, time_field="updated_at"),
    Resource("issues", "issues", (("state", "all"), ("sort", "updated"), ("direction", "asc")),
             sweep=False, time_field="updated_at", children=_issue_children),
    Resource("workflow_runs", "actions/runs", (), sweep=True, time_field="created_at",
             items_key="workflow_runs"),
    Resource("deployments", "deployments", (), sweep=True, time_field="created_at",
             children=_deployment_children),
    Resource("releases", "releases", (), sweep=True, time_field="created_at"),
)


def check_repo_name(repo: str) -> str:
    if not _REPO_NAME.match(repo):
        raise UserError(f"not a repository name: {repo!r} (use OWNER/REPO)")
    return repo


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        at = datetime.fromisoformat(text)
        return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # OverflowError: year 9999 west of UTC, say
        return None


def _newest(objs: Iterable[Any], key: str) -> datetime | None:
    times = [t for t in (_parse(o.get(key)) for o in objs if isinstance(o, dict)) if t]
    return max(times) if times else None


def _later(a: str | None, b: datetime | None) -> str | None:
    if b is None:
        return a
    return _iso(b) if a is None or (_parse(a) or b) < b else a


@dataclass
class _Sync:
    store: Store
    api: GitHubAPI
    repo: str
    overlap: timedelta
    summary: RunSummary
    progress: Progress
    # Per relation endpoint: whether this run found it served (absent: not asked yet).
    relations: dict[str, bool] = field(default_factory=dict)
    gql: GraphQL | None = None  # what GraphQL adds to the REST objects (live runs)
    since: datetime | None = None  # --since: where a first collection starts

    def ctx_for(self, url: str) -> Context:
        return Context(self.repo, url, datetime.now(UTC))

    def stored_as(self, number: int, updated_at: object) -> bool:
        """The store holds issue ``number`` as last updated at ``updated_at``."""
        at = _parse(updated_at)
        return at is not None and stored_issue_updated(self.store, self.repo, number) == at

    def commit(self, resource: Resource, batch: Batch, cursor: dict[str, Any]) -> None:
        self.commit_cursor(resource.name, batch, cursor)

    def commit_cursor(self, name: str, batch: Batch, cursor: dict[str, Any],
                      note: str | None = None) -> None:
        """Store ``batch`` and the cursor of resource ``name`` in one transaction; say how far
        the run is (``note``: the GraphQL sweep's count and estimate)."""
        with transaction(self.store.con) as con:
            write_batch(self.store, batch)
            save_cursor(con, self.repo, SOURCE, name, cursor)
        batch.report_to(self.summary)
        stored = ", ".join(f"{n:,} {r}" for r, n in sorted(self.summary.stored.items()))
        points = f" ({self.gql.points:,} GraphQL points)" if self.gql and self.gql.points else ""
        self.progress.update(f"{self.repo}: {note + '; ' if note else ''}{stored or 'nothing new'}"
                             f"; {self.api.requests:,} requests{points}")

    def pages(self, resource: Resource, cursor: Mapping[str, Any], params: dict[str, Any],
              etag: str | None) -> Iterator[Any]:
        first = cursor.get("sweep", {}).get("next") if resource.sweep else None
        if first:
            return self.api.pages(first)
        return self.api.pages(f"repos/{self.repo}/{resource.path}",
                              {**dict(resource.params), **params, "per_page": PER_PAGE}, etag)

    def run(self, resource: Resource) -> None:
        stored = load_cursor(self.store.con, self.repo, SOURCE, resource.name)
        cursor: dict[str, Any] = dict(stored) if isinstance(stored, dict) else {}
        since = _parse(cursor.get("since"))
        floor = since - self.overlap if since else None
        if self.since is not None and floor is None:
            floor = self.since  # --since: where a first collection starts (never a gap later)
        params = {"since": _iso(floor)} if floor and not resource.sweep else {}
        query = params.get("since")
        # The first page's ETag is reusable only for the same query: a 304 means nothing new.
        etag = cursor.get("etag") if cursor.get("etag_query") == query and "sweep" not in cursor \
            else None
        high: str | None = cursor.get("sweep", {}).get("high")
        first_etag: str | None = None
        skip = int(cursor.get("sweep", {}).get("skip", 0)) if resource.sweep else 0
        for n, page in enumerate(self.pages(resource, cursor, params, etag)):
            if page.not_modified:
                return
            if n == 0 and "sweep" not in cursor:
                first_etag = page.etag
            objs = _items(page.data, resource.items_key)
            keep = [o for o in objs if not resource.sweep or floor is None
                    or (_parse(o.get(resource.time_field) if isinstance(o, dict) else None)
                        or floor) >= floor]
            newest = _newest(objs, resource.time_field)
            done = page.next_url is None or len(keep) < len(objs)
            if resource.sweep:
                high = _later(high, newest)
            # Objects with children (a pull request is 5 requests) are stored a few at a time, so
            # a small --max-requests or a crash still moves on: the cursor then names this page
            # and how many of its objects are stored (newer objects only push them further down).
            start = skip if n == 0 else 0
            step = CHILDREN_CHUNK if resource.children else max(len(keep), 1)
            for i in range(start, max(len(keep), start + 1), step):
                batch = Batch(self.repo)
                for obj in keep[i:i + step]:
                    batch.add(resource.name, obj, self.ctx_for(page.url))
                    if resource.children and isinstance(obj, Mapping):
                        resource.children(self, obj, batch)
                if self.gql is not None:
                    self.gql.flush(batch)
                rest = {k: v for k, v in cursor.items() if k != "sweep"}
                if i + step < len(keep) and not resource.sweep:
                    # `since` lists (issues) move on a whole page at a time: a resumed run reads
                    # the page again, and skips the children of the issues stored unchanged.
                    new: dict[str, Any] = rest
                elif i + step < len(keep):
                    new = {**rest, "sweep": {"high": high, "next": page.url, "skip": i + step}}
                elif resource.sweep:
                    new = {"since": high or cursor.get("since")} if done else {
                        **rest, "sweep": {"high": high, "next": page.next_url, "skip": 0}}
                else:
                    new = {**rest, "since": _later(cursor.get("since"), newest)}
                if first_etag:
                    new.update(etag=first_etag, etag_query=query)
                self.commit(resource, batch, new)
            cursor = new
            if done:
                return


def sync_repo(store: Store, api: GitHubAPI, repo: str, *,
              overlap: timedelta = _DEFAULT_OVERLAP, progress: Progress = QUIET,
              resources: Iterable[Resource] = RESOURCES, graphql: bool = True,
              api_mode: str = "rest", since: datetime | None = None,
              sweep: Mapping[str, Any] | None = None) -> RunSummary:
    """Bring ``repo``'s GitHub data in the store up to date. A spent request budget, or a rate
    limit beyond ``--max-wait``, ends the run early (``complete`` false); all stored pages stay.
    ``graphql``: also read what only GitHub's GraphQL API says (``graphql.py``). ``api_mode``
    ``graphql``: pull requests and what hangs on them through GraphQL (``gql_pulls.py``), the rest
    through REST. ``since``: nothing updated (created, for lists without updates) before it.
    ``sweep``: settings of the GraphQL sweep (``max_page``, ``max_cost``, ``sizes``)."""
    check_repo_name(repo)
    summary = RunSummary(repos=[repo])
    try:
        api.get(f"repos/{repo}")
    except NotFoundError:
        raise FatalSourceError(f"repository {repo} does not exist on GitHub or is not visible to "
                               f"the token in {api.token_env}") from None
    if api_mode not in API_MODES:
        raise UserError(f"--api {api_mode!r}: use one of {', '.join(API_MODES)}")
    gql_on = graphql or api_mode == "graphql"
    sync = _Sync(store, api, repo, overlap, summary, progress,
                 gql=GraphQL(api, repo, summary.warnings) if gql_on else None, since=since)
    try:
        for resource in resources:
            if api_mode == "graphql" and resource.name == "pull_requests" and sync.gql:
                PullSweep(sync, sync.gql, since=since, **dict(sweep or {})).run()
                continue
            sync.run(resource)
    except TransientSourceError as exc:
        summary.complete = False
        summary.stopped = str(exc)
        if not isinstance(exc, RequestBudgetSpent):
            summary.failed = True
    finally:
        summary.requests, summary.not_modified = api.requests, api.not_modified
        if sync.gql is not None:
            summary.points = sync.gql.points
        summary.waits = list(api.waits)
    return summary
