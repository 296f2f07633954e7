"""`leadlens whatif`: Amdahl scenarios from the store's measured stage shares."""

from __future__ import annotations

from datetime import UTC, datetime
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
    SinceOpt,
    StoreOpt,
    UntilOpt,
    check_format,
    check_out,
    emit,
    filters,
)
from leadlens.config import DEFAULT_K, DEFAULT_SEED, load_settings
from leadlens.errors import UserError

if TYPE_CHECKING:
    from leadlens.analysis.sim_store import SimOptions
    from leadlens.config import Settings
    from leadlens.metrics.flow import Filters

__all__: list[str] = []


def _factor(text: str, option: str) -> float:
    """``1.5``, or with ``--faster`` a percentage: ``50%`` (or ``50``) is 1.5 times as fast."""
    raw = text.strip()
    try:
        value = float(raw.removesuffix("%"))
    except ValueError:
        raise UserError(f"{option} {text!r}: not a number") from None
    if option == "--faster":
        value = 1.0 + value / 100.0
        if value <= 0:
            raise UserError(f"--faster {text!r}: a stage cannot be 100% or more slower")
    elif not value > 0 or value == float("inf"):
        raise UserError(f"--speedup {text!r}: a speed-up is a positive factor (1.5 = one and a"
                        " half times as fast; 0.5 = twice as slow)")
    return value


def _target(text: str) -> float:
    raw = text.strip()
    try:
        value = (1.0 + float(raw[:-1]) / 100.0) if raw.endswith("%") else float(raw)
    except ValueError:
        raise UserError(f"--target {text!r}: not a number (1.2, or 20%)") from None
    if not 1.0 < value < float("inf"):
        raise UserError(f"--target {text!r}: an end-to-end speed-up above 1 (1.2, or 20%)")
    return value


def _speedups(stages: list[str], factors: list[float]) -> dict[str, float | None]:
    if len(set(stages)) != len(stages):
        raise UserError("--stage names a stage twice")
    if factors and len(factors) not in (1, len(stages)):
        raise UserError(f"{len(factors)} speed-ups for {len(stages)} stages: give one for all, or"
                        " one per --stage, in order")
    if not factors:
        return dict.fromkeys(stages)
    return {s: factors[0] if len(factors) == 1 else factors[i] for i, s in enumerate(stages)}


