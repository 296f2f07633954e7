"""The typed sections code reads (``settings.github``, ``settings.dora``, ...) and the AI rule of a
settings file; their defaults come from :mod:`leadlens.config.defaults`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadlens.config.defaults import (
    DEFAULT_ACCEPTANCE_PATTERNS,
    DEFAULT_ACTIVITY_WINDOW_HOURS,
    DEFAULT_AGENT_PATTERN,
    DEFAULT_AI_REVIEWER_PATTERN,
    DEFAULT_BLOCKED_STATUSES,
    DEFAULT_BOT_PATTERN,
    DEFAULT_BUG_ISSUE_TYPES,
    DEFAULT_BUG_LABELS,
    DEFAULT_GITHUB_API_URL,
    DEFAULT_GITHUB_OVERLAP_MINUTES,
    DEFAULT_INCIDENT_LABELS,
    DEFAULT_INCIDENT_WINDOW_HOURS,
    DEFAULT_JIRA_EMAIL_ENV,
    DEFAULT_JIRA_OVERLAP_MINUTES,
    DEFAULT_JIRA_TOKEN_ENV,
    DEFAULT_KNOWN_HOSTS,
    DEFAULT_PRODUCTION_PATTERN,
    DEFAULT_QUESTION_PATTERNS,
    DEFAULT_RELEASE_TAG_PATTERN,
    DEFAULT_REVIEW_STATUS_PATTERN,
    DEFAULT_REWORK_DAYS,
    DEFAULT_RUBBER_STAMP_LINES,
    DEFAULT_RUBBER_STAMP_MINUTES,
    RuleField,
)
from leadlens.patterns import problem

__all__ = [
    "AiRule", "AiSettings", "BotSettings", "CoordinationSettings", "DoraSettings", "FlowSettings",
    "GitSettings", "GithubSettings", "ItemSettings", "JiraSettings", "ReviewSettings", "StatusMap",
]

class AiRule(BaseModel):
    """One attribution rule: a regular expression (searched, case-insensitive) on one field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Named in the evidence of every match.")
    field: RuleField = Field(
        description="What the pattern reads: trailer (its value; `key` picks the trailer), author or"
        " committer (`Name <email>`), subject, message (subject and body), pr_label (each label),"
        " pr_body, pr_author (login), pr_head_ref (the branch); author_name is the name alone."
    )
    pattern: str = Field(description="Regular expression (RE2 syntax), searched case-insensitively.")
    key: str | None = Field(
        default=None, description="For trailer rules: the trailer key (case-insensitive, exact)."
    )
    tool: str | None = Field(
        default=None, description="The AI tool a match names (`Claude Code`, ...); unset: the tool"
        " the matched text names, if any."
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        why = problem(value)
        if why is not None:
            raise ValueError(f"not a valid regular expression: {why}")
        return value


@dataclass(frozen=True)
class GitSettings:
    known_hosts: tuple[str, ...] = DEFAULT_KNOWN_HOSTS
    release_tag_pattern: str = DEFAULT_RELEASE_TAG_PATTERN
    jobs: int | None = None


@dataclass(frozen=True)
class BotSettings:
    bot_pattern: str = DEFAULT_BOT_PATTERN
    agent_pattern: str = DEFAULT_AGENT_PATTERN
    ai_reviewer_pattern: str = DEFAULT_AI_REVIEWER_PATTERN


@dataclass(frozen=True)
class FlowSettings:
    activity_window: timedelta = timedelta(hours=DEFAULT_ACTIVITY_WINDOW_HOURS)
    rework_days: float = DEFAULT_REWORK_DAYS


@dataclass(frozen=True)
class GithubSettings:
    api_url: str = DEFAULT_GITHUB_API_URL
    overlap: timedelta = timedelta(minutes=DEFAULT_GITHUB_OVERLAP_MINUTES)
    api: str = "graphql"  # how pull requests are read: graphql | rest


@dataclass(frozen=True)
class JiraSettings:
    url: str | None = None
    token_env: str = DEFAULT_JIRA_TOKEN_ENV
    email_env: str = DEFAULT_JIRA_EMAIL_ENV
    overlap: timedelta = timedelta(minutes=DEFAULT_JIRA_OVERLAP_MINUTES)
    store_emails: bool = False


@dataclass(frozen=True)
class DoraSettings:
    production_pattern: str = DEFAULT_PRODUCTION_PATTERN
    incident_labels: tuple[str, ...] = DEFAULT_INCIDENT_LABELS
    incident_window_hours: float = DEFAULT_INCIDENT_WINDOW_HOURS


@dataclass(frozen=True)
class ReviewSettings:
    rubber_stamp_minutes: float = DEFAULT_RUBBER_STAMP_MINUTES
    rubber_stamp_lines: int = DEFAULT_RUBBER_STAMP_LINES


@dataclass(frozen=True)
class ItemSettings:
    """How work items are read: which text is an item key, and which statuses mean what."""

    key_pattern: str | None = None  # None: the keys of the ingested Jira projects
    ready_statuses: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (project or "*", statuses)
    in_progress_statuses: tuple[tuple[str, tuple[str, ...]], ...] = ()
    done_statuses: tuple[tuple[str, tuple[str, ...]], ...] = ()


StatusMap = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class CoordinationSettings:
    """What the coordination signals read as acceptance criteria, questions, bugs, blocked
    statuses and teams (docs/metrics-coordination.md)."""

    acceptance_patterns: tuple[str, ...] = DEFAULT_ACCEPTANCE_PATTERNS
    question_patterns: tuple[str, ...] = DEFAULT_QUESTION_PATTERNS
    bug_labels: tuple[str, ...] = DEFAULT_BUG_LABELS  # case-insensitive
    bug_issue_types: tuple[str, ...] = DEFAULT_BUG_ISSUE_TYPES  # case-insensitive
    blocked_statuses: tuple[str, ...] = DEFAULT_BLOCKED_STATUSES  # case-insensitive
    review_status_pattern: str = DEFAULT_REVIEW_STATUS_PATTERN
    # (team, selectors): a Jira project key, an OWNER/REPO, or `component:NAME` (Jira components)
    teams: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class AiSettings:
    rules: tuple[AiRule, ...] = ()
    disabled_rules: tuple[str, ...] = ()
    agent_pattern: str = DEFAULT_AGENT_PATTERN
