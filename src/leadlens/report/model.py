"""The report document: what `leadlens report --format json` prints (docs/report-json.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from leadlens.metrics.dora import Dora
from leadlens.report.model_ai import AiSection

__all__ = [
    "BacklogDay", "Bin", "Distribution", "Dora", "Evidence", "InFlight", "InFlightStage", "Month",
    "RepoSummary", "Report", "Revert", "ReviewSignals", "Rework", "Scope", "Size", "Stage", "Waited",
    "Week",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Distribution(_Model):
    n: int
    median_s: float | None
    p85_s: float | None
    p95_s: float | None
    mean_s: float | None


class Bin(_Model):
    lo_s: float
    hi_s: float | None  # None: no upper bound
    changes: int


class Scope(_Model):
    since: datetime | None
    until: datetime | None
    repos: list[str]
    include_bots: bool
    k: float
    activity_window_s: float
    rework_days: float
    as_of: datetime


class RepoSummary(_Model):
    repo: str
    lead_time_basis: str  # released | merged
    changes: int
    in_flight: int
    lead_time: Distribution


class Stage(_Model):
    name: str
    share: float
    median_s: float | None
    active_s: float
    waiting_s: float
    changes_with_stage: int
    amdahl_ceiling: float | None  # None: the stage is all of lead time (no ceiling)
    speedup_if_2x: float
    speedup_at_k: float


class Month(_Model):
    month: str  # YYYY-MM of merged
    lead_time: Distribution
    stage_shares: dict[str, float]


class Week(_Model):
    week: str  # ISO date of the Monday
    changes: int


class InFlightStage(_Model):
    stage: str  # the stage it is in now: after its last milestone
    changes: int
    median_age_s: float | None


class InFlight(_Model):
    count: int
    age: Distribution  # from the first milestone to as_of
    by_stage: list[InFlightStage]


class Size(_Model):
    median_lines: float | None
    median_files: float | None
    buckets: dict[str, int]  # XS < 10, S < 50, M < 250, L < 1000, XL >= 1000 lines
    lead_time_median_s: dict[str, float | None]


class Revert(_Model):
    reverted_changes: int
    revert_changes: int
    time_to_revert: Distribution


class Rework(_Model):
    days: float
    recent_lines: int
    changed_lines: int
    commits_with_history: int
    commits: int


class Evidence(_Model):
    milestones: dict[str, int]
    proxies: dict[str, int]
    out_of_order: int


class Waited(_Model):
    id: str
    title: str | None
    url: str | None
    seconds: float
    in_flight: bool


class BacklogDay(_Model):
    day: str  # ISO date (UTC)
    awaiting: int


class ReviewSignals(_Model):
    """Review signals from forge data (docs/metrics-review.md); team-level, no one is named."""

    pull_requests: int
    pickup_median_s: float | None
    pickup_with_bots_median_s: float | None
    review_median_s: float | None
    review_with_bots_median_s: float | None
    reviewed_prs: int
    review_rounds: int
    prs_with_rounds: int
    rounds_per_reviewed_pr: float | None
    reviewers: int
    reviews: int
    reviews_per_reviewer_median: float | None
    top_reviewers_share: float | None
    reviewer_gini: float | None
    merged_without_review: int
    merged_without_review_rate: float | None
    rubber_stamp_approvals: int
    rubber_stamp_prs: int
    rubber_stamp_minutes: float
    rubber_stamp_lines: int
    backlog: list[BacklogDay]


class Report(_Model):
    leadlens_version: str
    generated_at: datetime
    scope: Scope
    headline: list[str]
    messages: list[str]
    repos: list[RepoSummary]
    changes: int  # with a lead time
    in_flight: InFlight
    bot_changes: int  # reported apart, left out of flow metrics unless include_bots
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
    ai: AiSection | None = None  # AI attribution and impact (`leadlens ai report` explains)
    dora: Dora | None = None
    review: ReviewSignals | None = None
