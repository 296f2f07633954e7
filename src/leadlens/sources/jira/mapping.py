"""Pure mapping of Jira REST objects to store rows; the same code serves live and replayed data.

Every object goes through :func:`map_object` into an :class:`Out` (the batch): rows by table,
objects it cannot read (skipped with their reason, never a crash) and warnings. An issue carries
objects of its own (changelog histories, comments, worklogs, links, the users it names): each is
mapped on its own, so one odd history skips that history, not the issue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from leadlens.sources.jira import fields as f
from leadlens.sources.jira.fields import MappingError, raw_json

__all__ = ["KEYS", "SOURCE", "Context", "FieldIds", "MappingError", "Out", "Row", "map_object"]

Row = dict[str, Any]
SOURCE = "jira"

# The key of every table the Jira source fills: rows with the same key replace each other.
KEYS: dict[str, tuple[str, ...]] = {
    "jira_projects": ("id",),
    "jira_issue_types": ("id",),
    "jira_statuses": ("id",),
    "jira_issues": ("id",),
    "jira_issue_keys": ("issue_id", "key"),
    "jira_changelog": ("issue_id", "history_id", "item_index"),
    "jira_comments": ("issue_id", "id"),
    "jira_worklogs": ("issue_id", "id"),
    "jira_remote_links": ("issue_id", "id"),
    "jira_issue_links": ("issue_id", "id"),
    "jira_sprints": ("id",),
    "jira_users": ("account_id",),
}

# Data Center writes a sprint in the Sprint field as a Java toString: `...Sprint@1a2b[id=12,...]`.
_DC_SPRINT_ID = re.compile(r"\bid=(\d+)")


@dataclass(frozen=True)
class FieldIds:
    """Where a site keeps story points, sprints and the flag: custom field ids, found by name in
    ``/field`` when the site answers it, else the ids Jira Cloud gives them by default."""

    story_points: tuple[str, ...] = ("customfield_10016", "customfield_10026", "customfield_10028")
    sprint: tuple[str, ...] = ("customfield_10020",)
    flagged: tuple[str, ...] = ("customfield_10021",)

    @classmethod
    def from_fields(cls, payload: object) -> FieldIds:
        """From ``/field``'s list; the defaults for a kind no field is named after."""
        found: dict[str, list[str]] = {"story_points": [], "sprint": [], "flagged": []}
        names = {"story points": "story_points", "story point estimate": "story_points",
                 "sprint": "sprint", "flagged": "flagged"}
        for entry in payload if isinstance(payload, list) else []:
            if not isinstance(entry, Mapping):
                continue
            name, fid = entry.get("name"), entry.get("id")
            if isinstance(name, str) and isinstance(fid, str) and name.lower() in names:
                found[names[name.lower()]].append(fid)
        default = cls()
        return cls(*(tuple(found[k]) or getattr(default, k)
                     for k in ("story_points", "sprint", "flagged")))


@dataclass(frozen=True)
class Context:
    """Where an object came from: the site (base URL), the API URL, when it was fetched, and for
    an issue's own objects the issue (Jira's numeric id)."""

    site: str
    url: str | None
    fetched_at: datetime
    fields: FieldIds = field(default_factory=FieldIds)
    store_emails: bool = False
    issue_id: str | None = None
    board_id: str | None = None


class Out(Protocol):
    """Where mapped rows go (the batch)."""

    def row(self, table: str, row: Row) -> None: ...
    def skip(self, resource: str, obj: object, url: str | None, reason: str) -> None: ...
    def warn(self, message: str) -> None: ...


def map_object(resource: str, obj: object, ctx: Context, out: Out) -> None:
    """Map one API object of ``resource`` into ``out``; an object the mapping cannot read is
    skipped with its reason."""
    mapper = MAPPERS[resource]
    try:
        if not isinstance(obj, Mapping):
            raise MappingError(f"not an object: {type(obj).__name__}")
        mapper(obj, ctx, out)
    except MappingError as exc:
        url = obj.get("self") if isinstance(obj, Mapping) else None
        out.skip(resource, obj, f.utf8(url) if isinstance(url, str) else ctx.url, str(exc))
    except RecursionError:
        out.skip(resource, None, ctx.url, "nested too deeply")


