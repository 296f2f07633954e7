"""Regular expressions from settings, run by RE2: time linear in the text, whatever the pattern.

Settings may come from a repository's own ``pyproject.toml`` and the text they run on (commit
messages, tag names, logins) from anyone, so Python's backtracking ``re`` is out: ``(a+)+$`` on a
crafted message would never finish. RE2 (the ``google-re2`` package) guarantees linear time, and it
is the engine DuckDB runs the same patterns with in SQL, so a pattern means one thing everywhere.
What RE2 lacks (look-around, back-references) is refused when settings load, naming the setting.
"""

from __future__ import annotations

from typing import Any, Protocol

import re2

from leadlens.errors import UserError

__all__ = ["Match", "Regex", "problem"]


class Match(Protocol):
    """What callers read of a match: where it is (in characters of the text), and what it matched."""

    def start(self, group: int = 0) -> int: ...

    def end(self, group: int = 0) -> int: ...

    def group(self, group: int = 0) -> str: ...


def _options() -> Any:
    options = re2.Options()
    # A refused pattern is reported once, as the user's error; RE2 would also log it to stderr.
    options.log_errors = False
    return options


_OPTIONS = _options()


def problem(pattern: str) -> str | None:
    """Why RE2 cannot run ``pattern``, or None when it can."""
    try:
        re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        return _message(exc)
    return None


def _message(exc: Exception) -> str:
    text = exc.args[0] if exc.args else ""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    hint = (" (RE2 has no look-around or back-references)"
            if any(k in text for k in ("perl operator", "escape sequence")) else "")
    return f"{text}{hint}"


class Regex:
    """A pattern from the setting named ``setting``, compiled by RE2.

    ``search`` and ``match`` mean what they mean in Python's ``re`` (``match`` is anchored at the
    start only). The character classes are RE2's: ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII,
    as in DuckDB; ``\\pL``, ``\\p{N}`` name other scripts.
    """

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str, setting: str, *, ignore_case: bool = False,
                 multiline: bool = False) -> None:
        self.pattern = pattern
        flags = ("i" if ignore_case else "") + ("m" if multiline else "")
        try:
            self._compiled = re2.compile(f"(?{flags}){pattern}" if flags else pattern, _OPTIONS)
        except re2.error as exc:
            raise UserError(f"{setting} {pattern!r} cannot be used: {_message(exc)}") from exc

    def search(self, text: str) -> Match | None:
        found: Match | None = self._compiled.search(text)
        return found

    def match(self, text: str) -> Match | None:
        found: Match | None = self._compiled.match(text)
        return found

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"
