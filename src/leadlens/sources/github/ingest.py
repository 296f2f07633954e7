"""Run a GitHub ingest (live or replayed), then join its pull requests to the git changes."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx

from leadlens.conventions import DEFAULT_AGENT_PATTERN, DEFAULT_BOT_PATTERN
from leadlens.errors import UserError
from leadlens.sources.github.client import DEFAULT_API_URL, Clock, GitHubAPI, SystemClock, make_client
from leadlens.sources.github.mapping import Bots
from leadlens.sources.github.replay import replay_dir
from leadlens.sources.github.source import DEFAULT_OVERLAP, Progress, sync_repo
from leadlens.sources.github.summary import RunSummary, Wait
from leadlens.store import Store
from leadlens.store.db import scalar
from leadlens.store.derive_forge import DEFAULT_PRODUCTION_PATTERN, derive_forge

__all__ = ["ingest_github", "replay_github"]


def ingest_github(store: Store, repo: str, *, token_env: str = "GITHUB_TOKEN",
                  api_url: str = DEFAULT_API_URL, max_requests: int | None = None,
                  max_wait: float = 900.0, overlap: timedelta = DEFAULT_OVERLAP,
                  bot_pattern: str = DEFAULT_BOT_PATTERN, agent_pattern: str = DEFAULT_AGENT_PATTERN,
                  progress: Progress | None = None, on_wait: Callable[[Wait], None] | None = None,
                  transport: httpx.BaseTransport | None = None, clock: Clock | None = None,
                  derive: bool = True, production_pattern: str = DEFAULT_PRODUCTION_PATTERN
                  ) -> RunSummary:
    """Read ``repo`` from the GitHub API (token from the environment variable ``token_env``)."""
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise UserError(f"no GitHub token: set {token_env} to a token that can read the repository"
                        " (or name another variable with --token-env)")
    with make_client(token, api_url, transport) as client:
        api = GitHubAPI(client, token_env=token_env, clock=clock or SystemClock(),
                        max_wait=max_wait, max_requests=max_requests, on_wait=on_wait)
        summary = sync_repo(store, api, repo, bots=Bots(bot_pattern, agent_pattern),
                            overlap=overlap, progress=progress)
    _finish(store, summary, derive, bot_pattern, agent_pattern, production_pattern)
    return summary


def replay_github(store: Store, directory: Path, *, bot_pattern: str = DEFAULT_BOT_PATTERN,
                  agent_pattern: str = DEFAULT_AGENT_PATTERN, derive: bool = True,
                  rename: Callable[[str], str] | None = None,
                  production_pattern: str = DEFAULT_PRODUCTION_PATTERN) -> RunSummary:
    """Load recorded API objects from ``directory`` (see ``replay.replay_dir``)."""
    summary = replay_dir(store, directory, bots=Bots(bot_pattern, agent_pattern), rename=rename)
    _finish(store, summary, derive, bot_pattern, agent_pattern, production_pattern)
    return summary


def _finish(store: Store, summary: RunSummary, derive: bool, bot_pattern: str,
            agent_pattern: str, production_pattern: str) -> None:
    for repo in summary.repos:
        _check_clone(store, repo, summary)
        if derive:
            derive_forge(store, repo, bot_pattern=bot_pattern, agent_pattern=agent_pattern,
                         production_pattern=production_pattern)
            summary.changes_joined[repo] = int(scalar(
                store.con, "SELECT count(*) FROM changes WHERE repo = ? AND number IN"
                " (SELECT number FROM pull_requests WHERE repo = ?)", [repo, repo]) or 0)


def _check_clone(store: Store, repo: str, summary: RunSummary) -> None:
    """Pull requests join git changes by their merge commit: say when the clone lacks them."""
    con = store.con
    if not scalar(con, "SELECT count(*) FROM commits WHERE repo = ?", [repo]):
        if scalar(con, "SELECT count(*) FROM pull_requests WHERE repo = ?", [repo]):
            summary.warnings.append(
                f"{repo}: no git history of this name in the store; its merged pull requests"
                " stand alone (`leadlens ingest git PATH` on its clone joins them to commits)")
        return
    missing = con.execute(
        "SELECT number FROM pull_requests p WHERE repo = ? AND merged_at IS NOT NULL"
        " AND merge_commit_sha IS NOT NULL AND NOT EXISTS (SELECT 1 FROM commits c"
        " WHERE c.repo = p.repo AND c.sha = p.merge_commit_sha) ORDER BY number", [repo]).fetchall()
    if missing:
        shown = ", ".join(f"#{n}" for (n,) in missing[:5]) + (", ..." if len(missing) > 5 else "")
        summary.warnings.append(
            f"{repo}: {len(missing)} merged pull requests have a merge commit that is not in the"
            f" local clone ({shown}): fetch the clone and run `leadlens ingest git` again")