def _each(resource: str, objs: Iterable[Any], ctx: Context, out: Out) -> None:
    for obj in objs:
        map_object(resource, obj, ctx, out)


def _user(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    account = next((v for k in ("accountId", "key", "name")
                    if isinstance(v := obj.get(k), str) and v), None)
    if account is None:
        return  # a deleted or anonymised user: nothing to keep
    email = f.text(obj, "emailAddress") if ctx.store_emails else None
    out.row("jira_users", {
        "account_id": f.utf8(account), "display_name": f.text(obj, "displayName"),
        "email": email or None, "active": obj.get("active") if isinstance(obj.get("active"), bool)
        else None, "time_zone": f.text(obj, "timeZone"), "account_type": f.text(obj, "accountType"),
        "fetched_at": ctx.fetched_at})


def _users_in(obj: Mapping[str, Any], keys: Iterable[str], ctx: Context, out: Out) -> None:
    for key in keys:
        user = obj.get(key)
        if isinstance(user, Mapping):
            map_object("users", user, ctx, out)


def _sprint_ids(fl: Mapping[str, Any], ids: FieldIds) -> list[str] | None:
    """Every sprint the issue is or was in; None when no sprint field is there to say."""
    found: list[str] = []
    present = False
    values: list[Any] = []
    for key in ("sprint", "closedSprints", *ids.sprint):
        if key in fl:
            present = True
            value = fl[key]
            values.extend(value if isinstance(value, list) else [value])
    for value in values:
        sid: str | None = None
        if isinstance(value, Mapping):
            sid = f.ident(value, "id")
        elif isinstance(value, str):
            match = _DC_SPRINT_ID.search(value)
            sid = match.group(1) if match else None
        if sid and sid not in found:
            found.append(sid)
    return found if present else None


def _story_points(fl: Mapping[str, Any], ids: FieldIds) -> float | None:
    for key in ids.story_points:
        points = f.number(fl, key)
        if points is not None:
            return points
    return None


def _flagged(fl: Mapping[str, Any], ids: FieldIds) -> bool | None:
    if isinstance(fl.get("flagged"), bool):  # the agile API says it outright
        return bool(fl["flagged"])
    for key in ids.flagged:
        if key in fl:
            return bool(fl[key])  # a list of the flag's options: [] or null when not flagged
    return None


def _names(values: list[Any], key: str | None) -> list[str]:
    out = []
    for value in values:
        name = value.get(key) if key and isinstance(value, Mapping) else value
        if isinstance(name, str):
            out.append(f.utf8(name))
    return out


def _issue(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    issue_id, key = f.need_ident(obj, "id"), f.need_ident(obj, "key")
    fl = f.nested(obj, "fields")
    created = f.time_offset(f.need(fl, "created"), "created")
    assert created is not None
    project, itype, status = f.nested(fl, "project"), f.nested(fl, "issuetype"), f.nested(fl, "status")
    subtask = itype.get("subtask")
    out.row("jira_issues", {
        "id": issue_id, "key": key, "project_key": f.text(project, "key", "project.key"),
        "project_id": f.ident(project, "id"), "issue_type_id": f.ident(itype, "id"),
        "issue_type": f.text(itype, "name", "issuetype.name"),
        "subtask": subtask if isinstance(subtask, bool) else None,
        "summary": f.text(fl, "summary"), "description": f.adf_text(fl.get("description"),
                                                                    "description"),
        "status_id": f.ident(status, "id"), "status": f.text(status, "name", "status.name"),
        "status_category": f.text(f.nested(status, "statusCategory"), "key",
                                  "status.statusCategory.key"),
        "resolution": f.text(f.nested(fl, "resolution"), "name", "resolution.name"),
        "priority": f.text(f.nested(fl, "priority"), "name", "priority.name"),
        "creator": f.account(fl, "creator"), "reporter": f.account(fl, "reporter"),
        "assignee": f.account(fl, "assignee"),
        "labels": _names(f.items(fl, "labels"), None),
        "components": _names(f.items(fl, "components"), "name"),
        "parent_key": f.text(f.nested(fl, "parent"), "key", "parent.key"),
        "epic_key": f.text(f.nested(fl, "epic"), "key", "epic.key"),
        "story_points": _story_points(fl, ctx.fields), "sprint_ids": _sprint_ids(fl, ctx.fields),
        "flagged": _flagged(fl, ctx.fields),
        "created_at": created[0], "updated_at": f.need_time(fl, "updated"),
        "resolved_at": f.time(fl, "resolutiondate"), "created_offset_min": created[1],
        "site": ctx.site, "url": f.text(obj, "self"), "fetched_at": ctx.fetched_at,
        "raw": raw_json(obj)})
    out.row("jira_issue_keys", {"issue_id": issue_id, "key": key})
    _users_in(fl, ("creator", "reporter", "assignee"), ctx, out)
    own = Context(ctx.site, ctx.url, ctx.fetched_at, ctx.fields, ctx.store_emails, issue_id)
    _each("changelog", f.items(f.nested(obj, "changelog"), "histories"), own, out)
    _each("comments", f.items(f.nested(fl, "comment"), "comments"), own, out)
    _each("worklogs", f.items(f.nested(fl, "worklog"), "worklogs"), own, out)
    _each("issue_links", f.items(fl, "issuelinks"), own, out)


def _issue_of(obj: Mapping[str, Any], ctx: Context, key: str | None = "issueId") -> str:
    """The issue an object belongs to: its own ``issueId`` when it has one, else where it was
    read (the issue it is embedded in, or ``input.issue_id`` of a recording)."""
    found = (f.ident(obj, key) if key else None) or ctx.issue_id
    if not found:
        raise MappingError("no issue id (neither in the object nor where it was read)")
    return found


def _history(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    issue_id = _issue_of(obj, ctx)
    history_id, at = f.need_ident(obj, "id"), f.need_time(obj, "created")
    author = f.account(obj, "author")  # absent for a deleted user or an automation
    for n, item in enumerate(f.items(obj, "items")):
        if not isinstance(item, Mapping):
            raise MappingError(f"changelog item {n} is not an object")
        name = f.text(item, "field")
        if not name:
            raise MappingError(f"changelog item {n} names no field")
        row = {
            "issue_id": issue_id, "history_id": history_id, "item_index": n, "field": name,
            "field_id": f.text(item, "fieldId"), "from_value": f.ident(item, "from"),
            "from_string": f.text(item, "fromString"), "to_value": f.ident(item, "to"),
            "to_string": f.text(item, "toString"), "author": author, "at": at,
            "fetched_at": ctx.fetched_at}
        out.row("jira_changelog", row)
        if name == "Key":  # the issue moved between projects: it answered to both keys
            for old in (row["from_string"], row["to_string"]):
                if old:
                    out.row("jira_issue_keys", {"issue_id": issue_id, "key": old})
    _users_in(obj, ("author",), ctx, out)


def _comment(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    out.row("jira_comments", {
        "issue_id": _issue_of(obj, ctx), "id": f.need_ident(obj, "id"),
        "author": f.account(obj, "author"), "body": f.adf_text(obj.get("body"), "body"),
        "created_at": f.need_time(obj, "created"), "updated_at": f.time(obj, "updated"),
        "fetched_at": ctx.fetched_at, "raw": raw_json(obj)})
    _users_in(obj, ("author",), ctx, out)


def _worklog(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    seconds = f.number(obj, "timeSpentSeconds")
    out.row("jira_worklogs", {
        "issue_id": _issue_of(obj, ctx), "id": f.need_ident(obj, "id"),
        "author": f.account(obj, "author"), "started_at": f.time(obj, "started"),
        "seconds": int(seconds) if seconds is not None else None,
        "created_at": f.time(obj, "created"), "updated_at": f.time(obj, "updated"),
        "fetched_at": ctx.fetched_at, "raw": raw_json(obj)})
    _users_in(obj, ("author",), ctx, out)


def _remote_link(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    target, app = f.nested(obj, "object"), f.nested(obj, "application")
    out.row("jira_remote_links", {
        "issue_id": _issue_of(obj, ctx), "id": f.need_ident(obj, "id"),
        "url": f.text(target, "url", "object.url"), "title": f.text(target, "title", "object.title"),
        "relationship": f.text(obj, "relationship"),
        "application": f.text(app, "name", "application.name") or f.text(app, "type",
                                                                          "application.type"),
        "fetched_at": ctx.fetched_at, "raw": raw_json(obj)})


def _issue_link(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    kind = f.nested(obj, "type")
    for direction, side in (("outward", "outwardIssue"), ("inward", "inwardIssue")):
        other = f.nested(obj, side)
        if other:
            out.row("jira_issue_links", {
                "issue_id": _issue_of(obj, ctx, None), "id": f.need_ident(obj, "id"),
                "type": f.text(kind, "name", "type.name"), "direction": direction,
                "phrase": f.text(kind, direction, f"type.{direction}"),
                "other_id": f.ident(other, "id"), "other_key": f.ident(other, "key"),
                "fetched_at": ctx.fetched_at})
            return
    raise MappingError("issue link names neither an inward nor an outward issue")


def _status(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    sid, name = f.need_ident(obj, "id"), f.text(obj, "name")
    category = f.text(f.nested(obj, "statusCategory"), "key", "statusCategory.key")
    if category is None:
        out.warn(f"Jira status {name!r} (id {sid}) has no status category: stored with category"
                 " NULL (unmapped until a status setting maps it)")
    out.row("jira_statuses", {
        "id": sid, "name": name, "untranslated_name": f.text(obj, "untranslatedName"),
        "category": category,
        "project_id": f.ident(f.nested(f.nested(obj, "scope"), "project"), "id"),
        "fetched_at": ctx.fetched_at, "raw": raw_json(obj)})


def _issue_type(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    level = f.number(obj, "hierarchyLevel")
    out.row("jira_issue_types", {
        "id": f.need_ident(obj, "id"), "name": f.text(obj, "name"),
        "untranslated_name": f.text(obj, "untranslatedName"),
        "subtask": obj.get("subtask") if isinstance(obj.get("subtask"), bool) else None,
        "hierarchy_level": int(level) if level is not None else None,
        "fetched_at": ctx.fetched_at, "raw": raw_json(obj)})


def _project(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    out.row("jira_projects", {
        "id": f.need_ident(obj, "id"), "key": f.need_ident(obj, "key"), "name": f.text(obj, "name"),
        "site": ctx.site, "url": f.text(obj, "self"), "fetched_at": ctx.fetched_at,
        "raw": raw_json(obj)})


def _sprint(obj: Mapping[str, Any], ctx: Context, out: Out) -> None:
    out.row("jira_sprints", {
        "id": f.need_ident(obj, "id"), "board_id": f.ident(obj, "originBoardId") or ctx.board_id,
        "name": f.text(obj, "name"), "state": f.text(obj, "state"), "goal": f.text(obj, "goal"),
        "start_at": f.time(obj, "startDate"), "end_at": f.time(obj, "endDate"),
        "complete_at": f.time(obj, "completeDate"), "fetched_at": ctx.fetched_at,
        "raw": raw_json(obj)})


MAPPERS: dict[str, Callable[[Mapping[str, Any], Context, Out], None]] = {
    "issues": _issue, "changelog": _history, "comments": _comment, "worklogs": _worklog,
    "remote_links": _remote_link, "issue_links": _issue_link, "statuses": _status,
    "issue_types": _issue_type, "projects": _project, "sprints": _sprint, "users": _user,
}
