"""`leadlens report` and `leadlens changes`: where delivery time goes, and one row per change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadlens.cli.app import app, err
from leadlens.cli.derive import warn_stale
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
    check_out,
    deliver,
    filters,
    one_line,
    open_out,
    to_terminal,
    when,
)
from leadlens.config import DEFAULT_K, load_settings
from leadlens.errors import UserError

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
        "--as-of", help="Measure as of this time (default: now, UTC): in-flight ages, and the"
        " trend's twelve-month windows, which end here.")] = None,
    audit: Annotated[bool, typer.Option(
        "--audit", help="Add the policy audit of the scope's changes (docs/audit.md).")] = False,
    policy_file: Annotated[Path | None, typer.Option(
        "--policy", help="With --audit: the policy file (default: leadlens.toml's [policy], or"
        " .leadlens/policy.toml).")] = None,
    codeowners: Annotated[Path | None, typer.Option(
        "--codeowners", help="With --audit: a CODEOWNERS file to apply.")] = None,
    per_person: Annotated[bool, typer.Option(
        "--per-person", help="Name people in the coordination signals (time zones, questions,"
        " context switching, ...); team-level only by default.")] = False,
    coordination: Annotated[bool, typer.Option(
        "--coordination/--no-coordination", help="The specification-quality and coordination"
        " sections (docs/metrics-coordination.md); --no-coordination is faster.")] = True,
    simulate: Annotated[bool, typer.Option(
        "--simulate/--no-simulate", help="Simulate \"AI makes coding 50% faster and 40% more"
        " changes arrive\" in the what-if section (docs/report-json.md, whatif);"
        " --no-simulate is faster.")] = True,
) -> None:
    """Where does delivery time go, and what could speeding up any stage buy?"""
    check_format(fmt, REPORT_FORMATS)
    if per_person and not coordination:
        raise UserError("--per-person names people in the coordination sections, which"
                        " --no-coordination leaves out")
    settings = load_settings()
    scope = filters(since, until, repo, include_bots, settings)
    store_path = Path(store or settings.store)
    check_out(out_file, store_path)
    at = when(as_of)
    from leadlens import engines
    from leadlens.analysis.impact import Cohorts
    from leadlens.attribution import Rules
    from leadlens.report.build import build_report

    Rules.of(settings.ai)  # bad AI rule settings fail now, not after the ingest and the flow
    policy = owners = None
    if audit:  # a bad policy fails now, not after the ingest and the report
        from leadlens.cli.audit import load, read_codeowners

        policy, owners = load(policy_file), read_codeowners(codeowners)
    with report_store(paths, store, settings, line_history) as (st, ok):
        report = build_report(engines.connect(st), scope, k=k, rework_days=settings.rework_days,
                              as_of=at, settings=settings, ai=Cohorts(per_metric=False),
                              coordination=coordination, per_person=per_person,
                              simulate=simulate)
        if policy is not None:
            from leadlens.cli.audit import audit_of

            doc = audit_of(st, scope, settings, policy, policy_file, owners, codeowners)[2]
            report = report.model_copy(update={"audit": doc})
    deliver(fmt, report, store=store_path, to_file=out_file, html_name="report.html",
            ingest_ok=ok)


@app.command("changes")
def changes_cmd(
    store: StoreOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv")] = "jsonl",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    repo: RepoOpt = None,
    exclude_bots: Annotated[bool, typer.Option(
        "--exclude-bots", help="Leave changes by automation bots out (listed, marked bot: true,"
        " by default).")] = False,
    include_bots: Annotated[bool, typer.Option(
        "--include-bots", hidden=True, help="Bot changes are listed by default.")] = False,
) -> None:
    """One row per change, bot changes marked: ids, commits, milestones, stage seconds, lead time,
    size."""
    check_format(fmt, ("jsonl", "csv"))
    if include_bots and exclude_bots:
        raise UserError("--include-bots and --exclude-bots contradict each other (bot changes are"
                        " listed by default)")
    settings = load_settings()
    # An export lists every change (DESIGN.md, Bots and agents: nothing is dropped silently).
    scope = filters(since, until, repo, not exclude_bots, settings)
    store_path = Path(store or settings.store)
    check_out(out_file, store_path)
    from leadlens import engines
    from leadlens.attribution import Rules
    from leadlens.report.changes import change_rows, write_csv, write_jsonl
    from leadlens.store import open_store
    from leadlens.store.db import limit_memory

    with open_store(store_path, read_only=True) as st:
        warn_stale(st, settings)
        limit_memory(st, settings.memory_limit)
        stages, rows, notes = change_rows(engines.connect(st), scope, Rules.of(settings.ai))
        for note in notes:  # standard error: standard output is the data
            err.print(f"note: {note}", highlight=False, markup=False)
        if to_terminal(out_file):  # one change, one line: a title's line break is not ours
            rows = (one_line(r) for r in rows)
        with open_out(out_file, store=store_path) as fh:
            if fmt == "csv":
                write_csv(rows, fh, stages)
            else:
                write_jsonl(rows, fh)
