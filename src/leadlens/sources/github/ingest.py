"""The GitHub source on the source contract: live from the API, or replayed from recorded objects."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx

from leadlens.config import DEFAULT_GITHUB_MAX_WAIT, DEFAULT_GITHUB_TOKEN_ENV, Settings
from leadlens.errors import UserError
from leadlens.sources.base import QUIET, DeriveStart, Progress, RunSummary, Wait
from leadlens.sources.github.client import Clock, GitHubAPI, SystemClock, api_url_for, make_client
from leadlens.sources.github.record import Recording
from leadlens.sources.github.replay import replay_dir
from leadlens.sources.github.source import API_MODES, sync_repo
from leadlens.store import Store

__all__ = ["GithubReplay", "GithubSource"]


@dataclass(frozen=True)
class GithubSource:
    """``repo``'s pull requests, reviews, comments, checks, deployments, releases and issues, read
    from the API with the token in the environment variable ``token_env``."""

    repo: str
    token_env: str = DEFAULT_GITHUB_TOKEN_ENV
    api_url: str | None = None  # default: the github_api_url setting
    trust_settings_api_url: bool = False  # a github_api_url setting other than GitHub's is used
    max_requests: int | None = None
    max_wait: float = DEFAULT_GITHUB_MAX_WAIT
    on_wait: Callable[[Wait], None] | None = None
    transport: httpx.BaseTransport | None = None  # tests replay recorded pages through it
    clock: Clock | None = None
    api: str | None = None  # graphql | rest (default: the github_api setting)
    since: datetime | None = None  # a first collection starts here
    record: Path | None = None  # --record DIR: what was read, in the replay format
    sweep: Mapping[str, Any] | None = None  # the GraphQL sweep's page settings (tests, benchmarks)

    kind: ClassVar[str] = "github"
    derives_from: ClassVar[DeriveStart] = "forge"

    def api_url_in(self, settings: Settings) -> str:
        """Where the token goes: ``api_url``, else the setting when it is GitHub's or trusted."""
        return api_url_for(self.api_url, settings.github.api_url,
                           trust_setting=self.trust_settings_api_url)

    def ingest(self, store: Store, settings: Settings, progress: Progress = QUIET) -> RunSummary:
        api_url = self.api_url_in(settings)
        token = os.environ.get(self.token_env, "").strip()
        if not token:
            raise UserError(f"no GitHub token: set {self.token_env} to a token that can read the"
                            " repository (or name another variable with --token-env)")
        mode = self.api or settings.github.api
        if mode not in API_MODES:
            raise UserError(f"--api {mode!r}: use one of {', '.join(API_MODES)}")
        recording = Recording(self.record, self.repo) if self.record is not None else None
        try:
            with make_client(token, api_url, self.transport) as client:
                api = GitHubAPI(client, token_env=self.token_env, clock=self.clock or SystemClock(),
                                max_wait=self.max_wait, max_requests=self.max_requests,
                                on_wait=self.on_wait, recorder=recording)
                return sync_repo(store, api, self.repo, overlap=settings.github.overlap,
                                 progress=progress, api_mode=mode, since=self.since,
                                 sweep=self.sweep)
        finally:
            if recording is not None:
                recording.close()


@dataclass(frozen=True)
class GithubReplay:
    """Recorded API objects (``DIR/*.jsonl``) through the live mapping and writer, offline."""

    directory: Path
    rename: Callable[[str], str] | None = None  # benchmarks load one recording under many names

    kind: ClassVar[str] = "github"
    derives_from: ClassVar[DeriveStart] = "forge"

    def ingest(self, store: Store, settings: Settings, progress: Progress = QUIET) -> RunSummary:
        return replay_dir(store, self.directory,
                          rename=self.rename, progress=progress)
