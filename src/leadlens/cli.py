"""Thin Typer app: parse arguments, call one library function, render. Exit 0 ok, 2 bad input."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import pyarrow as pa
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from leadlens import __version__
from leadlens.analysis.amdahl import DEFAULT_K
from leadlens.config import Settings, load_settings
from leadlens.errors import UserError
from leadlens.sources.git import IngestReport, ingest_git
from leadlens.store import Store, open_store
from leadlens.store.db import limit_memory

if TYPE_CHECKING:
    from leadlens.metrics.flow import Filters
    from leadlens.metrics.inventory import RepoInventory

__all__ = ["app", "main"]

app = typer.Typer(
    name="leadlens",
    help="Measure a delivery pipeline end to end, from the systems a team already has.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(help="Read a source into the store (incremental, idempotent).",
                         no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
ai_app = typer.Typer(help="AI assistance: attribution with evidence, share of shipped code, impact.",
                     no_args_is_help=True)
app.add_typer(ai_app, name="ai")

out = Console()
err = Console(stderr=True)

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB store file (default: .leadlens/leadlens.duckdb)."),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table | json")]


def _version(value: bool) -> None:
    if value:
        out.print(f"leadlens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """leadlens: where does work wait, and what can speeding up any stage buy?"""


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} commits/s" if speed else "", style="cyan")


class _Bar:
    """Rich progress on a terminal; silent otherwise (CI logs, pipes)."""

    def __init__(self, enabled: bool) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Rate(),
            TimeElapsedColumn(), console=err, transient=False,
        ) if enabled else None
        self.task: Any = None

    def start(self, total: int, description: str) -> None:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task(description, total=total)

    def advance(self, commits: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, commits)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


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
    settings = load_settings()
    if name and len(paths) > 1:
        raise UserError("--name names one repository; pass a single PATH with it")
    _check_format(fmt)
    bar = _Bar(enabled=err.is_terminal and not quiet)
    with open_store(store or settings.store) as st:
        report = _ingest(st, paths, settings, bar, name=name, branch=branch,
                         line_history=line_history, jobs=jobs, derive=derive)
        if not quiet:
            _render_inventory(_inventory(st), fmt)
    if report.failed:
        raise typer.Exit(2)


@ingest_app.command("github")
def ingest_github_cmd(
    repo: Annotated[str | None, typer.Argument(
        metavar="OWNER/REPO", help="The repository (its git clone in the store has this name).")] = None,
    from_dir: Annotated[Path | None, typer.Option(
        "--from-dir", help="Replay recorded API objects (DIR/*.jsonl) instead of calling GitHub.")] = None,
    token_env: Annotated[str, typer.Option(
        "--token-env", help="Environment variable holding the token.")] = "GITHUB_TOKEN",
    api_url: Annotated[str | None, typer.Option(
        "--api-url", help="REST API URL (GitHub Enterprise: https://HOST/api/v3).")] = None,
    max_requests: Annotated[int | None, typer.Option(
        "--max-requests", min=1, help="Stop after this many requests; the next run resumes.")] = None,
    max_wait: Annotated[float, typer.Option(
        "--max-wait", min=0, help="Longest rate-limit wait to sit out, in seconds.")] = 900.0,
    store: StoreOpt = None,
    derive: Annotated[bool, typer.Option(
        "--derive/--no-derive", help="Join pull requests to changes afterwards.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Ingest GitHub pull requests, reviews, comments, checks, deployments, releases and issues."""
    from leadlens.sources.github.ingest import ingest_github, replay_github
    from leadlens.sources.github.summary import Wait

    settings = load_settings()
    _check_format(fmt)
    if (repo is None) == (from_dir is None):
        raise UserError("name one repository (OWNER/REPO) or pass --from-dir DIR, not both")
    status = err.status("") if err.is_terminal and not quiet else None

    def on_wait(wait: Wait) -> None:
        until = datetime.now(UTC) + timedelta(seconds=wait.seconds)
        err.print(f"waiting {wait.seconds:,.0f}s for {wait.reason} (until {until:%H:%M:%S} UTC)",
                  highlight=False, markup=False)

    class _Line:
        def update(self, text: str) -> None:
            if status is not None:
                status.update(text)

    with open_store(store or settings.store) as st:
        try:
            if status is not None:
                status.start()
            if from_dir is not None:
                summary = replay_github(st, from_dir, bot_pattern=settings.bot_pattern,
                                        agent_pattern=settings.agent_pattern, derive=derive,
                                        production_pattern=settings.production_pattern)
            else:
                assert repo is not None
                summary = ingest_github(
                    st, repo, token_env=token_env, api_url=api_url or settings.github_api_url,
                    max_requests=max_requests, max_wait=max_wait,
                    overlap=timedelta(minutes=settings.github_overlap_minutes),
                    bot_pattern=settings.bot_pattern, agent_pattern=settings.agent_pattern,
                    production_pattern=settings.production_pattern,
                    progress=_Line(), on_wait=on_wait, derive=derive)
        finally:
            if status is not None:
                status.stop()
    data = summary.to_json()
    if not quiet:
        _render_github(data, fmt)
    _github_notes(data)
    if summary.failed and summary.stopped:
        raise UserError(summary.stopped)
    if summary.malformed:
        raise typer.Exit(2)


