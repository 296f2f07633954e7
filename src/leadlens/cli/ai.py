"""`leadlens ai report` and `leadlens ai share`: did AI assistance change delivery, and how much of
the shipped code is AI-assisted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from leadlens.cli.app import ai_app, out
from leadlens.cli.ingest import report_store
from leadlens.cli.options import (
    REPORT_FORMATS,
    BotsOpt,
    FormatOpt,
    OutOpt,
    PathsOpt,
    RepoOpt,
    ReportFormatOpt,
    SinceOpt,
    StoreOpt,
    UntilOpt,
    check_format,
    check_out,
    deliver,
    emit,
    filters,
    names,
    when,
)
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED, load_settings
from leadlens.errors import UserError
from leadlens.report.text import safe_text

__all__: list[str] = []


@ai_app.command("report")
def ai_report_cmd(
    paths: PathsOpt = None,
    store: StoreOpt = None,
    fmt: ReportFormatOpt = "table",
    out_file: OutOpt = None,
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
        "--resamples", min=99, help="Bootstrap resamples per interval.")] = DEFAULT_RESAMPLES,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = DEFAULT_SEED,
    line_history: Annotated[bool, typer.Option(
        "--line-history", help="With PATHs: also ingest line history (survival, rework).")] = False,
    by: Annotated[str | None, typer.Option(
        "--by", help="A coordination signal as a cohort and a stratum: underspecified, clarified,"
        " cross_tz, blocked, context_switching, collided, escaped"
        " (docs/metrics-coordination.md).")] = None,
) -> None:
    """Did AI assistance change delivery? AI vs other changes, before vs after a pilot, with
    intervals; Amdahl's prediction beside the measured change."""
    check_format(fmt, REPORT_FORMATS)
    settings = load_settings()
    scope = filters(since, until, repo, include_bots, settings)
    store_path = Path(store or settings.store)
    check_out(out_file, store_path)
    from leadlens import engines
    from leadlens.analysis.impact import Cohorts
    from leadlens.attribution import Rules
    from leadlens.report.build import build_ai

    start = when(pilot_start)
    if (pilot_team or control_team) and start is None:
        raise UserError("--pilot-team and --control-team need --pilot-start")
    from leadlens.report.coordination import SIGNALS

    if by is not None and by not in SIGNALS:
        raise UserError(f"--by {by!r}: not a signal; one of {', '.join(SIGNALS)}")
    cohorts = Cohorts(pilot_start=start, pilot_team=names(pilot_team),
                      control_team=names(control_team), resamples=resamples, seed=seed,
                      by_signal=by)
    rules = Rules.of(settings.ai)
    with report_store(paths, store, settings, line_history) as (st, ok):
        section = build_ai(engines.connect(st), scope, rules, cohorts,
                           rework_days=settings.rework_days, settings=settings)
    deliver(fmt, section, store=store_path, to_file=out_file, html_name="ai-report.html",
            ingest_ok=ok)


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
    from leadlens import pipeline

    check_format(fmt)
    settings = load_settings()
    from leadlens.cli.progress import blame_bar

    with blame_bar() as progress:
        shares = pipeline.ai_share(path, from_rev, to_rev, settings, releases=releases,
                                   include=include or (), exclude=exclude or (),
                                   detect_moves=detect_moves, jobs=jobs, progress=progress)
    if fmt == "json":
        data: Any = [s.to_json() for s in shares] if releases else shares[0].to_json()
        emit(json.dumps(data, indent=2, ensure_ascii=False) + "\n", None)
        return
    from rich import box
    from rich.table import Table

    table = Table(title="AI share of shipped code", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("from", "to"):
        table.add_column(col, overflow="fold")
    for col in ("lines", "AI lines", "AI %"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("top authors", overflow="fold")
    for s in shares:
        top = ", ".join(f"{name} {lines:,}" for name, lines in list(s.by_author.items())[:3])
        table.add_row(safe_text(s.from_rev), safe_text(s.to_rev), f"{s.total_lines:,}",
                      f"{s.ai_lines:,}", f"{s.ai_percentage:.2f}", safe_text(top or "-"))
    out.print(table)
    commits = len({sha for s in shares for sha in s.ai_commits})
    out.print(f"{commits} AI-assisted commit{'s' if commits != 1 else ''} with lines at --to;"
              " --format json lists each with its evidence.", highlight=False)
