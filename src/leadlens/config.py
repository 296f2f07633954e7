"""Settings: ``leadlens.toml`` or ``[tool.leadlens]`` in ``pyproject.toml``; CLI flags override."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadlens.analysis.ai import AiRule, Rules
from leadlens.conventions import DEFAULT_AGENT_PATTERN, DEFAULT_BOT_PATTERN
from leadlens.errors import UserError
from leadlens.sources.git.identity import DEFAULT_KNOWN_HOSTS
from leadlens.store.db import DEFAULT_STORE
from leadlens.store.derive import DEFAULT_RELEASE_TAG_PATTERN
from leadlens.store.derive_forge import DEFAULT_PRODUCTION_PATTERN

__all__ = ["Settings", "load_settings"]


class Settings(BaseModel):
    """Every setting leadlens reads; docs/configuration.md documents each (a test checks it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
    activity_window_hours: float = Field(
        default=2.0, gt=0,
        description="Time after someone acted that counts as active rather than waiting (hours).",
    )
    memory_limit: str = Field(
        default="1GB", pattern=r"^\s*\d+(\.\d+)?\s*([KMGT]i?B)\s*$",
        description="Memory DuckDB may use for a report or export; beyond it queries spill to"
        " disk (DuckDB size syntax: 512MB, 4GB).",
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        description="GitHub's REST API (GitHub Enterprise Server: https://HOST/api/v3); --api-url"
        " overrides.",
    )
    github_overlap_minutes: float = Field(
        default=60.0, ge=0,
        description="How far before its cursor an incremental GitHub ingest reads again, for objects"
        " that changed while the last run read (repeats are deduplicated by key).",
    )
    rework_days: float = Field(
        default=21.0, gt=0,
        description="Rewriting lines younger than this many days counts as rework.",
    )
    ai_rules: tuple[AiRule, ...] = Field(
        default=(),
        description="Your own AI attribution rules, added to the defaults ([[ai_rules]] tables:"
        " name, field, pattern, key); one named like a default replaces it.",
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
        default=("incident", "outage"),
        description="Issue labels that make an issue an incident (case-insensitive).",
    )
    incident_window_hours: float = Field(
        default=72.0, gt=0,
        description="An incident naming no change links to the last production deployment this"
        " many hours before it.",
    )
    rubber_stamp_minutes: float = Field(
        default=5.0, ge=0,
        description="An approval this soon after the PR was ready or got its last commit is a"
        " rubber stamp (on a diff over rubber_stamp_lines).",
    )
    rubber_stamp_lines: int = Field(
        default=300, ge=0, description="Diff size (added + deleted lines) above which a quick"
        " approval is a rubber stamp.",
    )

    def ai_rule_set(self) -> Rules:
        """The AI attribution rules in force: the defaults with the user's additions and removals,
        agents recognised by ``agent_pattern``."""
        return Rules.configured(self.ai_rules, self.ai_disabled_rules, self.agent_pattern)


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
    try:
        return _valid_pattern(Settings.model_validate(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise UserError(f"bad settings in {source}: {problems}") from exc


def _valid_pattern(settings: Settings) -> Settings:
    for name in ("release_tag_pattern", "bot_pattern", "agent_pattern", "production_pattern"):
        try:
            re.compile(getattr(settings, name))
        except re.error as exc:
            raise UserError(f"{name} is not a valid regular expression: {exc}") from exc
    return settings


def _read(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from exc
