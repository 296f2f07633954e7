"""AI impact: split changes into cohorts and compare them with intervals (analysis/stats.py).

Two questions, answered side by side when the data allows: do AI-assisted changes differ from the
others, and did delivery change after a pilot started (with a control team, by
difference-in-differences)? Amdahl's law, fed with the baseline's stage shares and the measured
change in coding time, says what end-to-end change to expect; the measured one stands beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadlens.analysis import amdahl, stats
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_SEED
from leadlens.timeline import stage_order

__all__ = ["Cohorts", "Impact", "evaluate", "item_pilot"]

# Stages compared one by one: where AI assistance should show (coding) and where its cost lands
# (pickup and review).
AMDAHL_STAGE = "coding"


@dataclass(frozen=True)
class Cohorts:
    """How changes are split: by AI attribution always; by a pilot date when given."""

    pilot_start: datetime | None = None
    pilot_team: tuple[str, ...] = ()
    control_team: tuple[str, ...] = ()
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    # Per-metric comparisons (every stage, size, reverts, rework, by size bucket) cost a bootstrap
    # each: the main report leaves them to `leadlens ai report` and keeps the Amdahl check.
    per_metric: bool = True
    # A coordination signal to split changes by (`ai report --by`): a cohort, and the AI
    # comparison's stratum (analysis/signal_split.py).
    by_signal: str | None = None


@dataclass
class Impact:
    comparisons: list[stats.Comparison] = field(default_factory=list)  # AI-assisted vs other
    pilot: list[stats.Comparison] = field(default_factory=list)  # after vs before the pilot
    did: list[stats.DiD] = field(default_factory=list)
    amdahl: amdahl.AmdahlCheck | None = None
    amdahl_basis: str | None = None  # which cohorts the Amdahl check compares
    messages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Frame:
    """Per-change columns as numpy arrays (one row per change in scope)."""

    done: np.ndarray
    lead: np.ndarray
    lines: np.ndarray
    size: np.ndarray
    ai: np.ndarray
    reverted: np.ndarray
    rework: np.ndarray  # per-change rework rate; NaN without line history
    merged_at: np.ndarray  # datetime64[us]
    authors: pa.Table  # author, authors: read only when teams are named
    stages: dict[str, np.ndarray]  # stage → seconds per change (NaN where it has no such stage)

    @classmethod
    def of(cls, facts: pa.Table, stage_rows: pa.Table) -> _Frame:
        n = facts.num_rows
        row = _rows_of(facts.column("cid").to_numpy(), stage_rows.column("cid").to_numpy())
        # Stage names as small integer codes (no Python object per row: millions of rows), and
        # every stage's seconds scattered into its own row of one array at once.
        coded = pc.dictionary_encode(stage_rows.column("stage")).combine_chunks()
        codes = coded.indices.to_numpy(zero_copy_only=False)
        known = row >= 0
        table = np.full((len(coded.dictionary), n), np.nan)
        table[codes[known], row[known]] = _floats(stage_rows, "seconds")[known]
        present = np.unique(codes[known])
        names = coded.dictionary.to_pylist()
        stages = {names[code]: table[code] for code in present.tolist()}
        changed = _floats(facts, "rework_changed_lines")
        recent = _floats(facts, "rework_recent_lines")
        with np.errstate(invalid="ignore", divide="ignore"):
            rework = np.where(changed > 0, recent / changed, np.nan)
        return cls(
            done=facts.column("done").to_numpy(zero_copy_only=False).astype(bool),
            lead=_floats(facts, "lead_time_s"), lines=_floats(facts, "lines"),
            size=facts.column("size").to_numpy(zero_copy_only=False),
            ai=facts.column("ai_assisted").to_numpy(zero_copy_only=False).astype(bool),
            reverted=facts.column("reverted").to_numpy(zero_copy_only=False).astype(float),
            rework=rework,
            merged_at=facts.column("merged_at").cast(pa.timestamp("us")).to_numpy(),
            authors=facts.select(["author", "authors"]),
            stages=dict(sorted(stages.items(), key=lambda kv: stage_order(kv[0]))))


def _rows_of(cids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The row of ``cids`` (distinct) holding each of ``wanted``, -1 where none does. The report's
    cids number the changes in scope from 1 (a direct lookup table); other keys are searched."""
    n = len(cids)
    if n == 0 or len(wanted) == 0:
        return np.full(len(wanted), -1, dtype=np.int64)
    low, high = int(cids.min()), int(max(cids.max(), wanted.max()))
    if low >= 0 and int(wanted.min()) >= 0 and high <= 4 * n + 1024:
        lookup = np.full(high + 1, -1, dtype=np.int64)
        lookup[cids] = np.arange(n)
        found: np.ndarray = lookup[wanted]
        return found
    order = np.argsort(cids, kind="stable")
    pos = np.minimum(np.searchsorted(cids[order], wanted), n - 1)
    return np.where(cids[order[pos]] == wanted, order[pos], -1)


def _floats(t: pa.Table, name: str) -> np.ndarray:
    """A column as float64, NaN for nulls (without a Python object per value)."""
    column = pc.cast(t.column(name), pa.float64())
    return np.asarray(pc.fill_null(column, np.nan).to_numpy(zero_copy_only=False), dtype=float)