def _render_github(data: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        _github_table(data)


def _github_table(data: dict[str, Any]) -> None:
    table = Table(title=f"GitHub {data['mode']}: {', '.join(data['repos']) or 'nothing'}",
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
        out.print(f"{data['requests']:,} requests ({data['not_modified']:,} not modified),"
                  f" {len(data['waits'])} waits ({waited:,.0f}s)", highlight=False)


def _github_notes(data: dict[str, Any]) -> None:
    reasons: dict[str, int] = {}
    for s in data["skipped"]:
        key = f"{s['resource']}: {s['reason']}"
        reasons[key] = reasons.get(key, 0) + 1
    for reason, n in reasons.items():
        err.print(f"[yellow]skipped:[/] {n} x {escape(reason)} (see table skipped_objects)",
                  highlight=False)
    for line in data["malformed"]:
        err.print(f"[red]malformed:[/] {escape(line)}", highlight=False)
    for w in data["warnings"]:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    if data["stopped"] and not data["failed"]:
        err.print(f"[yellow]stopped early:[/] {escape(data['stopped'])}; run again to continue",
                  highlight=False)


@app.command("summary")
def summary_cmd(store: StoreOpt = None, fmt: FormatOpt = "table") -> None:
    """What the store holds: repositories, commits and their time span."""
    _check_format(fmt)
    with open_store(store or load_settings().store, read_only=True) as st:
        _render_inventory(_inventory(st), fmt)


SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="Changes merged at or after: 2024-01-31, an ISO time, or 90d / 12w ago.")]
UntilOpt = Annotated[str | None, typer.Option(
    "--until", help="Changes merged before (a date includes that whole day).")]
RepoOpt = Annotated[list[str] | None, typer.Option(
    "--repo", help="Only this repository (OWNER/REPO); repeat for several.")]
BotsOpt = Annotated[bool, typer.Option(
    "--include-bots", help="Count changes by automation bots in flow metrics.")]


def _when(text: str | None, *, until: bool = False) -> datetime | None:
    """A date, an ISO-8601 time (UTC unless it has an offset), or ``N[dw]`` ago."""
    if text is None:
        return None
    rel = re.fullmatch(r"(\d+)\s*([dw])", text.strip())
    if rel:
        n = int(rel.group(1)) * (7 if rel.group(2) == "w" else 1)
        return datetime.now(UTC) - timedelta(days=n)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            day = datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)
            return day + timedelta(days=1) if until else day
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"not a date: {text!r} (use 2024-01-31, 2024-01-31T12:00:00Z"
                        " or 90d)") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _filters(since: str | None, until: str | None, repos: list[str] | None, include_bots: bool,
             settings: Settings) -> Filters:
    from leadlens.metrics.flow import Filters

    lo, hi = _when(since), _when(until, until=True)
    if lo is not None and hi is not None and hi <= lo:
        raise UserError("--until must come after --since")
    return Filters(since=lo, until=hi, repos=tuple(repos or ()), include_bots=include_bots,
                   bot_pattern=settings.bot_pattern, agent_pattern=settings.agent_pattern,
                   activity_window=timedelta(hours=settings.activity_window_hours))


def _ingest(st: Store, paths: list[Path], settings: Settings, bar: _Bar, *,
            name: str | None = None, branch: str | None = None, line_history: bool = False,
            jobs: int | None = None, derive: bool = True) -> IngestReport:
    """Ingest git PATHs with the settings and a progress bar; print one line per repository."""
    try:
        result = ingest_git(
            st, paths, name=name, branch=branch, line_history=line_history,
            jobs=jobs or settings.jobs, known_hosts=settings.known_hosts,
            release_pattern=settings.release_tag_pattern, progress=bar, derive=derive,
            forge_patterns={"bot_pattern": settings.bot_pattern,
                            "agent_pattern": settings.agent_pattern,
                            "production_pattern": settings.production_pattern})
    finally:
        bar.stop()
    _print_outcomes(result)
    return result


