"""Offline replay: recorded Jira API objects (``DIR/*.jsonl``) through the live mapping and writer.

Each line is ``{"url", "input", "data"}``: one object as the API returned it (an issue of a search
or board page, one changelog history, a status, ...), routed by its URL; an issue's own objects
name the issue in ``input.issue_id`` or in the URL (``/issue/10063/worklog``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from leadlens.errors import UserError
from leadlens.sources.base import QUIET, Progress, RunSummary, recorded_files, recorded_objects
from leadlens.sources.jira.load import Batch, write_batch
from leadlens.sources.jira.mapping import Context
from leadlens.store import Store
from leadlens.store.writer import transaction

__all__ = ["BATCH_OBJECTS", "replay_dir", "route"]

BATCH_OBJECTS = 500
MAX_LINE_BYTES = 64 * 2**20  # a Jira issue with its changelog is tens of kilobytes

_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/rest/agile/[^/]+/board/(\d+)/issue$"), "issues"),
    (re.compile(r"/rest/api/\d+/search(?:/jql)?$"), "issues"),
    (re.compile(r"/rest/api/\d+/issue/(\d+)/changelog$"), "changelog"),
    (re.compile(r"/rest/api/\d+/issue/(\d+)/comment$"), "comments"),
    (re.compile(r"/rest/api/\d+/issue/(\d+)/worklog$"), "worklogs"),
    (re.compile(r"/rest/api/\d+/issue/(\d+)/remotelink$"), "remote_links"),
    (re.compile(r"/rest/api/\d+/status$"), "statuses"),
    (re.compile(r"/rest/api/\d+/issuetype$"), "issue_types"),
    (re.compile(r"/rest/api/\d+/project(?:/[^/]+)?$"), "projects"),
    (re.compile(r"/rest/agile/[^/]+/board/(\d+)/sprint$"), "sprints"),
    (re.compile(r"/rest/api/\d+/user$"), "users"),
)
_CHILDREN = frozenset({"changelog", "comments", "worklogs", "remote_links"})


def route(url: str) -> tuple[str, str, str | None] | None:
    """(site, resource, the issue or board id in the URL) of a recorded URL; None for objects with
    no table."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return None
    for pattern, resource in _ROUTES:
        match = pattern.search(parsed.path)
        if match:
            port = f":{parsed.port}" if parsed.port else ""
            site = f"{parsed.scheme}://{parsed.host}{port}"
            return site, resource, match.group(1) if match.groups() else None
    return None


@dataclass(frozen=True)
class _Record:
    where: str
    url: str
    site: str
    resource: str
    id_in_url: str | None
    input: Any
    data: Any


def replay_dir(store: Store, directory: Path, projects: Sequence[str] = (), *,
               store_emails: bool = False, progress: Progress = QUIET) -> RunSummary:
    """Load every ``*.jsonl`` of ``directory`` (only ``projects``' issues and their objects when
    named; a project the recording does not hold is refused before anything is written)."""
    files = recorded_files(directory)
    summary = RunSummary(mode="replay")
    wanted = {p.upper() for p in projects}
    kept: set[str] | None = None
    if wanted:
        kept, held = _issues_of(files, wanted, summary)
        missing = sorted(wanted - held)
        if missing:
            raise UserError(f"--from-dir {directory}: no issues of Jira project"
                            f" {', '.join(missing)} in the recording (it holds"
                            f" {', '.join(sorted(held)) or 'none'}); nothing was stored")
    fetched_at = datetime.now(UTC)
    batch = Batch("replay")
    pending = 0
    seen: dict[str, set[Any]] = {}

    def flush() -> None:
        with transaction(store.con):
            write_batch(store, batch)
        batch.report_to(summary, seen)

    for rec in _records(files, summary if kept is None else None):
        data = rec.data
        if kept is not None and not _wanted(rec, wanted, kept):
            summary.not_stored[rec.resource] += 1
            continue
        issue_id = rec.input.get("issue_id") if isinstance(rec.input, dict) else None
        issue_id = str(issue_id) if isinstance(issue_id, (int, str)) else None
        ctx = Context(rec.site, rec.url, fetched_at, store_emails=store_emails,
                      issue_id=issue_id or (rec.id_in_url if rec.resource in _CHILDREN else None),
                      board_id=rec.id_in_url if rec.resource == "sprints" else None)
        if batch.scope != rec.site and len(batch):
            flush()
            pending, batch = 0, Batch(rec.site)
        batch.scope = rec.site
        batch.add(rec.resource, data, ctx)
        pending += 1
        if pending >= BATCH_OBJECTS:
            flush()
            progress.advance(pending)
            pending, batch = 0, Batch(rec.site)
    flush()
    progress.advance(pending)
    return summary


def _wanted(rec: _Record, wanted: set[str], kept: set[str]) -> bool:
    data = rec.data if isinstance(rec.data, dict) else {}
    if rec.resource == "issues":
        return str(data.get("id")) in kept
    if rec.resource == "projects":
        return str(data.get("key")).upper() in wanted
    if rec.resource in _CHILDREN:
        issue = rec.input.get("issue_id") if isinstance(rec.input, dict) else rec.id_in_url
        return str(issue if issue is not None else rec.id_in_url) in kept
    return True  # statuses, types, sprints, users: the site's, small


def _issues_of(files: list[Path], wanted: set[str], summary: RunSummary
               ) -> tuple[set[str], set[str]]:
    """Ids of the recorded issues of ``wanted`` projects, and every project key the recording's
    issues belong to."""
    kept, held = set(), set()
    for rec in _records(files, summary):
        if rec.resource != "issues" or not isinstance(rec.data, dict):
            continue
        fields = rec.data.get("fields")
        project = fields.get("project") if isinstance(fields, dict) else None
        key = project.get("key") if isinstance(project, dict) else None
        if isinstance(key, str):
            held.add(key.upper())
            if key.upper() in wanted:
                kept.add(str(rec.data.get("id")))
    return kept, held


def _records(files: list[Path], summary: RunSummary | None) -> Iterator[_Record]:
    """Every routed record; malformed lines and unrouted objects are counted in ``summary`` (when
    given: a second pass over the same files counts nothing again)."""
    for path in files:
        for where, record, problem in recorded_objects(path, MAX_LINE_BYTES):
            if problem is not None:
                if summary is not None:
                    summary.malformed.append(f"{where}: {problem}")
                continue
            routed = route(record["url"])
            if routed is None:
                if summary is not None:
                    summary.not_stored[path.stem] += 1
                continue
            yield _Record(where, record["url"], *routed, record.get("input"), record["data"])
