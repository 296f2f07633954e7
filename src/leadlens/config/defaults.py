"""Every default leadlens has, written once (the settings and the command line read them here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

__all__ = [
    "DEFAULT_ACCEPTANCE_PATTERNS", "DEFAULT_ACTIVITY_WINDOW_HOURS", "DEFAULT_AGENT_PATTERN",
    "DEFAULT_AI_REVIEWER_PATTERN", "DEFAULT_BLOCKED_STATUSES", "DEFAULT_BOT_PATTERN",
    "DEFAULT_BUG_ISSUE_TYPES", "DEFAULT_BUG_LABELS", "DEFAULT_COORDINATION_RESAMPLES",
    "DEFAULT_GITHUB_API_URL", "DEFAULT_GITHUB_MAX_WAIT", "DEFAULT_GITHUB_OVERLAP_MINUTES",
    "DEFAULT_GITHUB_TOKEN_ENV", "DEFAULT_INCIDENT_LABELS", "DEFAULT_INCIDENT_WINDOW_HOURS",
    "DEFAULT_JIRA_EMAIL_ENV", "DEFAULT_JIRA_OVERLAP_MINUTES", "DEFAULT_JIRA_TOKEN_ENV", "DEFAULT_K",
    "DEFAULT_KNOWN_HOSTS", "DEFAULT_PRODUCTION_PATTERN", "DEFAULT_QUESTION_PATTERNS",
    "DEFAULT_RELEASE_TAG_PATTERN", "DEFAULT_RESAMPLES", "DEFAULT_REVIEW_STATUS_PATTERN",
    "DEFAULT_REWORK_DAYS", "DEFAULT_RUBBER_STAMP_LINES", "DEFAULT_RUBBER_STAMP_MINUTES",
    "DEFAULT_SEED", "DEFAULT_STORE", "EARLIEST_PLAUSIBLE", "LONGEST_WINDOW", "RuleField",
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
# A question ends in a question mark (ASCII, or the full-width U+FF1F), perhaps followed by
# closing quotes, brackets, emphasis, or mentions of whom it asks (`Can we drop v1? @alice`, Jira's
# `[~accountid:…]`).
DEFAULT_QUESTION_PATTERNS: tuple[str, ...] = (
    r"[?\x{FF1F}][\s)\]*_`\"'\x{2019}\x{201D}]*(?:(?:@[\w.-]+|\[~[^\]\n]*\])[\s,]*)*$",)
DEFAULT_BUG_LABELS: tuple[str, ...] = ("bug", "type: bug", "type/bug", "kind/bug", "defect",
                                       "regression")
DEFAULT_BUG_ISSUE_TYPES: tuple[str, ...] = ("Bug", "Defect")
DEFAULT_BLOCKED_STATUSES: tuple[str, ...] = ("Blocked", "On Hold")
# A review or QA status, by its name: "In Review", "Code Review", "QA", "In Test", "Testing",
# "Verification", "Validating", ... A move from one into an in-progress status is a bounce-back.
DEFAULT_REVIEW_STATUS_PATTERN = r"(?i)(review|\bqa\b|test|verif|validat)"
# Command-line defaults that are not settings: the Amdahl what-if factor, bootstrap resamples and seed.
DEFAULT_K = 2.0
DEFAULT_RESAMPLES = 9999
# The coordination signals' intervals: many differences, each over up to hundreds of thousands of
# reviews or questions; 1,999 resamples keep a 95% BCa interval's end points within Monte Carlo
# noise well below its width, at a fifth of the cost.
DEFAULT_COORDINATION_RESAMPLES = 1999
DEFAULT_SEED = 20240601
# The longest a time window setting may be: every window becomes a timedelta and a DuckDB interval,
# and no delivery question needs one longer than a century.
LONGEST_WINDOW = timedelta(days=36525)

RuleField = Literal["trailer", "author", "author_name", "committer", "subject", "message", "pr_label",
                    "pr_body", "pr_author", "pr_head_ref"]