@app.command("report")
def report_cmd(
    paths: Annotated[list[Path] | None, typer.Argument(
        metavar="PATH", help="Repositories to ingest (incrementally) first.")] = None,
    store: StoreOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json | html")] = "table",
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Write the report here (html default: .leadlens/report.html).")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    repo: RepoOpt = None,
    include_bots: BotsOpt = False,
    k: Annotated[float, typer.Option("--k", min=1.0, help="Speed-up factor for the Amdahl"
                                     " what-if column speedup_at_k.")] = DEFAULT_K,
    line_history: Annotated[bool, typer.Option(
        "--line-history", help="With PATHs: also ingest line history (rework rate).")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Age in-flight changes as of this time (default: now).")] = None,
) -> None:
    """Where does delivery time go, and what could speeding up any stage buy?"""
    _check_report_format(fmt)
    settings = load_settings()
    filters = _filters(since, until, repo, include_bots, settings)
    from leadlens.analysis.impact import Cohorts
    from leadlens.report.build import build_report

    with _report_store(paths, store, settings, line_history) as (st, ok):
        report = build_report(st, filters, k=k, rework_days=settings.rework_days,
                              as_of=_when(as_of), settings=settings, ai=Cohorts(per_metric=False))

    def html() -> str:
        from leadlens.report.html import render_html

        return render_html(report)

    def table() -> None:
        from leadlens.report.terminal import render_terminal

        render_terminal(report, out)

    _deliver(fmt, out_file or Path(store or settings.store).parent / "report.html",
             lambda: report.model_dump_json(indent=2) + "\n", html, table, to_file=out_file)
    if not ok:
        raise typer.Exit(2)


@contextmanager
def _report_store(paths: list[Path] | None, store: Path | None, settings: Settings,
                  line_history: bool) -> Iterator[tuple[Store, bool]]:
    """The store for a report: read-only, unless PATHs are ingested first (incrementally); and
    whether that ingest went without failures."""
    ok = True
    with open_store(store or settings.store, read_only=not paths) as st:
        if paths:
            ok = not _ingest(st, paths, settings, _Bar(enabled=err.is_terminal),
                             line_history=line_history).failed
        limit_memory(st, settings.memory_limit)
        yield st, ok


def _check_report_format(fmt: str) -> None:
    if fmt not in ("table", "json", "html"):
        raise UserError(f"--format must be table, json or html, not {fmt!r}")


def _deliver(fmt: str, html_target: Path, as_json: Callable[[], str], html: Callable[[], str],
             table: Callable[[], None], *, to_file: Path | None) -> None:
    """JSON to ``to_file`` or stdout; HTML to ``html_target``, its path printed; else the table."""
    if fmt == "json":
        _emit(as_json(), to_file)
    elif fmt == "html":
        _emit(html(), html_target)
        err.print("HTML report written to:", highlight=False)
        out.print(str(html_target.resolve()), highlight=False, soft_wrap=True)
    else:
        table()


@ai_app.command("report")
def ai_report_cmd(
    paths: Annotated[list[Path] | None, typer.Argument(
        metavar="PATH", help="Repositories to ingest (incrementally) first.")] = None,
    store: StoreOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json | html")] = "table",
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Write here (html default: ai-report.html beside the store).")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    repo: RepoOpt = None,
    include_bots: BotsOpt = False,
    pilot_start: Annotated[str | None, typer.Option(
        "--pilot-start", help="Compare changes merged before and after this date.")] = None,
    pilot_team: Annotated[list[str] | None, typer.Option(
        "--pilot-team", help="An author in the pilot (repeatable, or comma-separated).")] = None,
    control_team: Annotated[list[str] | None, typer.Option(
        "--control-team", help="An author in the control group, for difference-in-differences"
        " (repeatable, or comma-separated).")] = None,
    resamples: Annotated[int, typer.Option(
        "--resamples", min=99, help="Bootstrap resamples per interval.")] = 9999,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 20240601,
    line_history: Annotated[bool, typer.Option(
        "--line-history", help="With PATHs: also ingest line history (survival, rework).")] = False,
) -> None:
    """Did AI assistance change delivery? AI vs other changes, before vs after a pilot, with
    intervals; Amdahl's prediction beside the measured change."""
    _check_report_format(fmt)
    settings = load_settings()
    filters = _filters(since, until, repo, include_bots, settings)
    from leadlens.analysis.impact import Cohorts
    from leadlens.report.ai import build_ai

    start = _when(pilot_start)
    if (pilot_team or control_team) and start is None:
        raise UserError("--pilot-team and --control-team need --pilot-start")
    cohorts = Cohorts(pilot_start=start, pilot_team=_names(pilot_team),
                      control_team=_names(control_team), resamples=resamples, seed=seed)
    with _report_store(paths, store, settings, line_history) as (st, ok):
        section = build_ai(st, filters, settings.ai_rule_set(), cohorts,
                           rework_days=settings.rework_days)

    def html() -> str:
        from leadlens.report.html import render_ai_html

        return render_ai_html(section, datetime.now(UTC))

    def table() -> None:
        from leadlens.report.terminal_ai import render_ai

        render_ai(section, out)

    _deliver(fmt, out_file or Path(store or settings.store).parent / "ai-report.html",
             lambda: section.model_dump_json(indent=2) + "\n", html, table, to_file=out_file)
    if not ok:
        raise typer.Exit(2)


def _names(values: list[str] | None) -> tuple[str, ...]:
    return tuple(n.strip() for v in values or () for n in v.split(",") if n.strip())


@app.command("changes")
def changes_cmd(
    store: StoreOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv")] = "jsonl",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    repo: RepoOpt = None,
    include_bots: BotsOpt = False,
) -> None:
    """One row per change: ids, commits, milestones, stage seconds, lead time, size."""
    if fmt not in ("jsonl", "csv"):
        raise UserError(f"--format must be jsonl or csv, not {fmt!r}")
    settings = load_settings()
    filters = _filters(since, until, repo, include_bots, settings)
    from leadlens.report.changes import change_rows, write_csv, write_jsonl

    with open_store(store or settings.store, read_only=True) as st:
        limit_memory(st, settings.memory_limit)
        stages, rows = change_rows(st, filters, settings.ai_rule_set())
        with _open_out(out_file) as fh:
            if fmt == "csv":
                write_csv(rows, fh, stages)
            else:
                write_jsonl(rows, fh)


@contextmanager
def _open_out(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        tmp.replace(path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from exc


def _emit(text: str, path: Path | None) -> None:
    with _open_out(path) as fh:
        fh.write(text)


def _short_ref(ref: str | None) -> str:
    if ref is None:
        return "unknown"
    return ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")


def _inventory(st: Store) -> list[RepoInventory]:
    # Ibis is imported only when a summary is asked for: `ingest -q` stays lean.
    from leadlens.metrics.inventory import inventory

    return inventory(st)


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise UserError(f"--format must be table or json, not {fmt!r}")


def _print_outcomes(report: IngestReport) -> None:
    for o in report.outcomes:
        for w in o.warnings:
            err.print(f"[yellow]warning:[/] {w}", highlight=False, markup=True)
        if o.error:
            err.print(f"[red]error:[/] {o.error}", highlight=False)
        elif o.up_to_date:
            err.print(f"{o.repo}: up to date", highlight=False)
        else:
            extra = f", line history for {o.hunks_commits}" if o.hunks_commits else ""
            gone = f", {o.unreachable} now unreachable" if o.unreachable else ""
            derived = f"; {o.changes:,} changes" if o.changes is not None else ""
            err.print(f"{o.repo}: {o.commits_added} new commits{extra}{gone}{derived}",
                      highlight=False)


def _render_inventory(rows: list[RepoInventory], fmt: str) -> None:
    if fmt == "json":
        data = [
            {**r.__dict__,
             "first_commit": r.first_commit.isoformat() if r.first_commit else None,
             "last_commit": r.last_commit.isoformat() if r.last_commit else None}
            for r in rows
        ]
        sys.stdout.write(json.dumps({"repositories": data}, indent=2) + "\n")
        return
    if not rows:
        out.print("The store is empty: run `leadlens ingest git PATH`.")
        return
    table = Table(title="leadlens store", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("repository", overflow="fold", min_width=12)
    table.add_column("mainline", overflow="ellipsis", max_width=10)
    for col in ("commits", "authors"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("from", no_wrap=True)
    table.add_column("to", no_wrap=True)
    table.add_column("tags", justify="right", no_wrap=True)
    for r in rows:
        table.add_row(
            r.repo, _short_ref(r.default_branch),
            f"{r.commits:,}" + (f" (+{r.unreachable:,} unreachable)" if r.unreachable else ""),
            f"{r.authors:,}",
            f"{r.first_commit:%Y-%m-%d}" if r.first_commit else "-",
            f"{r.last_commit:%Y-%m-%d}" if r.last_commit else "-", f"{r.tags:,}",
        )
    out.print(table)
    commits = sum(r.commits for r in rows)
    firsts = [r.first_commit for r in rows if r.first_commit]
    lasts = [r.last_commit for r in rows if r.last_commit]
    span = f", {min(firsts):%Y-%m-%d} to {max(lasts):%Y-%m-%d}" if firsts and lasts else ""
    noun = "repository" if len(rows) == 1 else "repositories"
    out.print(f"{len(rows)} {noun}, {commits:,} commits{span}.", highlight=False)


@ai_app.command("share")
def ai_share_cmd(
    path: Annotated[Path, typer.Argument(
        help="A local repository (work tree, bare or no-checkout clone).")] = Path("."),
    from_rev: Annotated[str | None, typer.Option(
        "--from", help="Lines from commits after this revision count (with --releases: the first"
        " release tag).")] = None,
    to_rev: Annotated[str | None, typer.Option(
        "--to", help="The shipped code: lines present at this revision (default HEAD; with"
        " --releases: the last release tag).")] = None,
    include: Annotated[list[str] | None, typer.Option(
        "--include", help="Count only files matching this glob (git wildmatch; repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", help="Leave out files matching this glob (repeatable).")] = None,
    releases: Annotated[bool, typer.Option(
        "--releases", help="One result per consecutive pair of release tags.")] = False,
    detect_moves: Annotated[bool, typer.Option(
        "--detect-moves", help="Follow lines moved or copied between files (git blame -M -C).")] = False,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="git blame processes at once (default: one per core).")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """AI share of shipped code: lines at --to that commits after --from wrote, AI vs human."""
    from leadlens.analysis.share import share_of
    from leadlens.sources.git.blame import blame_ranges, share_ranges
    from leadlens.sources.git.client import open_repo

    _check_format(fmt)
    settings = load_settings()
    repo = open_repo(path)
    ranges = share_ranges(repo, from_rev, to_rev, releases=releases,
                          release_pattern=settings.release_tag_pattern)
    rules = settings.ai_rule_set()
    # Files, not commits: the ingest bar's commits/s column would mislead here.
    with Progress(TextColumn("git blame"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
                  TimeElapsedColumn(), console=err, disable=not err.is_terminal) as bar:
        task = bar.add_task("blame", total=None)
        blames = blame_ranges(repo, ranges, include=include or (), exclude=exclude or (),
                              detect_moves=detect_moves, jobs=jobs or settings.jobs,
                              progress=lambda done, total: bar.update(task, completed=done,
                                                                      total=total))
    shares = [share_of(b, rules) for b in blames]
    if fmt == "json":
        data: Any = [s.to_json() for s in shares] if releases else shares[0].to_json()
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(title="AI share of shipped code", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("from", "to"):
        table.add_column(col, overflow="fold")
    for col in ("lines", "AI lines", "AI %"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("top authors", overflow="fold")
    for s in shares:
        top = ", ".join(f"{name} {lines:,}" for name, lines in list(s.by_author.items())[:3])
        # Text, not markup: names like "copilot-swe-agent[bot]" would read as Rich tags.
        table.add_row(Text(s.from_rev), Text(s.to_rev), f"{s.total_lines:,}", f"{s.ai_lines:,}",
                      f"{s.ai_percentage:.2f}", Text(top or "-"))
    out.print(table)
    commits = len({sha for s in shares for sha in s.ai_commits})
    out.print(f"{commits} AI-assisted commit{'s' if commits != 1 else ''} with lines at --to;"
              " --format json lists each with its evidence.", highlight=False)


def main() -> None:
    """Console entry point: one-line errors, never a traceback (LEADLENS_DEBUG=1 shows it)."""
    # Arrow's default pool (mimalloc) keeps freed batches mapped; the system allocator returns
    # them, which keeps a long ingest's memory flat (docs/benchmarks.md).
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        code = app(standalone_mode=False)  # returns the exit code of a typer.Exit
        sys.exit(code if isinstance(code, int) else 0)
    except UserError as exc:
        err.print(f"leadlens: error: {exc}", highlight=False, markup=False)
        sys.exit(2)
    except typer.TyperException as exc:  # usage errors: the parser's message, exit 2
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err.print(f"leadlens: error: {exc.format_message()}", highlight=False, markup=False)
        sys.exit(exc.exit_code)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", None)
        sys.exit(code if code is not None else getattr(exc, "code", 0))
    except typer.Abort:
        err.print("leadlens: aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("leadlens: interrupted; what was stored so far is kept")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("LEADLENS_DEBUG"):
            raise
        err.print(f"leadlens: internal error: {type(exc).__name__}: {exc} "
                  "(set LEADLENS_DEBUG=1 for details and please report it)",
                  highlight=False, markup=False)
        sys.exit(1)
