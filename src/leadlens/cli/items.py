"""`leadlens items`: one row per work item, from spec to production, with its changes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadlens.cli.app import app
from leadlens.cli.derive import warn_stale
from leadlens.cli.options import (
    SinceOpt,
    StoreOpt,
    UntilOpt,
    check_format,
    check_out,
    filters,
    one_line,
    open_out,
    to_terminal,
)
from leadlens.config import load_settings

__all__: list[str] = []


@app.command("items")
def items_cmd(
    store: StoreOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv")] = "jsonl",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    project: Annotated[list[str] | None, typer.Option(
        "--project", help="Only items of this project (a Jira key, or OWNER/REPO for GitHub"
        " issues); repeat for several.")] = None,
    exclude_bots: Annotated[bool, typer.Option(
        "--exclude-bots", help="Leave items opened by bots out (listed, marked bot: true, by"
        " default).")] = False,
) -> None:
    """One row per work item (created in --since/--until): milestones, stage seconds,
    spec → production, its changes and how each was linked."""
    check_format(fmt, ("jsonl", "csv"))
    settings = load_settings()
    flt = filters(since, until, None, True, settings)  # dates checked as every command does
    store_path = Path(store or settings.store)
    check_out(out_file, store_path)
    from leadlens import engines
    from leadlens.report.changes import write_jsonl
    from leadlens.report.items import ItemScope, item_rows, write_items_csv
    from leadlens.store import open_store
    from leadlens.store.db import limit_memory

    scope = ItemScope(flt.since, flt.until, tuple(project or ()), include_bots=not exclude_bots)
    with open_store(store_path, read_only=True) as st:
        warn_stale(st, settings)
        limit_memory(st, settings.memory_limit)
        stages, rows = item_rows(engines.connect(st), flt, scope)
        if to_terminal(out_file):
            rows = (one_line(r) for r in rows)
        with open_out(out_file, store=store_path) as fh:
            if fmt == "csv":
                write_items_csv(rows, fh, stages)
            else:
                write_jsonl(rows, fh)
