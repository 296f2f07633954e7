"""CODEOWNERS as GitHub reads it.

* One rule a line: a pattern, then owners (``@user``, ``@org/team`` or an e-mail address),
  separated by spaces; ``#`` starts a comment (a whole line, or after the owners).
* The last pattern that matches a path wins; a pattern with no owners un-owns what it matches.
* Patterns are gitignore-like (see :mod:`leadlens.policy.globs`), with GitHub's exceptions:
  ``!`` negation, ``[ ]`` character ranges and escaping a leading ``#`` with ``\\`` do not work.
* A line GitHub would mark as an error (an unsupported pattern, an owner that is no user, team
  or e-mail address) is skipped and reported with its line number; the valid lines still apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from leadlens.policy.globs import GlobError, GlobSet, translate

__all__ = ["Codeowners", "CodeownersError", "Entry", "parse"]

# Fixed, linear patterns: GitHub logins (39 characters of letters, digits and single hyphens),
# team slugs, e-mail addresses.
_USER = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_TEAM = re.compile(r"@[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TOKEN = re.compile(r"(?:\\.|\S)+")  # a pattern may escape a space: `My\ File.txt`


@dataclass(frozen=True)
class Entry:
    """One valid line: its number (from 1), its pattern and its owners (empty: un-owned)."""

    line: int
    pattern: str
    owners: tuple[str, ...]


@dataclass(frozen=True)
class CodeownersError:
    """A line GitHub would mark as an error and skip."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _owner_ok(owner: str) -> bool:
    return any(p.fullmatch(owner) for p in (_USER, _TEAM, _EMAIL))


def _pattern_problem(pattern: str) -> str | None:
    if pattern.startswith("\\#"):
        return "escaping a leading # with \\ does not work in CODEOWNERS"
    if pattern.startswith("!"):
        return "negation (!) does not work in CODEOWNERS"
    if "[" in pattern.replace("\\[", ""):
        return "character ranges ([ ]) do not work in CODEOWNERS"
    try:
        translate(pattern)
    except GlobError as exc:
        return str(exc)
    return None


class Codeowners:
    """A parsed CODEOWNERS file: its valid entries, its errors, and who owns a path."""

    def __init__(self, entries: tuple[Entry, ...], errors: tuple[CodeownersError, ...],
                 path: str | None = None) -> None:
        self.entries = entries
        self.errors = errors
        self.path = path
        self._globs = GlobSet([e.pattern for e in entries])

    def rule_for(self, path: str) -> Entry | None:
        """The line that decides ``path``'s owners: the last one whose pattern matches."""
        found = self._globs.matching(path.lstrip("/"))
        return self.entries[found[-1]] if found else None

    def owners_of(self, path: str) -> tuple[str, ...]:
        """``path``'s owners; empty when no line matches or the matching line names none."""
        entry = self.rule_for(path)
        return entry.owners if entry else ()

    @property
    def teams(self) -> frozenset[str]:
        """Every ``@org/team`` the file names."""
        return frozenset(o for e in self.entries for o in e.owners if "/" in o)


def parse(text: str, path: str | None = None) -> Codeowners:
    """Read CODEOWNERS text: the valid lines and the errors of the others (never raises)."""
    entries: list[Entry] = []
    errors: list[CodeownersError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tokens = _TOKEN.findall(line)
        pattern, owners = tokens[0], []
        for token in tokens[1:]:
            if token.startswith("#"):
                break  # an inline comment
            owners.append(token)
        problem = _pattern_problem(pattern)
        if problem is None:
            bad = [o for o in owners if not _owner_ok(o)]
            if bad:
                problem = (f"{', '.join(repr(o) for o in bad)} is not a user (@login), a team"
                           " (@org/team) or an e-mail address")
        if problem is not None:
            errors.append(CodeownersError(number, f"{pattern!r}: {problem}"))
            continue
        entries.append(Entry(number, pattern, tuple(owners)))
    return Codeowners(tuple(entries), tuple(errors), path)