@app.command("whatif")
def whatif_cmd(
    stage: Annotated[list[str] | None, typer.Option(
        "--stage", help="A measured stage (coding, pickup, review, ... or a joined one such as"
        " pickup+review); repeat for several.")] = None,
    speedup: Annotated[list[str] | None, typer.Option(
        "--speedup", help="How many times as fast the stage gets (1.5); one for all stages, or"
        " one per --stage.")] = None,
    faster: Annotated[list[str] | None, typer.Option(
        "--faster", help="The same as a percentage: 50% is 1.5 times as fast.")] = None,
    target: Annotated[str | None, typer.Option(
        "--target", help="An end-to-end speed-up to reach (1.2, or 20%): the speed-up the"
        " stages need, or why it is impossible.")] = None,
    basis: Annotated[str, typer.Option(
        "--basis", help="auto (spec → production when work items were delivered, else the change"
        " lead time) | change | item")] = "auto",
    simulate: Annotated[bool, typer.Option(
        "--simulate", help="Simulate the pipeline's queues (SimPy), calibrated on the store, with"
        " its backtest.")] = False,
    arrivals: Annotated[str | None, typer.Option(
        "--arrivals", help="With --simulate: more or fewer changes arriving (+40%, or 1.4x).")
    ] = None,
    reviewers: Annotated[str | None, typer.Option(
        "--reviewers", help="With --simulate: reviewers added (+2) or taken away (-1).")] = None,
    review_sla: Annotated[float | None, typer.Option(
        "--review-sla", help="With --simulate: reviews answered within this many working"
        " hours.")] = None,
    wip: Annotated[int | None, typer.Option(
        "--wip", help="With --simulate: changes an author may have in flight.")] = None,
    size_mix: Annotated[str | None, typer.Option(
        "--size-mix", help="With --simulate: the size mix of arriving changes (XS=0.4,S=0.4,"
        "M=0.2).")] = None,
    pooled_review: Annotated[bool, typer.Option(
        "--pooled-review", help="With --simulate: one shared review queue.")] = False,
    days: Annotated[int, typer.Option("--days", help="Days simulated.")] = 365,
    replications: Annotated[int, typer.Option(
        "--replications", help="Simulation runs (intervals are over them).")] = 200,
    calibrate_days: Annotated[int, typer.Option(
        "--calibrate-days", help="Days of history the simulation is calibrated on.")] = 90,
    horizon: Annotated[int, typer.Option(
        "--horizon", help="Days each backtest window predicts.")] = 30,
    windows: Annotated[int, typer.Option(
        "--backtest-windows", help="Walk-forward backtest windows (the latest).")] = 6,
    seed: SeedOpt = DEFAULT_SEED,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", help="Processes (default: one per core).")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="With --simulate: calibrate on the days before this one (default: the"
        " day after the last merge).")] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = "table",
    out_file: OutOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    repo: RepoOpt = None,
    include_bots: BotsOpt = False,
) -> None:
    """What would speeding up these stages buy end to end? Amdahl's law on the measured shares,
    or with --simulate a queueing simulation of the pipeline."""
    check_format(fmt)
    stage = stage or []
    if basis not in ("auto", "change", "item"):
        raise UserError(f"--basis must be auto, change or item, not {basis!r}")
    if speedup and faster:
        raise UserError("--speedup and --faster say the same thing: give one of them")
    factors = [_factor(t, "--speedup") for t in speedup or []] + [
        _factor(t, "--faster") for t in faster or []]
    goal = None if target is None else _target(target)
    sim_asked = [name for name, given in (
        ("--arrivals", arrivals is not None), ("--reviewers", reviewers is not None),
        ("--review-sla", review_sla is not None), ("--wip", wip is not None),
        ("--size-mix", size_mix is not None), ("--pooled-review", pooled_review),
        ("--as-of", as_of is not None)) if given]
    if sim_asked and not simulate:
        raise UserError(f"{sim_asked[0]} is a scenario of the simulation: add --simulate")
    if simulate and goal is not None:
        raise UserError("--target is Amdahl's calculation: leave out --simulate")
    if stage and not factors and goal is None:
        raise UserError("say how much faster: --speedup K (or --faster P%), or --target T")
    if not stage and (factors or not simulate):
        raise UserError("say what changes: --stage S with --speedup K (or --faster P%), or"
                        " --target T" + (", or a scenario of --simulate" if simulate else ""))
    speedups = _speedups(stage, factors)
    settings = load_settings()
    scope = filters(since, until, repo, include_bots, settings)
    store_path = Path(store or settings.store)
    check_out(out_file, store_path)
    if simulate:
        _simulate(store_path, settings, scope, fmt, out_file, speedups, arrivals, reviewers,
                  review_sla, wip, size_mix, pooled_review,
                  _sim_options(days, replications, seed, jobs, calibrate_days, horizon, windows,
                               as_of))
        return
    from leadlens import engines
    from leadlens.analysis.flow_summary import flow_summary
    from leadlens.analysis.items_summary import has_items, item_figures
    from leadlens.analysis.whatif import what_if
    from leadlens.metrics import flow as fm
    from leadlens.store import open_store

    with open_store(store_path, read_only=True) as st:
        warn_stale(st, settings)
        backend = engines.connect(st)
        fl = fm.flow(backend, scope)
        try:
            figures = flow_summary(backend, fl, scope, k=DEFAULT_K,
                                   rework_days=settings.rework_days,
                                   as_of=datetime.now(UTC)).figures
            items = (item_figures(backend, fl, scope, k=DEFAULT_K)
                     if basis != "change" and has_items(backend) else None)
        finally:
            fl.release()
    use_items = basis == "item" or (basis == "auto" and items is not None and items.delivered > 0)
    if use_items and (items is None or not items.delivered):
        raise UserError("--basis item: no work item was delivered in this scope (docs/items.md)")
    measured = items.stages if use_items and items is not None else figures.stages
    units = (items.spec_to_production.n if use_items and items is not None
             else figures.lead_time.n)
    if not units:
        raise UserError("no change in this scope has a lead time yet: nothing to measure shares"
                        " on")
    known = {s.name for s in measured if s.share > 0}
    for name in speedups:
        if name not in known:
            raise UserError(f"--stage {name!r} is not a measured stage of this scope; measured:"
                            f" {', '.join(s.name for s in measured if s.share > 0)}")
    result = what_if(measured, units, "item" if use_items else "change", speedups, goal)
    if fmt == "json":
        emit(result.model_dump_json(indent=2) + "\n", out_file, store=store_path)
        return
    lines = []
    what = "spec → production" if use_items else "lead time"
    for s in result.stages:
        lines.append(f"{s.stage}: {s.share:.1%} of {what}"
                     + ("" if s.speedup is None else f", {s.speedup:g}x as fast"))
    if result.speedup is not None:
        lines.append(f"End to end: {result.speedup:.3f}x ({result.lead_time_change_pct:+.1f}% mean"
                     f" {what}), over {units:,} delivered"
                     f" {'item' if use_items else 'change'}{'s' if units != 1 else ''}.")
    lines.append("Ceiling (those stages taking no time at all): "
                 + ("unbounded" if result.ceiling is None else f"{result.ceiling:.3f}x") + ".")
    if result.needed is not None:
        n = result.needed
        lines.append(f"To reach {n.target:g}x end to end: " + (
            n.reason or f"those stages must get {n.speedup:.2f}x as fast") + ".")
    emit("\n".join(lines) + "\n", out_file, store=store_path)


