"""Settings: ``leadlens.toml`` or ``[tool.leadlens]`` in ``pyproject.toml``; CLI flags override.

Every default leadlens has is written here once. The file keeps flat keys (``bot_pattern``,
``github_api_url``, ...); code reads typed sections (``settings.github``, ``settings.dora``, ...)
so that a call takes one section, not a dozen keyword arguments.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from leadlens.errors import UserError
from leadlens.patterns import problem

__all__ = [
    "DEFAULT_ACTIVITY_WINDOW_HOURS", "DEFAULT_AGENT_PATTERN", "DEFAULT_AI_REVIEWER_PATTERN",
    "DEFAULT_BOT_PATTERN", "DEFAULT_GITHUB_API_URL", "DEFAULT_GITHUB_MAX_WAIT",
    "DEFAULT_GITHUB_OVERLAP_MINUTES", "DEFAULT_GITHUB_TOKEN_ENV", "DEFAULT_INCIDENT_LABELS",
    "DEFAULT_INCIDENT_WINDOW_HOURS", "DEFAULT_JIRA_EMAIL_ENV", "DEFAULT_JIRA_OVERLAP_MINUTES",
    "DEFAULT_JIRA_TOKEN_ENV", "DEFAULT_K", "DEFAULT_KNOWN_HOSTS", "DEFAULT_PRODUCTION_PATTERN",
    "DEFAULT_RELEASE_TAG_PATTERN", "DEFAULT_RESAMPLES", "DEFAULT_REWORK_DAYS",
    "DEFAULT_RUBBER_STAMP_LINES", "DEFAULT_RUBBER_STAMP_MINUTES", "DEFAULT_SEED", "DEFAULT_STORE",
    "EARLIEST_PLAUSIBLE", "LONGEST_WINDOW", "AiRule", "AiSettings", "BotSettings",
    "CoordinationSettings", "DoraSettings",
    "FlowSettings", "GitSettings", "GithubSettings", "ItemSettings", "JiraSettings",
    "ReviewSettings", "Settings", "load_settings",
]

DEFAULT_STORE = Path(".leadlens") / "leadlens.duckdb"
# Dates before this, or after the moment they were read, are implausible (a clock at the epoch, a
# typo'd year): kept and flagged, and left out of flow and time-series figures (DESIGN.md).
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)
# Repository identity (DESIGN.md): hosts whose origin URL names OWNER/REPO.
DEFAULT_KNOWN_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")
# Release tags (DESIGN.md, Milestones).
DEFAULT_RELEASE_TAG_PATTERN = r"^(?:[\w.-]+/)?v?\d+(?:\.\d+)+$"
# Automation bots (never reviewers; their changes are reported apart): DESIGN.md, Bots and agents.
DEFAULT_BOT_PATTERN = (r"(?i)(\[bot\]$|^(dependabot|renovate|github-actions|greenkeeper|snyk-bot"
                       r"|pre-commit-ci|mergify|imgbot|allcontributors)\b)")
# AI coding agents are not automation bots: their changes are AI-assisted changes.
DEFAULT_AGENT_PATTERN = (r"(?i)^(copilot|copilot-swe-agent|devin-ai-integration|codex|jules"
                         r"|claude|cursor-agent|cursoragent|cursor agent|openhands-agent|sweep-ai"
                         r"|google-labs-jules|amazon-q-developer|codegen-sh)(\[bot\])?$")
# AI code reviewers, by the login they review as: never a person's review (DESIGN.md, Bots and
# agents). GitHub Copilot code review posts as `Copilot` or `copilot-pull-request-reviewer[bot]`;
# the others are the GitHub Apps of CodeRabbit, Gemini Code Assist, Sourcery, Ellipsis, Greptile,
# Qodo Merge, cubic, Korbit, Bito, OpenAI Codex code review and Cursor Bugbot. An agent
# (DEFAULT_AGENT_PATTERN) that reviews is an AI reviewer too.
DEFAULT_AI_REVIEWER_PATTERN = (r"(?i)^(copilot|(copilot-pull-request-reviewer|coderabbitai"
                               r"|gemini-code-assist|sourcery-ai|ellipsis-dev|greptile-apps"
                               r"|qodo-merge-pro|cubic-dev-ai|korbit-ai|bito-code-review"
                               r"|chatgpt-codex-connector|cursor)\[bot\])$")
DEFAULT_ACTIVITY_WINDOW_HOURS = 2.0
DEFAULT_REWORK_DAYS = 21.0
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_GITHUB_OVERLAP_MINUTES = 60.0
DEFAULT_GITHUB_TOKEN_ENV = "GITHUB_TOKEN"
DEFAULT_GITHUB_MAX_WAIT = 900.0  # seconds: the longest rate-limit wait a run sits out
DEFAULT_JIRA_TOKEN_ENV = "JIRA_API_TOKEN"
DEFAULT_JIRA_EMAIL_ENV = "JIRA_EMAIL"
DEFAULT_JIRA_OVERLAP_MINUTES = 60.0
# Production environments, matched case-insensitively (DESIGN.md, DORA).
DEFAULT_PRODUCTION_PATTERN = r"^(prod|production|live)$"
DEFAULT_INCIDENT_LABELS: tuple[str, ...] = ("incident", "outage")
DEFAULT_INCIDENT_WINDOW_HOURS = 72.0
DEFAULT_RUBBER_STAMP_MINUTES = 5.0
DEFAULT_RUBBER_STAMP_LINES = 300
# Coordination signals (docs/metrics-coordination.md): acceptance criteria in a description (a
# heading, a checklist, Given/When/Then), a question in a comment, bugs by label and issue type.
DEFAULT_ACCEPTANCE_PATTERNS: tuple[str, ...] = (
    r"(?im)^[\s#*_>]*(h[1-6]\.\s*)?[*_]*(acceptance criteria|definition of done|\bAC\b)",
    r"(?m)^\s*(?:[-*+]|\d+[.)])\s+\[[ xX]\]",
    r"(?is)\bgiven\b.+\bwhen\b.+\bthen\b",
)
DEFAULT_QUESTION_PATTERNS: tuple[str, ...] = (r"\?[\s)\]*_`\"']*$",)
DEFAULT_BUG_LABELS: tuple[str, ...] = ("bug", "type: bug", "type/bug", "kind/bug", "defect",
                                       "regression")
DEFAULT_BUG_ISSUE_TYPES: tuple[str, ...] = ("Bug", "Defect")
DEFAULT_BLOCKED_STATUSES: tuple[str, ...] = ("Blocked", "On Hold")
# Command-line defaults that are not settings: the Amdahl what-if factor, bootstrap resamples and seed.
DEFAULT_K = 2.0
DEFAULT_RESAMPLES = 9999
DEFAULT_SEED = 20240601
# The longest a time window setting may be: every window becomes a timedelta and a DuckDB interval,
# and no delivery question needs one longer than a century.
LONGEST_WINDOW = timedelta(days=36525)

RuleField = Literal["trailer", "author", "author_name", "committer", "subject", "message", "pr_label",
                    "pr_body", "pr_author", "pr_head_ref"]


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
    # (team, selectors): a Jira project key, an OWNER/REPO, or `component:NAME` (Jira components)
    teams: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class AiSettings:
    rules: tuple[AiRule, ...] = ()
    disabled_rules: tuple[str, ...] = ()
    agent_pattern: str = DEFAULT_AGENT_PATTERN


class Settings(BaseModel):
    """Every setting leadlens reads; docs/configuration.md documents each (a test checks it)."""

    # No setting means anything at infinity or NaN (an infinite window overflows every date).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    store: Path = Field(
        default=DEFAULT_STORE, description="DuckDB store file, relative to the working directory."
    )
    known_hosts: tuple[str, ...] = Field(
        default=DEFAULT_KNOWN_HOSTS,
        description="Git hosts whose origin URL gives a repository its OWNER/REPO name.",
    )
    release_tag_pattern: str = Field(
        default=DEFAULT_RELEASE_TAG_PATTERN,
        description="Tags that are releases (a regular expression; DESIGN.md, Milestones).",
    )
    jobs: int | None = Field(
        default=None, ge=1, description="Git processes to run at once (default: one per core)."
    )
    bot_pattern: str = Field(
        default=DEFAULT_BOT_PATTERN,
        description="Author names of automation bots, whose changes are left out of flow metrics"
        " unless --include-bots (a regular expression).",
    )
    agent_pattern: str = Field(
        default=DEFAULT_AGENT_PATTERN,
        description="Author names of AI coding agents: never counted as bots (a regular expression).",
    )
    ai_reviewer_pattern: str = Field(
        default=DEFAULT_AI_REVIEWER_PATTERN,
        description="Logins of AI code reviewers (a regular expression): their reviews and comments"
        " are AI reviews, never a person's review; an agent (agent_pattern) that reviews is one too.",
    )
    activity_window_hours: float = Field(
        default=DEFAULT_ACTIVITY_WINDOW_HOURS, gt=0,
        description="Time after someone acted that counts as active rather than waiting (hours).",
    )
    memory_limit: str = Field(
        default="1GB", pattern=r"^\s*\d+(\.\d+)?\s*([KMGT]i?B)\s*$",
        description="Memory DuckDB may use for a report or export; beyond it queries spill to"
        " disk (DuckDB size syntax: 512MB, 4GB).",
    )
    github_api_url: str = Field(
        default=DEFAULT_GITHUB_API_URL,
        description="GitHub's REST API (GitHub Enterprise Server: https://HOST/api/v3); --api-url"
        " overrides. Another than GitHub's is used from a settings file only with"
        " --trust-settings-api-url (a repository can ship the file).",
    )
    github_overlap_minutes: float = Field(
        default=DEFAULT_GITHUB_OVERLAP_MINUTES, ge=0,
        description="How far before its cursor an incremental GitHub ingest reads again, for objects"
        " that changed while the last run read (repeats are deduplicated by key).",
    )
    jira_url: str | None = Field(
        default=None,
        description="The Jira site (https://YOURSITE.atlassian.net, or a Data Center's base URL);"
        " --url overrides. Taken from a settings file only with --trust-settings-url (a"
        " repository can ship the file).",
    )
    jira_token_env: str = Field(
        default=DEFAULT_JIRA_TOKEN_ENV,
        description="Environment variable holding the Jira API token (Cloud) or personal access"
        " token (Data Center); --token-env overrides.",
    )
    jira_email_env: str = Field(
        default=DEFAULT_JIRA_EMAIL_ENV,
        description="Environment variable holding the e-mail address that goes with a Jira Cloud"
        " API token (Basic auth); unset, the token is sent as a bearer token (Data Center).",
    )
    jira_overlap_minutes: float = Field(
        default=DEFAULT_JIRA_OVERLAP_MINUTES, ge=0,
        description="How far before its cursor an incremental Jira ingest searches again (issues"
        " updated while the last run read; repeats are deduplicated by key).",
    )
    jira_store_emails: bool = Field(
        default=False,
        description="Store Jira users' e-mail addresses (jira_users.email); --store-emails.",
    )
    rework_days: float = Field(
        default=DEFAULT_REWORK_DAYS, gt=0,
        description="Rewriting lines younger than this many days counts as rework.",
    )
    ai_rules: tuple[AiRule, ...] = Field(
        default=(),
        description="Your own AI attribution rules, added to the defaults ([[ai_rules]] tables:"
        " name, field, pattern, key, tool); one named like a default replaces it.",
    )
    ai_disabled_rules: tuple[str, ...] = Field(
        default=(), description="Names of default AI attribution rules to switch off."
    )
    production_pattern: str = Field(
        default=DEFAULT_PRODUCTION_PATTERN,
        description="Deployment environments that are production (a regular expression, matched"
        " case-insensitively; DESIGN.md, DORA).",
    )
    incident_labels: tuple[str, ...] = Field(
        default=DEFAULT_INCIDENT_LABELS,
        description="Issue labels that make an issue an incident (case-insensitive).",
    )
    incident_window_hours: float = Field(
        default=DEFAULT_INCIDENT_WINDOW_HOURS, gt=0,
        description="An incident naming no change links to the last production deployment this"
        " many hours before it.",
    )
    rubber_stamp_minutes: float = Field(
        default=DEFAULT_RUBBER_STAMP_MINUTES, ge=0,
        description="An approval this soon after the PR was ready or got its last commit is a"
        " rubber stamp (on a diff over rubber_stamp_lines).",
    )
    rubber_stamp_lines: int = Field(
        default=DEFAULT_RUBBER_STAMP_LINES, ge=0, description="Diff size (added + deleted lines)"
        " above which a quick approval is a rubber stamp.",
    )

    item_key_pattern: str | None = Field(
        default=None,
        description="Work item keys in branch names, titles, bodies and commit messages (a regular"
        " expression matching a whole key, e.g. `\\b(?:ABC|OPS)-[1-9][0-9]*\\b`); unset: the"
        " keys of the ingested Jira projects, so `UTF-8` is never a key.",
    )
    ready_statuses: StatusMap = Field(
        default_factory=dict,
        description="Per project (a Jira project's key, a GitHub OWNER/REPO for its issues' Projects"
        " v2 statuses, or `*` for all): the statuses that mean ready for work (item_ready is the"
        " first move into one); unset: for Jira the first move into a To Do status that is not the"
        " item's initial one, for GitHub none.",
    )
    in_progress_statuses: StatusMap = Field(
        default_factory=dict,
        description="Per project (its key, or `*`): statuses that mean work started, whatever"
        " their status category (work_started is the first move into one).",
    )
    done_statuses: StatusMap = Field(
        default_factory=dict,
        description="Per project (its key, or `*`): statuses that mean done, whatever their"
        " status category.",
    )

    acceptance_patterns: tuple[str, ...] = Field(
        default=DEFAULT_ACCEPTANCE_PATTERNS,
        description="Acceptance criteria in an item's description (regular expressions, any"
        " matches): a heading, a checklist, Given/When/Then.",
    )
    question_patterns: tuple[str, ...] = Field(
        default=DEFAULT_QUESTION_PATTERNS,
        description="A comment is a question when one of these matches it (regular expressions);"
        " by default, when it ends in a question mark.",
    )
    bug_labels: tuple[str, ...] = Field(
        default=DEFAULT_BUG_LABELS,
        description="Issue labels (case-insensitive) that make a GitHub issue a bug report.",
    )
    bug_issue_types: tuple[str, ...] = Field(
        default=DEFAULT_BUG_ISSUE_TYPES,
        description="Jira issue types (case-insensitive) that are bug reports.",
    )
    blocked_statuses: tuple[str, ...] = Field(
        default=DEFAULT_BLOCKED_STATUSES,
        description="Statuses (case-insensitive) in which a work item is blocked.",
    )
    teams: StatusMap = Field(
        default_factory=dict,
        description="Team name -> what belongs to it: Jira project keys, OWNER/REPO names,"
        " `component:NAME` (Jira components); unset: each project or repository is a team.",
    )

    @field_validator("acceptance_patterns", "question_patterns")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            why = problem(pattern)
            if why is not None:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {why}")
        return value

    @field_validator("item_key_pattern")
    @classmethod
    def _key_pattern_compiles(cls, value: str | None) -> str | None:
        why = problem(value) if value is not None else None
        if why is not None:
            raise ValueError(f"not a valid regular expression: {why}")
        return value

    @field_validator("activity_window_hours", "github_overlap_minutes", "jira_overlap_minutes",
                     "incident_window_hours")
    @classmethod
    def _window_fits(cls, value: float, info: ValidationInfo) -> float:
        unit = "minutes" if (info.field_name or "").endswith("_minutes") else "hours"
        most = LONGEST_WINDOW / timedelta(**{unit: 1})
        if value > most:
            raise ValueError(f"at most {most:,.0f} {unit} (100 years)")
        return value

    # Typed sections: what each area of the code reads.
    @property
    def git(self) -> GitSettings:
        return GitSettings(self.known_hosts, self.release_tag_pattern, self.jobs)

    @property
    def bots(self) -> BotSettings:
        return BotSettings(self.bot_pattern, self.agent_pattern, self.ai_reviewer_pattern)

    @property
    def flow(self) -> FlowSettings:
        return FlowSettings(timedelta(hours=self.activity_window_hours), self.rework_days)

    @property
    def github(self) -> GithubSettings:
        return GithubSettings(self.github_api_url, timedelta(minutes=self.github_overlap_minutes))

    @property
    def jira(self) -> JiraSettings:
        return JiraSettings(self.jira_url, self.jira_token_env, self.jira_email_env,
                            timedelta(minutes=self.jira_overlap_minutes), self.jira_store_emails)

    @property
    def dora(self) -> DoraSettings:
        return DoraSettings(self.production_pattern, self.incident_labels, self.incident_window_hours)

    @property
    def review(self) -> ReviewSettings:
        return ReviewSettings(self.rubber_stamp_minutes, self.rubber_stamp_lines)

    @property
    def ai(self) -> AiSettings:
        return AiSettings(self.ai_rules, self.ai_disabled_rules, self.agent_pattern)

    @property
    def items(self) -> ItemSettings:
        def pairs(m: StatusMap) -> tuple[tuple[str, tuple[str, ...]], ...]:
            return tuple(sorted((k, tuple(v)) for k, v in m.items()))
        return ItemSettings(self.item_key_pattern, pairs(self.ready_statuses),
                            pairs(self.in_progress_statuses), pairs(self.done_statuses))

    @property
    def coordination(self) -> CoordinationSettings:
        return CoordinationSettings(
            self.acceptance_patterns, self.question_patterns, self.bug_labels,
            self.bug_issue_types, self.blocked_statuses,
            tuple(sorted((k, tuple(v)) for k, v in self.teams.items())))


def load_settings(directory: Path | None = None) -> Settings:
    """Read settings from ``directory`` (default: the working directory)."""
    base = directory or Path.cwd()
    own = base / "leadlens.toml"
    pyproject = base / "pyproject.toml"
    data: dict[str, object] = {}
    source = None
    if own.is_file():
        data, source = _read(own), own
    elif pyproject.is_file():
        tool = _read(pyproject).get("tool", {})
        found = tool.get("leadlens") if isinstance(tool, dict) else None
        if isinstance(found, dict):
            data, source = found, pyproject
    # [policy] is the policy file's own table (policy/config.py reads it), not a setting.
    data = {key: value for key, value in data.items() if key != "policy"}
    try:
        return _valid_pattern(Settings.model_validate(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise UserError(f"bad settings in {source}: {problems}") from exc


def _valid_pattern(settings: Settings) -> Settings:
    for name in ("release_tag_pattern", "bot_pattern", "agent_pattern", "ai_reviewer_pattern",
                 "production_pattern"):
        why = problem(getattr(settings, name))
        if why is not None:
            raise UserError(f"{name} is not a valid regular expression: {why}")
    return settings


def _read(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:  # TOML is UTF-8; tomllib lets the decoder's error through
        raise UserError(f"{path} is not valid TOML: not UTF-8 (byte {exc.start + 1} is"
                        f" {exc.object[exc.start:exc.start + 1]!r})") from exc
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from exc
