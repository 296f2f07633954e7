"""A coordination signal as a cohort and as a stratum of the AI comparison (`ai report --by`):
do flagged changes (underspecified, across time zones, collided, ...) take longer, and does AI
assistance change lead time the same way with and without the signal?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadlens.analysis import stats
from leadlens.analysis.impact import Cohorts

__all__ = ["SignalSplit", "split_by_signal"]


@dataclass(frozen=True)
class SignalSplit:
    """`ai.by_signal` (docs/report-json.md)."""

    signal: str  # underspecified | clarified | cross_tz | blocked | context_switching | ...
    changes: int  # changes in scope
    flagged: int  # with the signal
    unflagged: int  # known not to have it
    unknown: int  # the signal's data is absent for them (left out of both comparisons)
    lead_time: stats.Comparison  # changes without the signal (baseline) vs with it
    revert_rate: stats.Comparison  # the same, on being reverted later (a difference of shares)
    ai_within: stats.Comparison  # AI-assisted vs other, stratified by the signal, not by size


def _floats(t: pa.Table, name: str) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.cast(t.column(name), pa.float64()), np.nan)
                      .to_numpy(zero_copy_only=False), dtype=float)


def split_by_signal(facts: pa.Table, flags: pa.Table, signal: str, cohorts: Cohorts
                    ) -> SignalSplit:
    """``facts``: one row per change (metrics.cohorts.change_facts: ``repo``, ``id``, ``done``,
    ``lead_time_s``, ``ai_assisted``, ``reverted``, ``size``); ``flags``: ``repo``, ``id`` and the
    ``signal`` column (True, False, or null for unknown)."""
    keys = {(r, i): v for r, i, v in zip(flags.column("repo").to_pylist(),
                                        flags.column("id").to_pylist(),
                                        flags.column(signal).to_pylist(), strict=True)}
    flag = [keys.get((r, i)) for r, i in zip(facts.column("repo").to_pylist(),
                                             facts.column("id").to_pylist(), strict=True)]
    on = np.array([v is True for v in flag])
    off = np.array([v is False for v in flag])
    lead = _floats(facts, "lead_time_s")
    done = facts.column("done").to_numpy(zero_copy_only=False).astype(bool) & ~np.isnan(lead)
    reverted = _floats(facts, "reverted")
    size = np.asarray(facts.column("size").to_pylist(), dtype=object)
    ai = facts.column("ai_assisted").to_numpy(zero_copy_only=False).astype(bool)
    labels = (f"not {signal}", signal)
    rs, seed = cohorts.resamples, cohorts.seed
    b, t = off & done, on & done
    lead_time = stats.compare("lead_time_s", lead[b], lead[t], labels=labels,
                              baseline_strata=list(size[b]), treatment_strata=list(size[t]),
                              resamples=rs, seed=seed)
    revert_rate = stats.compare("revert_rate", reverted[off], reverted[on], statistic="mean",
                                labels=labels, resamples=rs, seed=seed)
    known = (on | off) & done
    strata = np.where(on, signal, f"not {signal}")
    ai_within = stats.compare(
        "lead_time_s", lead[known & ~ai], lead[known & ai],
        baseline_strata=list(strata[known & ~ai]), treatment_strata=list(strata[known & ai]),
        resamples=rs, seed=seed)
    return SignalSplit(signal=signal, changes=facts.num_rows, flagged=int(on.sum()),
                       unflagged=int(off.sum()), unknown=int(facts.num_rows - on.sum() - off.sum()),
                       lead_time=lead_time, revert_rate=revert_rate, ai_within=ai_within)
