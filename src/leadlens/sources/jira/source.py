"""Incremental Jira sync: per project a cursor on ``updated``, moved with the page it covers.

A run first learns the site (``serverInfo``: Cloud or Data Center; ``myself``: the time zone JQL
dates are read in; ``field``: where story points, sprints and the flag live), checks that every
project exists (nothing is written when one does not), stores the projects, statuses, issue types
and the sprints of the projects' boards, then reads each project's issues with

    project = "KEY" AND updated >= "yyyy/MM/dd HH:mm" ORDER BY updated ASC

from the cursor minus the overlap window (Cloud: ``/rest/api/3/search/jql`` with
``nextPageToken``; Data Center: ``/rest/api/2/search`` with ``startAt``), 100 issues a page with
their changelogs. Per issue it reads what the search did not embed in full: changelog pages
(Cloud ``/issue/{id}/changelog``; Data Center ``/issue/{key}?expand=changelog``), comment and
worklog pages, and its remote links. Each page is written with the cursor (the newest ``updated``
on it) in one transaction, so an interrupted run resumes after its last stored page; rows are
upserted by key, so the overlap never duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadlens.errors import FatalSourceError, TransientSourceError, UserError
from leadlens.sources.base import QUIET, Progress, RunSummary
from leadlens.sources.http import Eta
from leadlens.sources.jira.client import JiraAPI, NotFoundError
from leadlens.sources.jira.fields import time_offset
from leadlens.sources.jira.load import Batch, write_batch
from leadlens.sources.jira.mapping import SOURCE, Context, FieldIds
from leadlens.store import Store
from leadlens.store.writer import load_cursor, save_cursor, transaction

__all__ = ["PER_PAGE", "Site", "check_project_key", "jql_for", "sync"]

PER_PAGE = 100
AGILE = "rest/agile/1.0"
# Jira project keys: a letter, then letters, digits and underscores (Jira's own rule). Checked
# before a key goes into JQL, so a key cannot carry a quote or an operator.
_PROJECT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,254}$")


@dataclass(frozen=True)
class Site:
    """What a run learns of the site once."""

    url: str
    cloud: bool
    zone: tzinfo
    fields: FieldIds = field(default_factory=FieldIds)

    @property
    def api(self) -> str:
        return "rest/api/3" if self.cloud else "rest/api/2"


def check_project_key(key: str) -> str:
    if not _PROJECT_KEY.match(key):
        raise UserError(f"not a Jira project key: {key!r} (letters, digits and _, such as ABC)")
    return key.upper()


def jql_for(key: str, since: datetime | None, zone: tzinfo, until: datetime | None = None) -> str:
    """The search for ``key``'s issues updated at or after ``since`` (to the minute, floored, in
    the time zone Jira reads JQL dates in: the user's) and, for a backfill, up to ``until`` (the
    minute after it, so that nothing at its edge is missed)."""
    terms = [f'project = "{key}"']
    if since is not None:
        terms.append(f'updated >= "{since.astimezone(zone):%Y/%m/%d %H:%M}"')
    if until is not None:
        edge = (until + timedelta(minutes=1)).astimezone(zone)
        terms.append(f'updated <= "{edge:%Y/%m/%d %H:%M}"')
    return " AND ".join(terms) + " ORDER BY updated ASC"


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def _at(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        found = time_offset(text, "cursor")
    except ValueError:
        return None
    return found[0] if found else None


def _values(data: Any, key: str) -> list[Any]:
    found = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(found, list):
        raise FatalSourceError(f"Jira returned {type(data).__name__} where a list ({key}) was"
                               " expected")
    return found


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class _Sync:
    store: Store
    api: JiraAPI
    site: Site
    overlap: timedelta
    store_emails: bool
    summary: RunSummary
    progress: Progress
    since: datetime | None = None  # --since: where a first collection (or a backfill) starts
    seen: dict[str, set[Any]] = field(default_factory=dict)  # rows stored by this run

    def ctx(self, url: str | None, issue_id: str | None = None,
            board_id: str | None = None) -> Context:
        return Context(self.site.url, url, datetime.now(UTC), self.site.fields, self.store_emails,
                       issue_id, board_id)

    def commit(self, batch: Batch, key: str | None = None, cursor: object = None,
               eta: Eta | None = None) -> None:
        with transaction(self.store.con) as con:
            write_batch(self.store, batch)
            if key is not None:
                save_cursor(con, key, SOURCE, "issues", cursor)
        batch.report_to(self.summary, self.seen)
        stored = ", ".join(f"{n:,} {r}" for r, n in sorted(self.summary.stored.items())
                           if r in ("issues", "changelog"))
        done = f" ({eta.text('issues of this search')})" if eta is not None else ""
        self.progress.update(f"Jira {key or 'metadata'}: {stored or 'nothing new'}{done};"
                             f" {self.api.requests:,} requests")

    # -- paging
    def offset_pages(self, path: str, key: str, params: Mapping[str, Any] | None = None,
                     eta: Eta | None = None) -> Iterator[list[Any]]:
        """Pages of a ``startAt`` list (``total`` or ``isLast`` says when it ends)."""
        start = 0
        while True:
            data = self.api.get(path, {**(params or {}), "startAt": start, "maxResults": PER_PAGE})
            values = _values(data, key)
            total = _int(data, "total")
            if eta is not None and eta.total is None:
                eta.total = total
            yield values
            start += len(values)
            if not values or data.get("isLast") is True or (total is not None and start >= total) \
                    or (total is None and data.get("isLast") is None):
                return

    def metadata(self, projects: Sequence[Mapping[str, Any]]) -> None:
        batch = Batch(self.site.url)
        base = self.site.api
        for project in projects:
            batch.add("projects", project, self.ctx(f"{base}/project"))
        for obj in self.list_of(self.api.get(f"{base}/status")):
            batch.add("statuses", obj, self.ctx(f"{base}/status"))
        for obj in self.list_of(self.api.get(f"{base}/issuetype")):
            batch.add("issue_types", obj, self.ctx(f"{base}/issuetype"))
        for project in projects:
            for board in self.boards(str(project.get("key"))):
                path = f"{AGILE}/board/{board}/sprint"
                try:
                    for page in self.offset_pages(path, "values"):
                        for obj in page:
                            batch.add("sprints", obj, self.ctx(path, board_id=board))
                except FatalSourceError:
                    continue  # a kanban board has no sprints (400)
        self.commit(batch)

    @staticmethod
    def list_of(data: Any) -> list[Any]:
        if not isinstance(data, list):
            raise FatalSourceError(f"Jira returned {type(data).__name__} where a list was expected")
        return data

    def boards(self, key: str) -> list[str]:
        try:
            return [str(b["id"]) for page in self.offset_pages(
                f"{AGILE}/board", "values", {"projectKeyOrId": key})
                for b in page if isinstance(b, Mapping) and isinstance(b.get("id"), int)]
        except FatalSourceError:
            return []  # no Jira Software (no agile API) or no board the token sees

    # -- issues
    def search_pages(self, jql: str, eta: Eta) -> Iterator[list[Any]]:
        params = {"jql": jql, "fields": "*all", "expand": "changelog"}
        if not self.site.cloud:  # Data Center's search says its total: the ETA's size
            yield from self.offset_pages(f"{self.site.api}/search", "issues", params, eta)
            return
        eta.total = self.approximate_count(jql)
        token: str | None = None
        while True:
            data = self.api.get(f"{self.site.api}/search/jql", {
                **params, "maxResults": PER_PAGE, **({"nextPageToken": token} if token else {})})
            yield _values(data, "issues")
            token = data.get("nextPageToken")
            if not isinstance(token, str) or not token or data.get("isLast") is True:
                return

    def approximate_count(self, jql: str) -> int | None:
        """Jira Cloud's estimate of a search's size (its search pages give none); None when the
        site does not serve it."""
        try:
            data = self.api.post(f"{self.site.api}/search/approximate-count",
                                 {"jql": jql.split(" ORDER BY ")[0]})
        except FatalSourceError:
            return None
        return _int(data, "count") if isinstance(data, Mapping) else None

    def children(self, issue: Mapping[str, Any], batch: Batch) -> None:
        """What the search did not embed in full, and the remote links."""
        issue_id, key = issue.get("id"), issue.get("key")
        if not isinstance(issue_id, str) or not isinstance(key, str):
            return  # the issue is skipped with its reason
        base, fl = self.site.api, issue.get("fields")
        fl = fl if isinstance(fl, Mapping) else {}
        changelog = issue.get("changelog")
        if isinstance(changelog, Mapping) and len(changelog.get("histories") or []) \
                < (_int(changelog, "total") or 0):
            if self.site.cloud:
                path = f"{base}/issue/{issue_id}/changelog"
                for page in self.offset_pages(path, "values"):
                    for obj in page:
                        batch.add("changelog", obj, self.ctx(path, issue_id))
            else:
                path = f"{base}/issue/{key}"
                whole = self.api.get(path, {"expand": "changelog", "fields": "none"})
                histories = whole.get("changelog") if isinstance(whole, Mapping) else None
                for obj in (histories or {}).get("histories") or []:
                    batch.add("changelog", obj, self.ctx(path, issue_id))
        for resource, name, key_ in (("comments", "comment", "comments"),
                                     ("worklogs", "worklog", "worklogs")):
            embedded = fl.get(name)
            if isinstance(embedded, Mapping) and len(embedded.get(key_) or []) \
                    < (_int(embedded, "total") or 0):
                path = f"{base}/issue/{issue_id}/{name}"
                for page in self.offset_pages(path, key_):
                    for obj in page:
                        batch.add(resource, obj, self.ctx(path, issue_id))
        path = f"{base}/issue/{issue_id}/remotelink"
        for obj in self.list_of(self.api.get(path)):
            batch.add("remote_links", obj, self.ctx(path, issue_id))

    def issues(self, key: str) -> None:
        """``key``'s issues: a first collection from ``--since`` (or from the beginning); later
        runs from the cursor minus the overlap. The cursor's ``from`` is where the collection
        starts: a ``--since`` before it first backfills the issues updated in between, then goes
        on as usual, so the store never holds a gap."""
        stored = load_cursor(self.store.con, key, SOURCE, "issues")
        cursor: dict[str, Any] = dict(stored) if isinstance(stored, dict) else {}
        updated = _at(cursor.get("updated"))
        start = _at(cursor.get("from"))  # None: from the beginning
        if updated is None:  # nothing stored yet: a first collection
            floor = self.since or start
            cursor = {**cursor, "from": _iso(floor)}
            self.sweep(key, jql_for(key, floor, self.site.zone), cursor, "updated")
            return
        pending = cursor.get("backfill")
        since = _at(pending.get("since")) if isinstance(pending, Mapping) else None
        if self.since is not None and start is not None and self.since < start:
            since = self.since if since is None or self.since < since else since
        if since is not None and start is not None:
            at = _at(pending.get("at")) if isinstance(pending, Mapping) \
                and pending.get("since") == _iso(since) else None
            resume = max(at - self.overlap, since) if at else since
            self.progress.update(f"Jira {key}: backfilling issues updated from {since:%Y-%m-%d}")
            cursor = self.sweep(key, jql_for(key, resume, self.site.zone, until=start),
                                {**cursor, "backfill": {"since": _iso(since), "at": _iso(at)}},
                                "backfill")
            cursor = {k: v for k, v in cursor.items() if k != "backfill"} | {"from": _iso(since)}
            self.commit(Batch(key), key, cursor)
        floor = (_at(cursor.get("updated")) or updated) - self.overlap
        self.sweep(key, jql_for(key, floor, self.site.zone), cursor, "updated")

    def sweep(self, key: str, jql: str, cursor: dict[str, Any], moves: str) -> dict[str, Any]:
        """Read the search's pages, each stored with the cursor: ``moves`` names what the newest
        ``updated`` of a page moves (``updated``, or a backfill's ``at``). Returns the last
        cursor stored."""
        eta = Eta(self.api.clock, None)
        seen: set[str] = set()  # an issue updated during the run can come round again
        newest = _at(cursor.get(moves)) if moves == "updated" else None
        for page in self.search_pages(jql, eta):
            batch = Batch(key)
            for issue in page:
                batch.add("issues", issue, self.ctx(f"{self.site.api}/search"))
                if not isinstance(issue, Mapping):
                    continue
                fl = issue.get("fields")
                try:
                    updated = time_offset(fl.get("updated") if isinstance(fl, Mapping) else None,
                                          "updated")
                except ValueError:
                    updated = None
                if updated and (newest is None or updated[0] > newest):
                    newest = updated[0]
                if str(issue.get("id")) not in seen:
                    seen.add(str(issue.get("id")))
                    self.children(issue, batch)
            eta.advance(len(page))
            if moves == "updated":
                cursor = {**cursor, "updated": _iso(newest)}
            else:
                cursor = {**cursor, moves: {**cursor[moves], "at": _iso(newest)}}
            self.commit(batch, key, cursor, eta)
        return cursor


def connect(api: JiraAPI, url: str) -> tuple[Site, list[str]]:
    """The site, and warnings (a time zone leadlens does not know)."""
    info = api.get("rest/api/2/serverInfo")
    cloud = isinstance(info, Mapping) and info.get("deploymentType") == "Cloud"
    base = "rest/api/3" if cloud else "rest/api/2"
    me = api.get(f"{base}/myself")  # needs the credentials: a bad token stops here (401)
    warnings: list[str] = []
    zone: tzinfo = UTC
    name = me.get("timeZone") if isinstance(me, Mapping) else None
    if isinstance(name, str) and name:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            warnings.append(f"Jira's time zone {name!r} is unknown here: JQL dates are sent in UTC"
                            " (the overlap window covers the difference up to its length)")
    try:
        fields = FieldIds.from_fields(api.get(f"{base}/field"))
    except FatalSourceError:
        fields = FieldIds()
    return Site(url, cloud, zone, fields), warnings


def sync(store: Store, api: JiraAPI, url: str, projects: Sequence[str], *,
         overlap: timedelta, store_emails: bool = False, progress: Progress = QUIET,
         since: datetime | None = None) -> RunSummary:
    """Bring ``projects`` of the Jira site at ``url`` up to date in the store. Every project is
    checked first: an unknown one stops the run before anything is written. ``since``: issues
    updated before it are not read (a first collection starts there; an earlier one than the
    collection's start backfills)."""
    keys = [check_project_key(k) for k in projects]
    if not keys:
        raise UserError("name at least one Jira project key (or replay with --from-dir)")
    summary = RunSummary(mode="live")
    try:
        site, warnings = connect(api, url)
        summary.warnings.extend(warnings)
        found = []
        for key in keys:
            try:
                found.append(api.get(f"{site.api}/project/{key}"))
            except NotFoundError:
                raise UserError(f"Jira project {key} does not exist or is not visible to the"
                                f" credentials in {api.auth.names()}; nothing was stored") from None
        run = _Sync(store, api, site, overlap, store_emails, summary, progress, since)
        run.metadata(found)
        for key in keys:
            run.issues(key)
    except TransientSourceError as exc:
        summary.complete, summary.failed, summary.stopped = False, True, str(exc)
    finally:
        summary.requests, summary.waits = api.requests, list(api.waits)
    return summary
