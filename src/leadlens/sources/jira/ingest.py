"""The Jira source on the source contract: live from the API, or replayed from recorded objects."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import httpx

from leadlens.config import Settings
from leadlens.errors import UserError
from leadlens.sources import http
from leadlens.sources.base import QUIET, DeriveStart, Progress, RunSummary, Wait
from leadlens.sources.jira.client import JiraAPI, auth_from_env, make_client
from leadlens.sources.jira.replay import replay_dir
from leadlens.sources.jira.source import check_project_key, sync
from leadlens.store import Store

__all__ = ["JiraReplay", "JiraSource"]


@dataclass(frozen=True)
class JiraSource:
    """``projects``' issues (with changelogs, comments, worklogs, links), statuses, issue types,
    sprints and the users they name, from the Jira site at ``url`` (Cloud or Data Center), with
    the credentials in the environment variables ``token_env`` (and ``email_env`` for Cloud).
    ``None`` for a field means the setting (``settings.jira``)."""

    projects: tuple[str, ...]
    url: str | None = None
    token_env: str | None = None
    email_env: str | None = None
    store_emails: bool | None = None
    trust_settings_url: bool = False  # the jira_url setting is used (a repository can ship it)
    since: datetime | None = None  # --since: issues updated before it are not read
    on_wait: Callable[[Wait], None] | None = None
    transport: httpx.BaseTransport | None = None  # tests serve a fake Jira through it
    clock: http.Clock | None = None
    environ: dict[str, str] | None = field(default=None, compare=False)  # tests: not os.environ

    kind: ClassVar[str] = "jira"
    derives_from: ClassVar[DeriveStart] = "items"

    def url_in(self, settings: Settings) -> str:
        """The site the credentials go to, checked (https, or http to this machine alone)."""
        url, what = self.url, "--url"
        if url is None and settings.jira.url:
            url, what = settings.jira.url, "the jira_url setting"
            if not self.trust_settings_url:
                raise UserError(f"jira_url {url!r} is read from the working directory, which a"
                                " repository can ship: pass --trust-settings-url to send your"
                                " token there (or --url)")
        if not url:
            raise UserError("name the Jira site with --url https://YOURSITE.atlassian.net (or your"
                            " Data Center's base URL)")
        http.checked_base_url(url, what)
        return url.rstrip("/")

    def ingest(self, store: Store, settings: Settings, progress: Progress = QUIET) -> RunSummary:
        conf = settings.jira
        for key in self.projects:
            check_project_key(key)
        url = self.url_in(settings)
        auth = auth_from_env(self.environ if self.environ is not None else os.environ,
                             self.token_env or conf.token_env, self.email_env or conf.email_env)
        store_emails = conf.store_emails if self.store_emails is None else self.store_emails
        with make_client(url, auth, self.transport) as client:
            api = JiraAPI(client, auth, clock=self.clock or http.SystemClock(),
                          on_wait=self.on_wait)
            return sync(store, api, url, self.projects, overlap=conf.overlap,
                        store_emails=store_emails, progress=progress, since=self.since)


@dataclass(frozen=True)
class JiraReplay:
    """Recorded Jira API objects (``DIR/*.jsonl``) through the live mapping and writer, offline;
    only ``projects``' issues when named."""

    directory: Path
    projects: tuple[str, ...] = ()
    store_emails: bool | None = None

    kind: ClassVar[str] = "jira"
    derives_from: ClassVar[DeriveStart] = "items"

    def ingest(self, store: Store, settings: Settings, progress: Progress = QUIET) -> RunSummary:
        keys = [check_project_key(k) for k in self.projects]
        emails = settings.jira.store_emails if self.store_emails is None else self.store_emails
        return replay_dir(store, self.directory, keys, store_emails=emails, progress=progress)
