"""`leadlens whatif --simulate`: the scenario's options read and checked, the simulation run on
the store, and its text."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from leadlens.errors import UserError

if TYPE_CHECKING:
    from leadlens.analysis.sim_results import Interval
    from leadlens.analysis.simulation import Simulation

__all__ = ["arrivals", "day", "reviewers", "size_mix", "text"]


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


def day(as_of: str | None) -> date | None:
    from leadlens.cli.options import when

    at = when(as_of)
    return None if at is None else at.date()


def text(sim: Simulation) -> str:
    from leadlens.timeline import duration

    b, p = sim.baseline, sim.predicted

    def iv(x: Interval | None) -> str:
        return "—" if x is None else f"{duration(x.mid)} ({duration(x.low)} to {duration(x.high)})"

    def num(x: Interval | None) -> str:
        return "—" if x is None else f"{x.mid:.2f} ({x.low:.2f} to {x.high:.2f})"

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
