"""The report's what-if section: Amdahl's curve for every measured stage, and the queueing
simulation of one scenario — "AI makes coding 50% faster and 40% more changes arrive" — with its
backtest, or why there is none (docs/report-json.md, `whatif`)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import ibis
from pydantic import BaseModel, ConfigDict

from leadlens.analysis.figures import Stage
from leadlens.analysis.sim_results import CURVE_SPEEDUPS
from leadlens.analysis.sim_store import NotCalibrated, SimOptions, simulate_flow
from leadlens.analysis.simulate import Scenario
from leadlens.analysis.simulation import Simulation
from leadlens.analysis.whatif import scenario_speedup
from leadlens.conventions import BotRule
from leadlens.metrics import flow as fm

__all__ = ["AI_SCENARIO", "AI_SCENARIO_TEXT", "MAX_CALIBRATION_CHANGES", "NO_SIMULATE",
           "REPORT_SIM", "AmdahlPoint", "AmdahlStage", "WhatIfSection", "amdahl_stages",
           "whatif_section"]

AI_SCENARIO_TEXT = "AI makes coding 50% faster and 40% more changes arrive"
AI_SCENARIO = Scenario(speedups={"coding": 1.5}, arrivals=1.4)
# Above this many changes delivered in the calibration window, the report leaves the simulation
# to `leadlens whatif --simulate`: its replications would outgrow the report's time budget.
MAX_CALIBRATION_CHANGES = 5_000
NO_SIMULATE = "--no-simulate"
# The report's simulation: smaller than `whatif --simulate`'s defaults (365 days, 200
# replications, 6 backtest windows). Module-level so a test can make it smaller still.
REPORT_SIM: dict[str, int] = {"days": 120, "replications": 30, "calibrate_days": 90,
                              "horizon_days": 30, "windows": 3, "curve_replications": 10,
                              "backtest_replications": 12}


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class AmdahlPoint(_Figure):
    speedup: float  # the stage this many times as fast
    gain: float  # end to end: 1 / ((1 - share) + share / speedup)


class AmdahlStage(_Figure):
    stage: str
    share: float  # of Σ lead time (or spec → production), measured
    ceiling: float | None  # 1 / (1 - share); None: unbounded (the stage is all of it)
    curve: list[AmdahlPoint]  # at CURVE_SPEEDUPS


class WhatIfSection(_Figure):
    """`whatif` of `leadlens report --format json` (docs/report-json.md)."""

    basis: str  # change (lead time) | item (spec → production), as `leadlens whatif` picks
    amdahl: list[AmdahlStage]  # every measured stage with a share above 0, largest share first
    scenario: str  # AI_SCENARIO_TEXT
    simulation: Simulation | None  # the scenario simulated on the change lead time
    simulation_reason: str | None  # why simulation is null


def amdahl_stages(stages: list[Stage]) -> list[AmdahlStage]:
    """Amdahl's curve of each stage with a share above 0, largest share first."""
    shown = sorted((s for s in stages if s.share > 0), key=lambda s: (-s.share, s.name))
    return [AmdahlStage(stage=s.name, share=s.share,
                        ceiling=None if s.share >= 1.0 else 1.0 / (1.0 - s.share),
                        curve=[AmdahlPoint(speedup=k, gain=scenario_speedup([(min(s.share, 1.0),
                                                                              k)]))
                               for k in CURVE_SPEEDUPS])
            for s in shown]


def _as_of(backend: ibis.BaseBackend, fl: fm.Flow) -> date:
    """`simulate_flow`'s own default: the day after the scope's last merge, or today if
    earlier."""
    last = backend.to_pyarrow(fl.spans.aggregate(last=fl.spans.last_at.max())).column(
        "last")[0].as_py()
    today = datetime.now(UTC).date()
    return today if last is None else min(today, last.astimezone(UTC).date() + timedelta(days=1))


def _delivered(backend: ibis.BaseBackend, fl: fm.Flow, start: date, end: date) -> int:
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC)
    s = fl.spans
    done = s.filter(s.done & (s.last_at >= lo) & (s.last_at < hi))
    n = backend.to_pyarrow(done.aggregate(n=done.count())).column("n")[0].as_py()
    return int(n or 0)


def _simulation(backend: ibis.BaseBackend, fl: fm.Flow, rule: BotRule, change_stages: list[Stage],
                *, seed: int, as_of: date | None, jobs: int | None
                ) -> tuple[Simulation | None, str | None]:
    measured = [s.name for s in change_stages if s.share > 0]
    if "coding" not in measured:
        return None, ("coding is not a measured stage of the change lead time in this scope"
                      f" (measured: {', '.join(measured) or 'none'})")
    at = as_of or _as_of(backend, fl)
    start = at - timedelta(days=REPORT_SIM["calibrate_days"])
    n = _delivered(backend, fl, start, at)
    if n > MAX_CALIBRATION_CHANGES:
        return None, (f"the calibration window ({start} to {at - timedelta(days=1)}) holds"
                      f" {n:,} changes, more than {MAX_CALIBRATION_CHANGES:,}: too large for the"
                      " report's time budget; run `leadlens whatif --simulate`")
    opts = SimOptions(days=REPORT_SIM["days"], replications=REPORT_SIM["replications"],
                      seed=seed, jobs=jobs or os.cpu_count() or 1,
                      calibrate_days=REPORT_SIM["calibrate_days"],
                      horizon_days=REPORT_SIM["horizon_days"], windows=REPORT_SIM["windows"],
                      as_of=at, curve_replications=REPORT_SIM["curve_replications"],
                      backtest_replications=REPORT_SIM["backtest_replications"])
    try:
        return simulate_flow(backend, fl, rule, AI_SCENARIO, opts), None
    except NotCalibrated as e:
        return None, str(e)


def whatif_section(backend: ibis.BaseBackend, fl: fm.Flow, rule: BotRule, *,
                   change_stages: list[Stage], item_stages: list[Stage] | None, simulate: bool,
                   seed: int, as_of: date | None, jobs: int | None = None) -> WhatIfSection:
    """Amdahl's curves on the basis `leadlens whatif` picks (``item_stages`` when work items
    were delivered, else ``change_stages``) and, with ``simulate``, the AI scenario simulated on
    the change lead time of ``fl``, calibrated on the days before ``as_of`` (None: the day after
    the last merge)."""
    use_items = item_stages is not None
    sim, reason = (_simulation(backend, fl, rule, change_stages, seed=seed, as_of=as_of,
                               jobs=jobs) if simulate else (None, NO_SIMULATE))
    return WhatIfSection(basis="item" if use_items else "change",
                         amdahl=amdahl_stages(item_stages if item_stages is not None
                                              else change_stages),
                         scenario=AI_SCENARIO_TEXT, simulation=sim, simulation_reason=reason)
