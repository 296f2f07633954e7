"""Path globs as git reads them (gitignore/wildmatch, through ``pathspec``), run by RE2.

One translation serves the policy file's ``paths`` and CODEOWNERS patterns:

* a pattern without a slash (``*.js``, ``apps``) matches at any depth; one with a slash in it
  (``docs/*``, ``/build/logs/``) is anchored at the repository root;
* ``*`` and ``?`` never cross ``/``; ``**`` does (``auth/**``, ``**/logs``, ``a/**/b``);
* a pattern naming a directory (``apps/``, ``/docs/``, ``**/logs``) matches everything below it;
* a pattern whose last part has a wildcard matches files only, never what is below them:
  ``docs/*`` matches ``docs/a.md`` but not ``docs/build/b.md`` (GitHub's CODEOWNERS example);
* policy globs (not CODEOWNERS) may use one level of braces: ``openapi*.{yaml,yml,json}``.

Matching a path against many globs is one RE2 set search, linear in the path's length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import re2
from pathspec.patterns.gitignore import GitIgnorePatternError
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

__all__ = ["GlobError", "GlobSet", "expand_braces", "translate"]

_DIR_GROUP = "(?P<ps_d>/)"
_TAIL = "(?:/|$)"
_BRACES = re.compile(r"\{([^{}]*)\}")  # fixed, linear


class GlobError(ValueError):
    """A glob that cannot be used; the message says why."""


def expand_braces(pattern: str) -> list[str]:
    """``a.{x,y}`` -> ``a.x``, ``a.y`` (every brace group, not nested)."""
    m = _BRACES.search(pattern)
    if m is None:
        return [pattern]
    if "," not in m.group(1):
        raise GlobError(f"braces need two or more choices separated by commas: {m.group(0)!r}")
    return [expanded for choice in m.group(1).split(",")
            for expanded in expand_braces(pattern[:m.start()] + choice + pattern[m.end():])]


def translate(pattern: str) -> str:
    """The RE2 regular expression matching the repository-relative paths ``pattern`` names."""
    if not pattern.strip():
        raise GlobError("an empty pattern matches nothing")
    if pattern.startswith("!"):
        raise GlobError("negation (!) is not supported")
    try:
        compiled = GitIgnoreSpecPattern(pattern)
    except (GitIgnorePatternError, ValueError) as exc:
        raise GlobError(f"not a valid glob: {exc}") from exc
    if compiled.regex is None or compiled.include is not True:
        raise GlobError("not a valid glob (an unclosed '[', or a pattern that names nothing)")
    regex: str = str(compiled.regex.pattern).replace(_DIR_GROUP, "/")
    last = pattern.rstrip("/").rsplit("/", 1)[-1]
    if not pattern.endswith("/") and regex.endswith(_TAIL) and ("*" in last or "?" in last) \
            and last != "**":
        regex = regex[:-len(_TAIL)] + "$"  # docs/* : files in docs/, not below them
    return regex


class GlobSet:
    """Globs compiled once into one RE2 set: which of them match a path."""

    __slots__ = ("_hits", "_matched", "_set", "patterns")

    # An audit asks about the same paths change after change: answers are kept, up to a bound.
    # Two memos: ``matches`` (most rules) keeps a bool, ``matching`` (CODEOWNERS) the sorted
    # indices, so that the common question costs one dict look-up or one RE2 search, no more.
    _REMEMBERED = 200_000

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self._set = re2.Set.SearchSet(re2.Options()) if self.patterns else None
        for pattern in self.patterns:
            assert self._set is not None
            try:
                self._set.Add(translate(pattern))
            except re2.error as exc:  # pathspec's regex that RE2 refuses: report it as the glob's fault
                raise GlobError(f"not a valid glob: {exc}") from exc
        if self._set is not None:
            self._set.Compile()
        self._matched: dict[str, tuple[int, ...]] = {}
        self._hits: dict[str, bool] = {}

    def matching(self, path: str) -> tuple[int, ...]:
        """The indices of the globs that match ``path``, ascending."""
        found = self._matched.get(path)
        if found is None:
            if self._set is None:
                return ()
            if len(self._matched) >= self._REMEMBERED:
                self._matched.clear()
            found = self._matched[path] = tuple(sorted(self._set.Match(path) or ()))
        return found

    def matches(self, path: str) -> bool:
        """Whether any glob matches ``path``."""
        hit = self._hits.get(path)
        if hit is None:
            if self._set is None:
                return False
            if len(self._hits) >= self._REMEMBERED:
                self._hits.clear()
            hit = self._hits[path] = bool(self._set.Match(path))
        return hit

    def __bool__(self) -> bool:
        return bool(self.patterns)
