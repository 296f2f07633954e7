"""What a rule reads (the facts of one change) and what it says (findings), whatever the source.

A change's facts come from git alone (`leadlens gate --base --head`), from a pull request
(`leadlens gate --github OWNER/REPO#N`) or from the store (`leadlens audit`); a fact a source
cannot give is None — unknown — and a rule that needs it says "unknown", never "pass".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = ["Approval", "ChangeFacts", "Check", "CommitFacts", "FileChange", "Finding", "Outcome"]

Outcome = Literal["pass", "fail", "unknown", "not_applicable"]


@dataclass(frozen=True)
class FileChange:
    """A path the change touched: lines added and deleted (None for binary files), and the
    added lines' text when the source has it (git diff; for the secret detector)."""

    path: str
    added: int | None = None
    deleted: int | None = None
    status: str = "M"  # A added, M modified, D deleted, R renamed (path is the new name)
    old_path: str | None = None
    added_lines: tuple[tuple[int, str], ...] | None = None  # (line number in the new file, text)


@dataclass(frozen=True)
class CommitFacts:
    sha: str
    author: str | None  # name <email>, or login
    message: str
    trailers: tuple[tuple[str, str], ...] = ()  # (key, value), keys as written
    ai_assisted: bool | None = None
    ai_tool: str | None = None
    committed_at: datetime | None = None


@dataclass(frozen=True)
class Approval:
    """An approving review (or a review trailer, which carries no time)."""

    reviewer: str  # login, or the trailer's name <email>
    at: datetime | None  # None for a trailer
    after_last_push: bool | None  # None when unknown (a trailer, no push times)
    is_bot: bool = False
    is_ai: bool = False
    teams: tuple[str, ...] = ()  # @org/team names the review was given for (a team's review request)


@dataclass(frozen=True)
class Check:
    name: str
    conclusion: str | None  # success | failure | neutral | cancelled | skipped | ... ; None: pending


@dataclass(frozen=True)
class ChangeFacts:
    """Everything the rules may read about one change. None: the source cannot say."""

    id: str  # OWNER/REPO#N, OWNER/REPO@sha, or BASE..HEAD
    repo: str | None
    author: str | None
    files: tuple[FileChange, ...]
    commits: tuple[CommitFacts, ...] = ()
    approvals: tuple[Approval, ...] | None = None  # None: no review data (git alone, no trailers)
    checks: tuple[Check, ...] | None = None  # None: no CI data for the head commit
    labels: tuple[str, ...] | None = None  # None: no PR data
    ai_assisted: bool | None = None
    merged_at: datetime | None = None
    last_push_at: datetime | None = None
    codeowners: str | None = None  # the CODEOWNERS text that applies (base branch), if any
    codeowners_path: str | None = None


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one change: which rule, which files, and what would satisfy it."""

    rule: str  # the rule's name in the policy file
    kind: str  # the built-in rule it is (risk-paths, codeowners, ...)
    outcome: Outcome
    message: str  # what is wrong, or why it is unknown
    fix: str | None = None  # what would satisfy it
    files: tuple[str, ...] = ()
    lines: tuple[tuple[str, int], ...] = ()  # (path, line) for line-level findings (secrets)
    level: Literal["error", "warning", "note"] = "error"
    evidence: dict[str, object] = field(default_factory=dict)
