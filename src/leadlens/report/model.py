"""The report document: what `leadlens report --format json` prints (docs/report-json.md).

Its AI section is also what `leadlens ai report --format json` prints on its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from leadlens.analysis.amdahl import AmdahlCheck
from leadlens.analysis.collisions import CollisionFigures
from leadlens.analysis.escapes import EscapeFigures
from leadlens.analysis.figures import FlowFigures, Scope
from leadlens.analysis.handoffs import HandoffFigures
from leadlens.analysis.items_summary import ItemFigures
from leadlens.analysis.questions import QuestionFigures
from leadlens.analysis.signal_split import SignalSplit
from leadlens.analysis.spec_quality import SpecQuality
from leadlens.analysis.stats import Comparison, DiD
from leadlens.analysis.time_zones import TimeZoneFigures
from leadlens.analysis.trend import Trend
from leadlens.analysis.waiting import WaitingCause
from leadlens.analysis.whatif_section import WhatIfSection
from leadlens.metrics.dora import Dora

__all__ = ["AiSection", "BacklogDay", "Coordination", "Report", "ReviewSignals", "RuleCount", "Survival",
           "ToolPullRequests"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class RuleCount(_Model):
    rule: str
    commits: int  # commits in scope it matched
    changes: int  # changes in scope with such a commit
    example: str | None  # a matched text


class Survival(_Model):
    """Of the lines commits added, the share rewritten or deleted within ``days``."""

    days: int
    ai_commits: int
    ai_lines: int
    ai_rewritten: int
    ai_rewritten_share: float | None
    human_commits: int
    human_lines: int
    human_rewritten: int
    human_rewritten_share: float | None


class ToolPullRequests(_Model):
    """Pull requests created in scope, merged or not, by the tool behind them (`human`: none)."""

    tool: str
    prs: int
    merged: int
    closed_unmerged: int
    open: int
    merged_share: float  # of prs, open ones included
    closed_unmerged_share: float
    median_open_to_merge_s: float | None  # created -> merged, over the merged
    median_open_to_close_s: float | None  # created -> closed, over the closed unmerged


class AiSection(_Model):
    headline: str
    changes: int  # in scope
    ai_changes: int
    ai_change_share: float | None
    ai_line_share: float | None  # of all lines the scope's changes changed, the AI commits' share
    rules: list[RuleCount]
    rules_in_force: list[str]
    pilot_start: datetime | None
    pilot_team: list[str]
    control_team: list[str]
    resamples: int
    seed: int
    comparisons: list[Comparison]  # AI-assisted vs other changes
    pilot: list[Comparison]  # after vs before --pilot-start
    item_pilot: list[Comparison]  # work items created after vs before --pilot-start
    did: list[DiD]
    amdahl: AmdahlCheck | None
    amdahl_basis: str | None
    survival: list[Survival]  # empty without line history
    by_tool: list[ToolPullRequests] | None  # null without pull request data
    messages: list[str]
    by_signal: SignalSplit | None = None  # `ai report --by SIGNAL`


class BacklogDay(_Model):
    day: str  # ISO date (UTC)
    awaiting: int


class ReviewSignals(_Model):
    """Review signals from forge data (docs/metrics-review.md); team-level, no one is named. Null
    with the ``reason`` when no repository in scope has review data (pull request data)."""

    reason: str | None
    no_review_data: list[str]
    pull_requests: int | None
    pickup_median_s: float | None
    pickup_with_bots_median_s: float | None
    review_median_s: float | None
    review_with_bots_median_s: float | None
    reviewed_prs: int | None
    review_rounds: int | None
    prs_with_rounds: int | None
    rounds_per_reviewed_pr: float | None
    reviewers: int | None
    reviews: int | None
    reviews_per_reviewer_median: float | None
    top_reviewers_share: float | None
    reviewer_gini: float | None
    merged_without_review: int | None
    merged_without_review_rate: float | None
    changes_with_review_trailers: int
    ai_reviewed_prs: int | None
    ai_reviewed_share: float | None
    ai_first_review_median_s: float | None
    ai_reviewers: dict[str, int] | None
    rubber_stamp_approvals: int | None
    rubber_stamp_prs: int | None
    rubber_stamp_minutes: float
    rubber_stamp_lines: int
    backlog: list[BacklogDay] | None
    null_reasons: dict[str, str]


class Coordination(_Model):
    """Why work waits around the code (docs/metrics-coordination.md): each signal null with its
    reason when the store lacks what it needs; people named only with ``per_person``."""

    per_person: bool  # --per-person: the signals' per-person lists are filled
    questions: QuestionFigures  # clarification and decision latency
    time_zones: TimeZoneFigures
    handoffs: HandoffFigures  # handoffs, blocked time, cross-team links, WIP, context switching
    collisions: CollisionFigures
    defect_escapes: EscapeFigures
    waiting_causes: list[WaitingCause]  # every cause measured (stages' too), most hours first
    largest_waiting_cause: WaitingCause | None  # the first of them


class _Header(_Model):
    leadlens_version: str
    generated_at: datetime
    scope: Scope
    headline: list[str]
    trend: Trend  # the headline's first line, in figures (docs/report-json.md, trend)
    messages: list[str]


class Report(FlowFigures, _Header):
    """The header, then the flow figures (``analysis.figures.FlowFigures``), then the sections.
    Pydantic orders inherited fields from the last base to the first, so the JSON reads in that
    order (tests/golden holds it byte for byte); the build passes the figures as keywords, and an
    extra field is an error rather than a figure dropped silently."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ai: AiSection | None = None  # AI attribution and impact (`leadlens ai report` explains)
    dora: Dora | None = None
    review: ReviewSignals | None = None
    abandoned: int | None = None  # PRs created in scope, closed unmerged; null without PR data
    items: ItemFigures | None = None  # work items: spec → production; null without work items
    audit: dict[str, Any] | None = None  # `leadlens report --audit`: the audit (docs/audit.md)
    spec_quality: SpecQuality | None = None  # how well work items were specified
    coordination: Coordination | None = None  # why work waits around the code
    whatif: WhatIfSection | None = None  # Amdahl's curves and the AI scenario simulated
