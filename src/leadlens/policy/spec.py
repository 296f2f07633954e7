"""The policy file as data: named rules with a scope and settings, and groups of people."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from leadlens.policy.globs import GlobSet, expand_braces

__all__ = ["Param", "Policy", "RuleSpec", "Scope", "globs_of"]

ParamType = Literal["int", "bool", "str", "strs", "globs"]


@dataclass(frozen=True)
class Param:
    """One setting of a built-in rule: its type, default (None: required unless ``optional``)
    and what it means (docs/policy.md shows the same)."""

    type: ParamType
    default: object = None
    optional: bool = False
    help: str = ""


def globs_of(patterns: tuple[str, ...]) -> GlobSet:
    """A glob set with braces expanded (``*.{yml,yaml}``)."""
    return GlobSet([p for pattern in patterns for p in expand_braces(pattern)])


@dataclass(frozen=True)
class Scope:
    """Which changes a rule applies to. Empty means any: a rule with no ``paths`` covers every
    file; ``ai_assisted`` None covers AI-assisted changes and the others."""

    paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()  # CODEOWNERS owners: files owned by any of them
    ai_assisted: bool | None = None

    @cached_property
    def path_globs(self) -> GlobSet:
        return globs_of(self.paths)

    @cached_property
    def exclude_globs(self) -> GlobSet:
        return globs_of(self.exclude_paths)

    def covers_path(self, path: str) -> bool:
        """Whether ``path`` is in scope by ``paths`` and ``exclude_paths`` (not owners)."""
        return ((not self.paths or self.path_globs.matches(path))
                and not self.exclude_globs.matches(path))


@dataclass(frozen=True)
class RuleSpec:
    """One ``[[policy.rules]]`` entry: its name, the built-in kind, scope and settings (every
    setting of the kind, defaults filled in)."""

    name: str
    kind: str
    scope: Scope = Scope()
    params: dict[str, object] = field(default_factory=dict)
    line: int | None = None  # where the rule starts in the policy file


@dataclass(frozen=True)
class Policy:
    """The rules in file order and the groups, each expanded to logins and ``@org/team`` names.
    ``path`` is the file read (None: no policy file)."""

    rules: tuple[RuleSpec, ...] = ()
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    path: str | None = None
    _globs: dict[tuple[str, ...], GlobSet] = field(default_factory=dict, compare=False, repr=False)

    def globs(self, patterns: tuple[str, ...]) -> GlobSet:
        """``patterns`` compiled once per policy (rules ask for theirs on every change)."""
        found = self._globs.get(patterns)
        if found is None:
            found = self._globs[patterns] = globs_of(patterns)
        return found
