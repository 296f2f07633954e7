"""`leadlens ingest git|github|jira` and `leadlens summary`: read sources into the store, show it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadlens.cli.app import app, err, ingest_app, labelled, out, session
from leadlens.cli.derive import print_rederived, warn_stale
from leadlens.cli.inventory import render_inventory
from leadlens.cli.options import CollectSinceOpt, FormatOpt, StoreOpt, check_format, emit, when
from leadlens.config import (
    DEFAULT_GITHUB_MAX_WAIT,
    DEFAULT_GITHUB_TOKEN_ENV,
    DEFAULT_JIRA_EMAIL_ENV,
    DEFAULT_JIRA_TOKEN_ENV,
    Settings,
    load_settings,
)
from leadlens.errors import UserError
from leadlens.report.text import safe_text

if TYPE_CHECKING:  # the pipeline, sources, store and progress bars load on use: `gate` needs none
    from leadlens.cli.progress import Bar
    from leadlens.sources.base import Source, Wait
    from leadlens.sources.git import IngestReport
    from leadlens.store import Store

__all__ = ["ingest_paths", "report_store"]

# Commits are stored batch by batch and the run's ref tips only at its end, so the next run reads
# just what this one did not store.
_COMMITS_KEPT = "the commits read so far"


@ingest_app.command("git")
def ingest_git_cmd(
    paths: Annotated[list[Path], typer.Argument(
        metavar="PATH", help="Local repositories (work tree, bare or no-checkout clone).")],
    store: StoreOpt = None,
    name: Annotated[str | None, typer.Option(
        "--name", help="Repository name in the store (one PATH only) (default: OWNER/REPO).")] = None,
    branch: Annotated[str | None, typer.Option(
        "--branch", help="Mainline branch (default: origin/HEAD, else HEAD).")] = None,
    line_history: Annotated[bool, typer.Option(
        "--line-history", help="Also store changed line ranges (git log -p -U0).")] = False,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="Git processes at once (default: one per core).")] = None,
    derive: Annotated[bool, typer.Option(
        "--derive/--no-derive",
        help="Rebuild changes and milestones after the ingest (a report needs them).")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Ingest git history: commits, files, refs and tags; only new commits on later runs."""
    from leadlens.cli.progress import Bar
    from leadlens.store import open_store
    from leadlens.store.inventory import inventory

    settings = load_settings()
    if name and len(paths) > 1:
        raise UserError("--name names one repository; pass a single PATH with it")
    check_format(fmt)
    session.keeps = _COMMITS_KEPT
    with open_store(store or settings.store) as st:
        report = ingest_paths(st, paths, settings, Bar(enabled=err.is_terminal and not quiet),
                              name=name, branch=branch, line_history=line_history, jobs=jobs,
                              derive=derive)
        if not quiet:
            render_inventory(inventory(st), fmt)
    if report.failed:
        raise typer.Exit(2)