def _metrics(f: _Frame) -> list[tuple[str, np.ndarray, np.ndarray, stats.Statistic]]:
    """(metric, values, which changes it is defined for, statistic) for every compared metric."""
    out: list[tuple[str, np.ndarray, np.ndarray, stats.Statistic]] = [
        ("lead_time_s", f.lead, f.done & ~np.isnan(f.lead), "median")]
    for stage, secs in f.stages.items():
        out.append((f"stage:{stage}", secs, f.done & ~np.isnan(secs), "median"))
    out.append(("lines", f.lines, ~np.isnan(f.lines), "median"))
    out.append(("revert_rate", f.reverted, np.ones(len(f.done), bool), "mean"))
    if not np.all(np.isnan(f.rework)):
        out.append(("rework_rate", f.rework, ~np.isnan(f.rework), "mean"))
    return out


def _compare(f: _Frame, base: np.ndarray, treat: np.ndarray, labels: tuple[str, str],
             c: Cohorts) -> list[stats.Comparison]:
    found = []
    for metric, values, defined, statistic in _metrics(f):
        b, t = base & defined, treat & defined
        # Size is what the strata are made of: stratifying it by itself says nothing.
        strata = metric != "lines"
        found.append(stats.compare(
            metric, values[b], values[t], statistic=statistic,
            baseline_strata=list(f.size[b]) if strata else None,
            treatment_strata=list(f.size[t]) if strata else None, labels=labels,
            resamples=c.resamples, seed=c.seed))
    return found


def _team(f: _Frame, names: Sequence[str]) -> np.ndarray:
    """Changes whose author, or an author of one of whose commits, is named (case-insensitive)."""
    wanted = {n.casefold() for n in names}
    return np.array([
        any(p and p.casefold() in wanted for p in (row["author"], *(row["authors"] or ())))
        for row in f.authors.to_pylist()], dtype=bool)


def evaluate(facts: pa.Table, stage_rows: pa.Table, c: Cohorts) -> Impact:
    """Compare cohorts over ``facts`` (metrics/cohorts.py ``change_facts``) and ``stage_rows``
    (``done_stage_seconds``)."""
    f = _Frame.of(facts, stage_rows)
    out = Impact()
    if f.ai.any():
        if c.per_metric:
            out.comparisons = _compare(f, ~f.ai, f.ai, ("other", "AI-assisted"), c)
    else:
        out.messages.append("no AI-assisted changes in scope: nothing to compare AI with")
    amdahl_cohorts: tuple[np.ndarray, np.ndarray, str] | None = None
    if f.ai.any():
        amdahl_cohorts = (~f.ai, f.ai, "AI-assisted vs other changes")
    if c.pilot_start is not None:
        start = np.datetime64(c.pilot_start.replace(tzinfo=None), "us")
        after = f.merged_at >= start
        pilot = _team(f, c.pilot_team) if c.pilot_team else np.ones(len(after), bool)
        if not after.any() or after.all():
            out.messages.append("every change in scope falls on one side of --pilot-start:"
                                " nothing to compare before and after")
        else:
            if c.per_metric:
                out.pilot = _compare(f, pilot & ~after, pilot & after, ("before", "after"), c)
            amdahl_cohorts = (pilot & ~after, pilot & after, "after vs before the pilot"
                              + (" (pilot team)" if c.pilot_team else ""))
        if c.pilot_team and c.control_team and c.per_metric:
            control = _team(f, c.control_team) & ~pilot
            for metric, values, defined, statistic in _metrics(f):
                out.did.append(stats.difference_in_differences(
                    metric, values[pilot & ~after & defined], values[pilot & after & defined],
                    values[control & ~after & defined], values[control & after & defined],
                    statistic=statistic,
                    resamples=c.resamples, seed=c.seed))
        elif c.pilot_team or c.control_team:
            out.messages.append("difference-in-differences needs both --pilot-team and"
                                " --control-team")
    if amdahl_cohorts is not None:
        base, treat, basis = amdahl_cohorts
        stage = f.stages.get(AMDAHL_STAGE, np.full(len(f.done), np.nan))
        b, t = base & f.done, treat & f.done
        out.amdahl = amdahl.amdahl_check(
            np.nan_to_num(stage[b]), f.lead[b], np.nan_to_num(stage[t]), f.lead[t],
            stage=AMDAHL_STAGE, resamples=c.resamples, seed=c.seed)
        out.amdahl_basis = basis
    return out


# What a pilot should track at the level of work items (issue #8): spec → production, and the
# time spent on the specification (until clarification rounds are measured, the spec stage).
ITEM_METRICS = (("spec_to_production_s", "lead_time_s"), ("item_stage:spec", "spec_s"),
                ("item_stage:queue", "queue_s"))


def item_pilot(items: pa.Table, c: Cohorts) -> tuple[list[stats.Comparison], list[str]]:
    """Items created before vs after ``c.pilot_start`` (``items``: metrics.items ``item_facts``),
    compared on spec → production and the spec and queue stages; and messages."""
    if c.pilot_start is None or not c.per_metric:
        return [], []
    created = items.column("created_at").cast(pa.timestamp("us")).to_numpy()
    after = created >= np.datetime64(c.pilot_start.replace(tzinfo=None), "us")
    if not after.any() or after.all():
        return [], ["every delivered work item falls on one side of --pilot-start (by creation):"
                    " nothing to compare at item level"]
    out = []
    for metric, column in ITEM_METRICS:
        values = _floats(items, column)
        defined = ~np.isnan(values)
        out.append(stats.compare(metric, values[~after & defined], values[after & defined],
                                 labels=("before", "after"), resamples=c.resamples, seed=c.seed))
    return out, []
