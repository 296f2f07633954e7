"""`leadlens report` and `leadlens changes`: where delivery time goes, and one row per change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadlens.cli.app import app
from leadlens.cli.ingest import report_store
from leadlens.cli.options import (
    REPORT_FORMATS,
    BotsOpt,
    OutOpt,
    PathsOpt,
    RepoOpt,
    ReportFormatOpt,
    SinceOpt,
    StoreOpt,
    UntilOpt,
    check_format,
    deliver,
    filters,
    open_out,
    when,
)
from leadlens.config import DEFAULT_K, load_settings
from leadlens.store import open_store
from leadlens.store.db import limit_memory

__all__: list[str] = []



@app.command("report")
def report_cmd(
    paths: PathsOpt = None,
    store: StoreOpt = None,
    fmt: ReportFormatOpt = "table",
    out_file: OutOpt = None,
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
    check_format(fmt, REPORT_FORMATS)
    settings = load_settings()
    scope = filters(since, until, repo, include_bots, settings)
    at = when(as_of)
    from leadlens import engines
    from leadlens.analysis.impact import Cohorts
    from leadlens.attribution import Rules
    from leadlens.report.build import build_report

    Rules.of(settings.ai)  # bad AI rule settings fail now, not after the ingest and the flow
    with report_store(paths, store, settings, line_history) as (st, ok):
        report = build_report(engines.connect(st), scope, k=k, rework_days=settings.rework_days,
                              as_of=at, settings=settings, ai=Cohorts(per_metric=False))
    deliver(fmt, report, html_target=Path(store or settings.store).parent / "report.html",
            to_file=out_file, ingest_ok=ok)


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
    check_format(fmt, ("jsonl", "csv"))
    settings = load_settings()
    scope = filters(since, until, repo, include_bots, settings)
    from leadlens import engines
    from leadlens.attribution import Rules
    from leadlens.report.changes import change_rows, write_csv, write_jsonl

    with open_store(store or settings.store, read_only=True) as st:
        limit_memory(st, settings.memory_limit)
        stages, rows = change_rows(engines.connect(st), scope, Rules.of(settings.ai))
        with open_out(out_file) as fh:
            if fmt == "csv":
                write_csv(rows, fh, stages)
            else:
                write_jsonl(rows, fh)