@ingest_app.command("github")
def ingest_github_cmd(
    repo: Annotated[str | None, typer.Argument(
        metavar="OWNER/REPO", help="The repository (its git clone in the store has this name).")] = None,
    from_dir: Annotated[Path | None, typer.Option(
        "--from-dir", help="Replay recorded API objects (DIR/*.jsonl) instead of calling GitHub.")] = None,
    token_env: Annotated[str, typer.Option(
        "--token-env", help="Environment variable holding the token.")] = DEFAULT_GITHUB_TOKEN_ENV,
    api_url: Annotated[str | None, typer.Option(
        "--api-url", help="REST API URL (GitHub Enterprise: https://HOST/api/v3).")] = None,
    trust_settings_api_url: Annotated[bool, typer.Option(
        "--trust-settings-api-url", help="Send the token to the github_api_url setting's host"
        " (settings files can come with a repository, so not without this flag).")] = False,
    max_requests: Annotated[int | None, typer.Option(
        "--max-requests", min=1, help="Stop after this many requests; the next run resumes.")] = None,
    max_wait: Annotated[float, typer.Option(
        "--max-wait", min=0, help="Longest rate-limit wait to sit out, in seconds.")
    ] = DEFAULT_GITHUB_MAX_WAIT,
    api: Annotated[str | None, typer.Option(
        "--api", help="How pull requests are read: graphql (a page of them with their reviews,"
        " commits, timeline and checks a query) or rest (five requests each) (default: the"
        " github_api setting, graphql).")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="A first collection starts here: nothing updated before it"
        " (2024-01-31, an ISO time, or 90d / 12w ago); later runs go on from their cursor.")
    ] = None,
    record: Annotated[Path | None, typer.Option(
        "--record", help="Also write what GitHub answered to DIR/*.jsonl, for --from-dir.")
    ] = None,
    store: StoreOpt = None,
    derive: Annotated[bool, typer.Option(
        "--derive/--no-derive", help="Join pull requests to changes afterwards.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Ingest GitHub pull requests, reviews, comments, checks, deployments, releases and issues."""
    import httpx

    from leadlens.sources.github.client import is_default_api
    from leadlens.sources.github.ingest import GithubReplay, GithubSource
    from leadlens.sources.github.source import API_MODES

    settings = load_settings()
    check_format(fmt)
    if (repo is None) == (from_dir is None):
        raise UserError("name one repository (OWNER/REPO) or pass --from-dir DIR, not both")
    if api is not None and api not in API_MODES:
        raise UserError(f"--api must be {' or '.join(API_MODES)}, not {api!r}")
    start = when(since)

    source: Source
    if from_dir is not None:
        if api is not None or start is not None or record is not None:
            raise UserError("--from-dir replays a recording: --api, --since and --record are for"
                            " live runs")
        source = GithubReplay(from_dir)
    else:
        source = GithubSource(repo or "", token_env=token_env, api_url=api_url,
                              trust_settings_api_url=trust_settings_api_url,
                              max_requests=max_requests, max_wait=max_wait, on_wait=_on_wait,
                              api=api, since=start, record=record)
        url = source.api_url_in(settings)  # refused here, before the store opens, if it must be
        if not is_default_api(url):
            # The parsed form: hosts in punycode (a look-alike name shows), nothing unprintable.
            where = "--api-url" if api_url is not None else "the github_api_url setting"
            err.print(f"GitHub API: {httpx.URL(url)} ({where}); the token in {token_env} is sent"
                      " there", highlight=False, markup=False)
    # Each page is stored with its cursor: an interrupted sweep goes on from the last one.
    _ingest_api(source, settings, store, "the pages of GitHub data read so far", derive=derive,
                quiet=quiet, fmt=fmt)


@ingest_app.command("jira")
def ingest_jira_cmd(
    projects: Annotated[list[str] | None, typer.Argument(
        metavar="PROJECT", help="Jira project keys (ABC); with --from-dir, all when none.")] = None,
    url: Annotated[str | None, typer.Option(
        "--url", help="The Jira site: https://YOURSITE.atlassian.net or a Data Center's base URL.")
    ] = None,
    from_dir: Annotated[Path | None, typer.Option(
        "--from-dir", help="Replay recorded API objects (DIR/*.jsonl) instead of calling Jira.")] = None,
    token_env: Annotated[str | None, typer.Option(
        "--token-env", help="Environment variable holding the API token or personal access token"
        f" (default: the jira_token_env setting, {DEFAULT_JIRA_TOKEN_ENV}).")] = None,
    email_env: Annotated[str | None, typer.Option(
        "--email-env", help="Environment variable holding the e-mail for a Cloud API token"
        f" (default: the jira_email_env setting, {DEFAULT_JIRA_EMAIL_ENV}).")] = None,
    store_emails: Annotated[bool, typer.Option(
        "--store-emails", help="Keep users' e-mail addresses (not kept by default).")] = False,
    trust_settings_url: Annotated[bool, typer.Option(
        "--trust-settings-url", help="Send the token to the jira_url setting's host (settings"
        " files can come with a repository, so not without this flag).")] = False,
    since: CollectSinceOpt = None,
    store: StoreOpt = None,
    derive: Annotated[bool, typer.Option(
        "--derive/--no-derive", help="Run the derive step afterwards.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Ingest Jira issues with their changelogs, comments, worklogs and links; statuses, issue
    types, sprints and users."""
    from leadlens.sources.jira.ingest import JiraReplay, JiraSource

    settings = load_settings()
    check_format(fmt)
    keys = tuple(projects or ())
    source: Source
    if from_dir is not None:
        if url is not None or since is not None:
            raise UserError("--from-dir replays a recording as recorded: --url and --since are not"
                            " used with it")
        source = JiraReplay(from_dir, keys, store_emails=store_emails or None)
    else:
        if not keys:
            raise UserError("name at least one Jira project key (ABC), or replay with --from-dir")
        jira = JiraSource(keys, url=url, token_env=token_env, email_env=email_env,
                          store_emails=store_emails or None,
                          trust_settings_url=trust_settings_url, on_wait=_on_wait,
                          since=when(since))
        jira.url_in(settings)  # refused here, before the store opens, if it must be
        source = jira
    _ingest_api(source, settings, store, "the pages of Jira issues read so far", derive=derive,
                quiet=quiet, fmt=fmt, system="Jira",
                what=", ".join(safe_text(k) for k in keys) or "all projects")


@app.command("summary")
def summary_cmd(store: StoreOpt = None, fmt: FormatOpt = "table") -> None:
    """What the store holds: repositories, commits and their time span."""
    from leadlens.store import open_store
    from leadlens.store.inventory import inventory

    check_format(fmt)
    with open_store(store or load_settings().store, read_only=True) as st:
        render_inventory(inventory(st), fmt)


def ingest_paths(st: Store, paths: list[Path], settings: Settings, bar: Bar, *,
                 name: str | None = None, branch: str | None = None, line_history: bool = False,
                 jobs: int | None = None, derive: bool = True) -> IngestReport:
    """Ingest git PATHs with the settings and a progress bar; print one line per repository."""
    from leadlens import pipeline

    try:
        result = pipeline.ingest_git(st, paths, settings=settings, name=name, branch=branch,
                                     line_history=line_history, jobs=jobs, progress=bar,
                                     derive_after=derive)
    finally:
        bar.stop()
    _print_outcomes(result)
    return result


@contextmanager
def report_store(paths: list[Path] | None, store: Path | None, settings: Settings,
                 line_history: bool) -> Iterator[tuple[Store, bool]]:
    """The store for a report: read-only, unless PATHs are ingested first (incrementally); and
    whether that ingest went without failures."""
    from leadlens.cli.progress import Bar
    from leadlens.store import open_store
    from leadlens.store.db import limit_memory

    ok = True
    if paths:
        session.keeps = _COMMITS_KEPT
    with open_store(store or settings.store, read_only=not paths) as st:
        if paths:
            ok = not ingest_paths(st, paths, settings, Bar(enabled=err.is_terminal),
                                  line_history=line_history).failed
        warn_stale(st, settings)
        limit_memory(st, settings.memory_limit)
        yield st, ok


def _on_wait(wait: Wait) -> None:
    """Say a wait an API source sits out (a rate limit, a retry back-off) and until when."""
    until = datetime.now(UTC) + timedelta(seconds=wait.seconds)
    err.print(f"waiting {wait.seconds:,.0f}s for {safe_text(wait.reason)}"
              f" (until {until:%H:%M:%S} UTC)", highlight=False)


def _ingest_api(source: Source, settings: Settings, store: Path | None, keeps: str, *,
                derive: bool, quiet: bool, fmt: str, system: str = "GitHub",
                what: str | None = None) -> None:
    """Run an API source (GitHub, Jira; live or replay) through the pipeline and report it: its
    table (or JSON), then skipped objects, malformed lines and warnings. ``keeps`` is what an
    interrupted run keeps. Exit 2 on a failed stop or a malformed line."""
    from leadlens import pipeline
    from leadlens.cli.progress import Bar
    from leadlens.store import open_store

    bar = Bar(enabled=err.is_terminal and not quiet)
    session.keeps = keeps
    with open_store(store or settings.store) as st:
        try:
            summary = pipeline.ingest(st, source, settings, bar, derive_after=derive)
        finally:
            bar.stop()
    data = summary.to_json()
    if not quiet:
        if fmt == "json":
            emit(json.dumps(data, indent=2) + "\n", None)
        else:
            _github_table(data, system, what)
    _github_notes(data)
    if summary.failed and summary.stopped:
        raise UserError(summary.stopped)
    if summary.malformed:
        raise typer.Exit(2)


def _github_table(data: dict[str, Any], system: str = "GitHub", what: str | None = None) -> None:
    repos = what or ", ".join(safe_text(r) for r in data["repos"])
    from rich import box
    from rich.table import Table

    table = Table(title=f"{system} {data['mode']}: {repos or 'nothing'}",
                  title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("resource")
    table.add_column("stored", justify="right")
    table.add_column("not stored", justify="right")
    for name in sorted(set(data["stored"]) | set(data["not_stored"])):
        table.add_row(name, f"{data['stored'].get(name, 0):,}",
                      f"{data['not_stored'].get(name, 0):,}" if name in data["not_stored"] else "")
    out.print(table)
    if data["mode"] == "live":
        waited = sum(w["seconds"] for w in data["waits"])
        points = f", {data['points']:,} GraphQL points" if data.get("points") else ""
        out.print(f"{data['requests']:,} requests ({data['not_modified']:,} not modified){points},"
                  f" {len(data['waits'])} waits ({waited:,.0f}s)", highlight=False)


def _github_notes(data: dict[str, Any]) -> None:
    reasons: dict[str, int] = {}
    for s in data["skipped"]:
        key = f"{s['resource']}: {s['reason']}"
        reasons[key] = reasons.get(key, 0) + 1
    for reason, n in reasons.items():
        err.print(labelled("skipped:", "yellow", f"{n} x {reason} (see table skipped_objects)"))
    for line in data["malformed"]:
        err.print(labelled("malformed:", "red", line))
    for w in data["warnings"]:
        err.print(labelled("warning:", "yellow", w))
    print_rederived(data["rederived"])
    if data["stopped"] and not data["failed"]:
        err.print(labelled("stopped early:", "yellow", f"{data['stopped']}; run again to continue"))


def _print_outcomes(report: IngestReport) -> None:
    for o in report.outcomes:
        repo = safe_text(o.repo)
        for w in o.warnings:
            err.print(labelled("warning:", "yellow", w))
        if o.error:
            err.print(labelled("error:", "red", o.error))
        elif o.up_to_date:
            derived = ""
            if o.rederived:  # nothing new in git, yet its derived data was stale
                count = f"{o.changes:,} changes " if o.changes is not None else ""
                derived = f"; {count}derived ({o.rederived})"
            err.print(f"{repo}: up to date{derived}", highlight=False)
        else:
            extra = f", line history for {o.hunks_commits}" if o.hunks_commits else ""
            gone = f", {o.unreachable} now unreachable" if o.unreachable else ""
            derived = f"; {o.changes:,} changes" if o.changes is not None else ""
            # How the changes were derived: incremental, or whole and why (not on a first run).
            how = o.derived_how if o.changes is not None else None
            how = f", {how}" if how and not how.startswith("not derived before") else ""
            err.print(f"{repo}: {o.commits_added} new commits{extra}{gone}{derived}{how}",
                      highlight=False)
    # Other repositories of the store the run derived (a changed setting), and their warnings.
    print_rederived(report.rederived)
    for w in report.warnings:
        err.print(labelled("warning:", "yellow", w))
