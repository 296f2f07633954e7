"""Settings: ``leadlens.toml`` or ``[tool.leadlens]`` in ``pyproject.toml``; CLI flags override."""

from __future__ import annotations

import tomllib
from datetime import timedelta
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
    DEFAULT_STORE,
    LONGEST_WINDOW,
)
from leadlens.config.sections import (
    AiRule,
    AiSettings,
    BotSettings,
    CoordinationSettings,
    DoraSettings,
    FlowSettings,
    GithubSettings,
    GitSettings,
    ItemSettings,
    JiraSettings,
    ReviewSettings,
    StatusMap,
)
from leadlens.errors import UserError
from leadlens.patterns import problem

__all__ = ["Settings", "load_settings"]

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
    github_api: Literal["graphql", "rest"] = Field(
        default="graphql",
        description="How `ingest github` reads pull requests and what hangs on them: graphql (a"
        " page of pull requests with their reviews, commits, timeline and checks a query) or rest"
        " (five requests a pull request); --api overrides.",
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
    review_status_pattern: str = Field(
        default=DEFAULT_REVIEW_STATUS_PATTERN,
        description="Status names that are review or QA (a regular expression): a move from one"
        " into an in-progress status is a bounce-back.",
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
        return GithubSettings(self.github_api_url, timedelta(minutes=self.github_overlap_minutes),
                              self.github_api)

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
            self.bug_issue_types, self.blocked_statuses, self.review_status_pattern,
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
                 "production_pattern", "review_status_pattern"):
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
