"""The flow figures an analysis hands the report: typed, frozen, serialised as docs/report-json.md says."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Bin", "Distribution", "Evidence", "FlowFigures", "InFlight", "InFlightStage", "Month",
    "RepoSummary", "Revert", "Rework", "Scope", "Size", "Stage", "Waited", "Week",
]


class _Figure(BaseModel):
    model_config = ConfigDict(frozen=True)


class Distribution(_Figure):
    n: int
    median_s: float | None
    p85_s: float | None
    p95_s: float | None
    mean_s: float | None


class Bin(_Figure):
    lo_s: float
    hi_s: float | None  # None: no upper bound
    changes: int


class Scope(_Figure):
    since: datetime | None
    until: datetime | None
    repos: list[str]
    include_bots: bool
    k: float
    activity_window_s: float
    rework_days: float
    as_of: datetime


class RepoSummary(_Figure):
    repo: str
    lead_time_basis: str  # released | merged
    changes: int
    in_flight: int
    lead_time: Distribution


class Stage(_Figure):
    name: str
    share: float
    median_s: float | None
    active_s: float
    waiting_s: float
    changes_with_stage: int
    amdahl_ceiling: float | None  # None: the stage is all of lead time (no ceiling)
    speedup_if_2x: float
    speedup_at_k: float


class Month(_Figure):
    month: str  # YYYY-MM of merged
    lead_time: Distribution
    stage_shares: dict[str, float]


class Week(_Figure):
    week: str  # ISO date of the Monday
    changes: int


class InFlightStage(_Figure):
    stage: str  # the stage it is in now: after its last milestone
    changes: int
    median_age_s: float | None


class InFlight(_Figure):
    count: int
    age: Distribution  # from the first milestone to as_of
    by_stage: list[InFlightStage]


class Size(_Figure):
    median_lines: float | None
    median_files: float | None
    buckets: dict[str, int]  # XS < 10, S < 50, M < 250, L < 1000, XL >= 1000 lines
    lead_time_median_s: dict[str, float | None]


class Revert(_Figure):
    reverted_changes: int
    revert_changes: int
    time_to_revert: Distribution


class Rework(_Figure):
    days: float
    recent_lines: int
    changed_lines: int
    commits_with_history: int
    commits: int


class Evidence(_Figure):
    milestones: dict[str, int]
    proxies: dict[str, int]
    out_of_order: int
    implausible_dates: dict[str, int]  # milestones left out for an implausible date


class Waited(_Figure):
    id: str
    title: str | None
    url: str | None
    seconds: float
    in_flight: bool


class FlowFigures(_Figure):
    """Every flow figure of the report, in the report's order (``report.model.Report`` inherits
    them, between its header and its sections)."""

    repos: list[RepoSummary]
    changes: int  # with a lead time
    in_flight: InFlight
    bot_changes: int  # reported apart, left out of flow metrics unless include_bots
    shallow_cut_changes: int  # their history is cut by a shallow clone: left out
    lead_time_basis: str  # released | merged | mixed (see repos)
    lead_time: Distribution
    lead_time_histogram: list[Bin]
    stages: list[Stage]
    months: list[Month]
    throughput_per_week: float | None
    weeks: list[Week]
    releases: int
    release_frequency_per_week: float | None
    size: Size
    revert_rate: float | None
    reverts: Revert
    rework_rate: float | None
    rework: Rework | None
    evidence: Evidence
    active_s: float
    waiting_s: float
    waited_longest: dict[str, list[Waited]]
