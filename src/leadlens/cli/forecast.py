"""`leadlens forecast`: when will N more changes or items be done, and how many by a date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadlens.cli.app import app
from leadlens.cli.derive import warn_stale
from leadlens.cli.options import (
    BotsOpt,
    FormatOpt,
    OutOpt,
    RepoOpt,
    SeedOpt,
    StoreOpt,
    check_format,
    check_out,
    emit,
    filters,
    when,
)
from leadlens.config import DEFAULT_SEED, load_settings
from leadlens.errors import UserError
from leadlens.report.text import safe_text

if TYPE_CHECKING:
    import numpy as np

    from leadlens.analysis.scope import Scope
    from leadlens.metrics.flow import Filters
    from leadlens.store import Store

__all__: list[str] = []

# The backtest walks over at most this much history (two years).
LONGEST_HISTORY_DAYS = 730


@app.command("forecast")
def forecast_cmd(
    count: Annotated[int | None, typer.Option(
        "--count", help="When will this many more be done?")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="How many will be done by this date (YYYY-MM-DD, inclusive)?")] = None,
    scope: Annotated[str | None, typer.Option(
        "--scope", help="When will the work items of epic:KEY, label:NAME or milestone:NAME"
        " not done yet be done (with --by: how many of them by then)?")] = None,
    basis: Annotated[str, typer.Option(
        "--basis", help="auto (work items when any was delivered, else changes) | change (merged)"
        " | item (delivered)")] = "auto",
    history: Annotated[int, typer.Option(
        "--history", help="Days of throughput to resample (the last ones before --as-of).")] = 84,
    horizon: Annotated[int, typer.Option(
        "--horizon", help="Days each backtest window predicts.")] = 14,
    runs: Annotated[int, typer.Option("--runs", help="Monte Carlo runs.")] = 10_000,
    seed: SeedOpt = DEFAULT_SEED,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Forecast from this day (default: today, UTC): history ends the day"
        " before.")] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = "table",
    out_file: OutOpt = None,
    repo: RepoOpt = None,
    include_bots: BotsOpt = False,
) -> None:
    """Monte Carlo from historical throughput, with its walk-forward backtest."""
    check_format(fmt)
    wanted = None
    if scope is not None:
        from leadlens.analysis.scope import parse_scope

        wanted = parse_scope(scope)
        if count is not None:
            raise UserError("--scope gives the count (its work items not done yet): leave out"
                            " --count (--by DATE asks how many of them by then)")
        if basis == "change":
            raise UserError("--scope counts work items: its throughput is the delivered work"
                            " items (--basis item), not --basis change")
        basis = "item"
    if count is None and by is None and scope is None:
        raise UserError("ask something: --count N (when will N more be done), --by DATE or"
                        " --scope KIND:NAME")
    if count is not None and count < 1:
        raise UserError(f"--count {count}: at least 1")
    if basis not in ("auto", "change", "item"):
        raise UserError(f"--basis must be auto, change or item, not {basis!r}")
    for name, value, least in (("--history", history, 14), ("--horizon", horizon, 1),
                               ("--runs", runs, 100)):
        if value < least:
            raise UserError(f"{name} {value}: at least {least}")
    start = (when(as_of) or datetime.now(UTC)).date()
    end = None if by is None else (when(by) or datetime.now(UTC)).date()
    if end is not None and end < start:
        raise UserError(f"--by {by}: before the forecast starts ({start})")
    settings = load_settings()
    filt = filters(None, None, repo, include_bots, settings)
    store_path = Path(store or settings.store)
    check_out(out_file, store_path)
    from leadlens.analysis.forecast import forecast
    from leadlens.store import open_store

    with open_store(store_path, read_only=True) as st:
        warn_stale(st, settings)
        days, use_items, latest, the_scope = _daily(st, filt, basis, start, wanted)
    if days.size < history:
        raise UserError(f"too little history: {days.size} day(s) of throughput before {start},"
                        f" --history needs {history} (at least {14})")
    if not days[-history:].sum():
        when_last = ("" if latest is None else f"; the last was done on {latest}: --as-of a day"
                     " after it forecasts from then")
        raise UserError(f"nothing was done in the {history} days before {start}: no throughput"
                        f" to forecast from{when_last}")
    result = forecast(days, start, basis="item" if use_items else "change", history_days=history,
                      horizon_days=horizon, count=count, by=end, runs=runs, seed=seed,
                      scope=the_scope)
    if fmt == "json":
        emit(result.model_dump_json(indent=2) + "\n", out_file, store=store_path)
    else:
        # The scope's name is the user's, but it names a label or milestone from the data.
        emit(safe_text(result.headline) + "\n", out_file, store=store_path)


def _daily(st: Store, scope: Filters, basis: str, start: date, wanted: tuple[str, str] | None
           ) -> tuple[np.ndarray, bool, date | None, Scope | None]:
    """Done per UTC day (merged changes, or delivered work items), from the first day with any
    (at most LONGEST_HISTORY_DAYS back) to the day before ``start``; whether they are items; the
    last day anything was done before ``start``; and the ``wanted`` scope's counts."""
    import numpy as np
    import pyarrow as pa

    from leadlens import engines
    from leadlens.analysis.items_summary import delivered_items, has_items
    from leadlens.analysis.scope import scope_of
    from leadlens.metrics import flow as fm
    from leadlens.metrics.items import item_flow

    backend = engines.connect(st)
    fl = fm.flow(backend, scope)
    found_scope = None
    try:
        times = None
        items = basis != "change" and has_items(backend)
        if wanted is not None and not items:
            raise UserError("--scope: the store holds no work item (ingest Jira, or GitHub with"
                            " its issues: docs/items.md)")
        if items:
            ifl = item_flow(backend, scope, fl.cache)
            if wanted is not None:
                found_scope = scope_of(backend, ifl, *wanted, include_bots=scope.include_bots)
            d = delivered_items(ifl, scope)
            found = backend.to_pyarrow(d.select(at=d.delivered_at))
            times = found if found.num_rows else None
        if basis == "item" and times is None:
            raise UserError(f"{'--scope' if wanted else '--basis item'}: no work item was"
                            " delivered: no item throughput to forecast from (docs/items.md)")
        use_items = times is not None
        if times is None:
            times = backend.to_pyarrow(fl.scope.select(at=fl.scope.merged_at))
    finally:
        fl.release()
    at = times.column("at").cast(pa.timestamp("us")).to_numpy().astype("datetime64[D]")
    before = at[at < np.datetime64(start)]
    latest = before.max().astype(date) if before.size else None
    first = max(np.datetime64(start - timedelta(days=LONGEST_HISTORY_DAYS)),
                at.min() if at.size else np.datetime64(start))
    at = at[(at >= first) & (at < np.datetime64(start))]
    days = int((np.datetime64(start) - first).astype(int))
    counts = np.bincount((at - first).astype(int), minlength=days)[:days]
    return counts.astype(float), use_items, latest, found_scope
