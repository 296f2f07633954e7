"""`leadlens whatif --simulate`: the scenario's options read and checked, the simulation run on
the store, and its text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from leadlens.errors import UserError

if TYPE_CHECKING:
    from leadlens.analysis.simulate import Scenario
    from leadlens.analysis.simulation import Simulation
    from leadlens.config import Settings
    from leadlens.metrics.flow import Filters
    from leadlens.store import Store

__all__ = ["SimOptions", "arrivals", "reviewers", "run", "size_mix", "text"]


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


def arrivals(text: str | None) -> float:
    """``+40%`` (or ``40%``, ``-20%``, ``1.4x``) as a factor of the measured arrival rate."""
    if text is None:
        return 1.0
    raw = text.strip()
    try:
        value = float(raw[:-1]) if raw.endswith("x") else 1 + float(raw.removesuffix("%")) / 100
    except ValueError:
        raise UserError(f"--arrivals {text!r}: a change in percent (+40%) or a factor (1.4x)"
                        ) from None
    if not 0 < value < float("inf"):
        raise UserError(f"--arrivals {text!r}: changes still have to arrive (above -100%)")
    return value


def reviewers(text: str | None) -> int:
    if text is None:
        return 0
    try:
        return int(text.strip())
    except ValueError:
        raise UserError(f"--reviewers {text!r}: a whole number to add (+2) or take away (-1)"
                        ) from None


def size_mix(text: str | None) -> dict[str, float] | None:
    """``XS=0.4,S=0.4,M=0.2``: the share of each size bucket among arriving changes."""
    if text is None:
        return None
    from leadlens.metrics.flow import SIZE_BUCKETS

    names = [n for n, _ in SIZE_BUCKETS]
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, eq, value = part.partition("=")
        name = name.strip().upper()
        if not eq or name not in names:
            raise UserError(f"--size-mix {text!r}: BUCKET=SHARE pairs, buckets {', '.join(names)}")
        try:
            share = float(value)
        except ValueError:
            raise UserError(f"--size-mix {text!r}: {value!r} is not a number") from None
        if not 0 <= share < float("inf"):
            raise UserError(f"--size-mix {text!r}: shares are not negative")
        mix[name] = share
    total = sum(mix.values())
    if total <= 0:
        raise UserError(f"--size-mix {text!r}: some bucket needs a share above 0")
    return {n: s / total for n, s in mix.items()}


def run(st: Store, settings: Settings, scope: Filters, scenario: Scenario, opts: SimOptions
        ) -> Simulation:
    """Calibrate on the ``calibrate_days`` before ``as_of``, backtest, simulate."""
    from leadlens import engines
    from leadlens.analysis.sim_backtest import backtest
    from leadlens.analysis.sim_pool import MIN_CHANGES, load_pool
    from leadlens.analysis.simulation import simulate
    from leadlens.conventions import BotRule
    from leadlens.metrics import flow as fm

    backend = engines.connect(st)
    fl = fm.flow(backend, scope)
    rule = BotRule.of(settings.bots)
    try:
        span = backend.to_pyarrow(fl.spans.aggregate(first=fl.spans.first_at.min(),
                                                     last=fl.spans.last_at.max()))
        first, last = (span.column(c)[0].as_py() for c in ("first", "last"))
        as_of = opts.as_of or min(datetime.now(UTC).date(), (
            last.astimezone(UTC).date() + timedelta(days=1)) if last else datetime.now(UTC).date())
        start = as_of - timedelta(days=opts.calibrate_days)
        pool = load_pool(backend, fl, rule, start, as_of)
        if pool.changes < MIN_CHANGES:
            raise UserError(
                f"too little history to calibrate: {pool.changes} change(s) delivered from"
                f" {start} to {as_of - timedelta(days=1)}; the simulation needs at least"
                f" {MIN_CHANGES} (a longer --calibrate-days, or an --as-of where there were)")
        _check(pool.stages, pool.reviewers, scenario, pool.size.tolist())
        bt = backtest(backend, fl, rule, first.astimezone(UTC).date(), as_of,
                      calibrate_days=opts.calibrate_days, horizon_days=opts.horizon_days,
                      windows=opts.windows, reps=max(20, opts.replications // 5), seed=opts.seed,
                      jobs=opts.jobs)
    finally:
        fl.release()
    return simulate(pool, scenario, bt, days=opts.days, warmup_days=min(opts.calibrate_days, 60),
                    reps=opts.replications, curve_reps=max(20, opts.replications // 4),
                    seed=opts.seed, jobs=opts.jobs)


def _check(stages: tuple[str, ...], pool_reviewers: int, scenario: Scenario, sizes: list[str]
           ) -> None:
    for name in scenario.speedups:
        if name not in stages:
            raise UserError(f"--stage {name!r}: no delivered change in the calibration window has"
                            f" that stage; they have: {', '.join(stages)}")
    reviewer_options = (scenario.reviewers or scenario.review_sla_h is not None
                        or scenario.pooled)
    if reviewer_options and not pool_reviewers:
        raise UserError("--reviewers, --review-sla and --pooled-review need reviews by people:"
                        " none of the changes in the calibration window has one (git alone has"
                        " no reviews: `leadlens ingest github OWNER/REPO`)")
    if scenario.reviewers < 0 and -scenario.reviewers >= pool_reviewers:
        raise UserError(f"--reviewers {scenario.reviewers}: only {pool_reviewers} people"
                        " reviewed in the calibration window; at least one has to stay")
    for bucket, share in (scenario.size_mix or {}).items():
        if share > 0 and bucket not in sizes:
            raise UserError(f"--size-mix: no delivered change of size {bucket} in the"
                            " calibration window to resample from")


def day(as_of: str | None) -> date | None:
    from leadlens.cli.options import when

    at = when(as_of)
    return None if at is None else at.date()


def text(sim: Simulation) -> str:
    from leadlens.timeline import duration

    b, p = sim.baseline, sim.predicted

    def iv(x: object) -> str:
        from leadlens.analysis.sim_results import Interval

        if not isinstance(x, Interval):
            return "—"
        return f"{duration(x.mid)} ({duration(x.low)} to {duration(x.high)})"

    def num(x: object) -> str:
        from leadlens.analysis.sim_results import Interval

        if not isinstance(x, Interval):
            return "—"
        return f"{x.mid:.2f} ({x.low:.2f} to {x.high:.2f})"

    rows = [("", "as measured (simulated)", sim.description),
            ("median lead time", iv(b.lead_time_median_s), iv(p.lead_time_median_s)),
            ("p85 lead time", iv(b.lead_time_p85_s), iv(p.lead_time_p85_s)),
            ("throughput per day", num(b.throughput_per_day), num(p.throughput_per_day)),
            ("median pickup", iv(b.pickup_median_s), iv(p.pickup_median_s)),
            ("waiting in queues", num(b.queue_mean), num(p.queue_mean)),
            ("bottleneck", b.bottleneck or "—", p.bottleneck or "—")]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [sim.headline, ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip()
              for r in rows]
    if sim.curve:
        lines += ["", "Gain against the speed-up (simulated, Amdahl):"]
        lines += [f"  {c.speedup:g}x: " + ("—" if c.simulated is None else
                                           f"{c.simulated.mid:.2f}x")
                  + ("" if c.amdahl is None else f"  (Amdahl {c.amdahl:.2f}x)")
                  for c in sim.curve]
    cal = sim.calibration
    lines += ["", f"Calibrated on {cal.changes:,} changes delivered {cal.start} to"
              f" {cal.end - timedelta(days=1)} ({cal.reviewers} reviewers, {cal.authors}"
              f" authors, {cal.arrivals_per_day:.2f} a day); {cal.latency_share:.0%} of"
              f" pickup is the reviewers' response delay, the rest their queues (effort per"
              f" review round: median {duration(cal.review_effort_median_s)});"
              f" {sim.replications} replications of {sim.days} days, seed {sim.seed}."]
    if cal.note:
        lines.append(f"Note: {cal.note}.")
    return "\n".join(lines) + "\n"
