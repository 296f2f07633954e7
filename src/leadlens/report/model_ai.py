"""The AI section of the report (`leadlens ai report`, and `ai` in the main report's JSON)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from leadlens.analysis.stats import AmdahlCheck, Comparison, DiD

__all__ = ["AiSection", "RuleCount", "Survival"]


class RuleCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    commits: int  # commits in scope it matched
    changes: int  # changes in scope with such a commit
    example: str | None  # a matched text


class Survival(BaseModel):
    """Of the lines commits added, the share rewritten or deleted within ``days``."""

    model_config = ConfigDict(frozen=True)

    days: int
    ai_commits: int
    ai_lines: int
    ai_rewritten: int
    ai_rewritten_share: float | None
    human_commits: int
    human_lines: int
    human_rewritten: int
    human_rewritten_share: float | None


class AiSection(BaseModel):
    model_config = ConfigDict(frozen=True)

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
    did: list[DiD]
    amdahl: AmdahlCheck | None
    amdahl_basis: str | None
    survival: list[Survival]  # empty without line history
    messages: list[str]
