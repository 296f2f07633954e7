"""Amdahl scenarios from measured stage shares: what speeding up one or several stages buys end to
end, the ceiling, and the speed-up a target gain needs (DESIGN.md, Aggregates: shares are
time-weighted, so Amdahl's law applies to mean lead time)."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from leadlens.analysis.figures import Stage

__all__ = ["Needed", "ScenarioStage", "WhatIf", "needed_speedup", "scenario_speedup", "what_if"]


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class ScenarioStage(_Figure):
    stage: str
    share: float  # of Σ lead time (or spec → production), measured
    speedup: float | None  # k: the stage takes 1/k of its time; None with only a target
    ceiling: float | None  # 1 / (1 - share): the most this stage alone can buy; None: unbounded


class Needed(_Figure):
    """The speed-up the scenario's stages together need to reach ``target`` end to end."""

    target: float  # end-to-end speed-up wanted (1.2 = lead time / 1.2)
    speedup: float | None  # the common k every stage of the scenario needs; None when impossible
    reason: str | None  # "impossible: the ceiling is 1.18x" when speedup is None


class WhatIf(_Figure):
    """`leadlens whatif --format json` (docs/whatif.md)."""

    basis: str  # change (lead time) | item (spec → production)
    units: int  # delivered changes or items the shares are measured on
    stages: list[ScenarioStage]  # the scenario's stages
    speedup: float | None  # end to end, with every stage k times faster; None with only a target
    lead_time_change_pct: float | None  # mean lead time change: 100 * (1 / speedup - 1)
    ceiling: float | None  # the scenario's stages taking no time at all; None: unbounded
    needed: Needed | None  # with --target
    measured: list[ScenarioStage]  # every measured stage, for reference (speedup null)


def _ceiling(share: float) -> float | None:
    return None if share >= 1.0 else 1.0 / (1.0 - share)


def scenario_speedup(parts: list[tuple[float, float]]) -> float:
    """End-to-end speed-up when each (share, k) stage gets k times faster and the rest of lead
    time stays as it was: ``1 / ((1 - Σ share) + Σ share / k)``."""
    total = sum(s for s, _ in parts)
    if not 0.0 <= total <= 1.0 + 1e-12:
        raise ValueError(f"shares add up to a fraction in [0, 1], not {total}")
    if any(k <= 0 or not math.isfinite(k) for _, k in parts):
        raise ValueError("a speed-up factor is positive and finite")
    return 1.0 / (max(0.0, 1.0 - total) + sum(s / k for s, k in parts))


def needed_speedup(share: float, target: float) -> tuple[float | None, str | None]:
    """The k a part of lead time with ``share`` needs for ``target`` end to end: solving
    ``1 / ((1 - s) + s / k) = T`` gives ``k = s / (1 / T - (1 - s))``; impossible (None, with the
    reason) when the target is at or above the ceiling ``1 / (1 - s)``."""
    if target <= 1.0:
        raise ValueError(f"a target speed-up is above 1, not {target}")
    room = 1.0 / target - (1.0 - share)
    if share <= 0.0 or room <= 0.0:
        top = _ceiling(share)
        return None, ("impossible: the ceiling is " + ("unbounded" if top is None else
                                                        f"{top:.2f}x") + f" (share {share:.1%})")
    return share / room, None


def what_if(measured: list[Stage], units: int, basis: str, speedups: dict[str, float | None],
            target: float | None) -> WhatIf:
    """The scenario over ``measured`` stages (their shares): each named stage k times faster
    (None: only a target is asked), its end-to-end speed-up and ceiling, and with ``target`` the
    common speed-up the named stages need."""
    by = {s.name: s for s in measured}
    chosen = [ScenarioStage(stage=n, share=by[n].share, speedup=k, ceiling=_ceiling(by[n].share))
              for n, k in speedups.items()]
    share = sum(c.share for c in chosen)
    ks = [(c.share, c.speedup) for c in chosen if c.speedup is not None]
    up = scenario_speedup(ks) if ks and len(ks) == len(chosen) else None
    need = None
    if target is not None:
        k, why = needed_speedup(share, target)
        need = Needed(target=target, speedup=k, reason=why)
    return WhatIf(basis=basis, units=units, stages=chosen, speedup=up,
                  lead_time_change_pct=None if up is None else 100.0 * (1.0 / up - 1.0),
                  ceiling=_ceiling(share), needed=need,
                  measured=[ScenarioStage(stage=s.name, share=s.share, speedup=None,
                                          ceiling=_ceiling(s.share)) for s in measured])