def _sim_options(days: int, replications: int, seed: int, jobs: int | None, calibrate_days: int,
                 horizon: int, windows: int, as_of: str | None) -> SimOptions:
    import os

    from leadlens.analysis.sim_store import SimOptions
    from leadlens.cli.simulate import day

    for name, value, least in (("--days", days, 7), ("--replications", replications, 10),
                               ("--calibrate-days", calibrate_days, 14), ("--horizon", horizon, 7),
                               ("--backtest-windows", windows, 1), ("--jobs", jobs or 1, 1)):
        if value < least:
            raise UserError(f"{name} {value}: at least {least}")
    return SimOptions(days=days, replications=replications, seed=seed,
                      jobs=jobs or os.cpu_count() or 1, calibrate_days=calibrate_days,
                      horizon_days=horizon, windows=windows, as_of=day(as_of))


def _simulate(store_path: Path, settings: Settings, scope: Filters, fmt: str,
              out_file: Path | None, speedups: dict[str, float | None], arrivals: str | None,
              reviewers: str | None, review_sla: float | None, wip: int | None,
              size_mix: str | None, pooled: bool, opts: SimOptions) -> None:
    from leadlens.analysis.simulate import Scenario
    from leadlens.cli import simulate as sim
    from leadlens.store import open_store

    if review_sla is not None and not 0 < review_sla < float("inf"):
        raise UserError(f"--review-sla {review_sla:g}: a number of working hours above 0")
    if wip is not None and wip < 1:
        raise UserError(f"--wip {wip}: an author may have at least 1 change in flight")
    scenario = Scenario(speedups={s: k for s, k in speedups.items() if k is not None},
                        arrivals=sim.arrivals(arrivals), reviewers=sim.reviewers(reviewers),
                        review_sla_h=review_sla, wip=wip, size_mix=sim.size_mix(size_mix),
                        pooled=pooled)
    from leadlens import engines
    from leadlens.analysis.sim_store import simulate_flow
    from leadlens.conventions import BotRule
    from leadlens.metrics import flow as fm

    with open_store(store_path, read_only=True) as st:
        warn_stale(st, settings)
        backend = engines.connect(st)
        fl = fm.flow(backend, scope)
        try:
            result = simulate_flow(backend, fl, BotRule.of(settings.bots), scenario, opts)
        finally:
            fl.release()
    if fmt == "json":
        emit(result.model_dump_json(indent=2) + "\n", out_file, store=store_path)
    else:
        emit(sim.text(result), out_file, store=store_path)
