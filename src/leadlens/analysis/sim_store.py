"""The simulation over a store's flow: calibrated on the days before ``as_of``, backtested
walking forward over the history before that, then the scenario beside the baseline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import ibis

from leadlens.analysis.sim_backtest import backtest
from leadlens.analysis.sim_pool import MIN_CHANGES, load_pool
from leadlens.analysis.simulate import Scenario
from leadlens.analysis.simulation import Simulation, simulate
from leadlens.conventions import BotRule
from leadlens.errors import UserError
from leadlens.metrics import flow as fm

__all__ = ["NotCalibrated", "SimOptions", "simulate_flow"]


class NotCalibrated(UserError):
    """The store cannot calibrate this simulation (too little history, a scenario its data
    cannot play): the one-line reason."""


@dataclass(frozen=True)
class SimOptions:
    days: int
    replications: int
    seed: int
    jobs: int
    calibrate_days: int
    horizon_days: int
    windows: int
    as_of: date | None  # None: the day after the scope's last merge (or today, if earlier)
    curve_replications: int | None = None  # per point of the gain curve (None: a quarter, >= 20)
    backtest_replications: int | None = None  # per backtest window (None: a fifth, >= 20)


def simulate_flow(backend: ibis.BaseBackend, fl: fm.Flow, rule: BotRule, scenario: Scenario,
                  opts: SimOptions) -> Simulation:
    """Calibrate on the ``calibrate_days`` before ``as_of``, backtest, simulate; NotCalibrated
    when the store cannot."""
    span = backend.to_pyarrow(fl.spans.aggregate(first=fl.spans.first_at.min(),
                                                 last=fl.spans.last_at.max()))
    first, last = (span.column(c)[0].as_py() for c in ("first", "last"))
    as_of = opts.as_of or min(datetime.now(UTC).date(), (
        last.astimezone(UTC).date() + timedelta(days=1)) if last else datetime.now(UTC).date())
    start = as_of - timedelta(days=opts.calibrate_days)
    pool = load_pool(backend, fl, rule, start, as_of)
    if pool.changes < MIN_CHANGES:
        raise NotCalibrated(
            f"too little history to calibrate: {pool.changes} change(s) delivered from"
            f" {start} to {as_of - timedelta(days=1)}; the simulation needs at least"
            f" {MIN_CHANGES} (calibrate on more days, or at an --as-of where there were)")
    _check(pool.stages, pool.reviewers, scenario, pool.size.tolist())
    bt = backtest(backend, fl, rule, first.astimezone(UTC).date(), as_of,
                  calibrate_days=opts.calibrate_days, horizon_days=opts.horizon_days,
                  windows=opts.windows, seed=opts.seed, jobs=opts.jobs,
                  reps=opts.backtest_replications or max(20, opts.replications // 5))
    return simulate(pool, scenario, bt, days=opts.days,
                    warmup_days=min(opts.calibrate_days, 60), reps=opts.replications,
                    curve_reps=opts.curve_replications or max(20, opts.replications // 4),
                    seed=opts.seed, jobs=opts.jobs)


def _check(stages: tuple[str, ...], pool_reviewers: int, scenario: Scenario, sizes: list[str]
           ) -> None:
    for name in scenario.speedups:
        if name not in stages:
            raise NotCalibrated(f"--stage {name!r}: no delivered change in the calibration"
                               f" window has that stage; they have: {', '.join(stages)}")
    reviewer_options = (scenario.reviewers or scenario.review_sla_h is not None
                        or scenario.pooled)
    if reviewer_options and not pool_reviewers:
        raise NotCalibrated("--reviewers, --review-sla and --pooled-review need reviews by"
                           " people: none of the changes in the calibration window has one (git alone has"
                           " no reviews: `leadlens ingest github OWNER/REPO`)")
    if scenario.reviewers < 0 and -scenario.reviewers >= pool_reviewers:
        raise NotCalibrated(f"--reviewers {scenario.reviewers}: only {pool_reviewers} people"
                           " reviewed in the calibration window; at least one has to stay")
    for bucket, share in (scenario.size_mix or {}).items():
        if share > 0 and bucket not in sizes:
            raise NotCalibrated(f"--size-mix: no delivered change of size {bucket} in the"
                               " calibration window to resample from")


