"""Conventions that hosts and tools leave in history, and the one rule for bots and agents."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from leadlens.config import (
    DEFAULT_AGENT_PATTERN,
    DEFAULT_AI_REVIEWER_PATTERN,
    DEFAULT_BOT_PATTERN,
    BotSettings,
)
from leadlens.patterns import Regex

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["GITHUB_MERGE", "GITLAB_MERGE_REQUEST", "PR_SUFFIX", "REVERT", "BotRule",
           "ClosingReference", "Remote", "closing_references", "parse_remote"]

# GitHub's merge commit subject; group 1 is the PR number, group 2 the branch owner (its author).
GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+) from (?:([^/\s]+)/)?")
# GitHub squash and rebase merges: "Subject (#123)".
PR_SUFFIX = re.compile(r"\(#(\d+)\)\s*$")
# GitLab's merge commit body: "See merge request group/project!34".
GITLAB_MERGE_REQUEST = re.compile(r"^See merge request \S*!(\d+)\s*$", re.M)
# git revert's message body.
REVERT = re.compile(r"This reverts commit ([0-9a-f]{7,64})")

# A git remote: a URL (https://host/owner/repo.git, ssh://git@host:22/owner/repo) or scp-like
# (git@host:owner/repo.git).
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?(?P<host>[^/:]+)(?::\d*)?/(?P<path>.*)$", re.I)
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


@dataclass(frozen=True)
class Remote:
    """Where a remote URL points: its host (lower case) and the repository's path on it."""

    host: str
    path: str  # OWNER/REPO (GitLab: the full group path), without ``.git``


def parse_remote(url: str) -> Remote | None:
    """The host and repository path of a git remote URL; None when it is not one (a local path)."""
    url = url.strip()
    m = _URL.match(url) or _SCP_LIKE.match(url)
    if not m:
        return None
    path = m.group("path").strip("/").removesuffix(".git").strip("/")
    return Remote(m.group("host").lower(), "/".join(p for p in path.split("/") if p))


@dataclass(frozen=True)
class BotRule:
    """Who is an automation bot, and who reviews as AI (DESIGN.md, Bots and agents). One rule,
    three renderings of it: Python (:meth:`matches`, :meth:`is_ai_reviewer`), DuckDB SQL
    (:meth:`sql`, :meth:`ai_sql`, :meth:`person_sql`) and Ibis (:meth:`ibis`, :meth:`ai_ibis`).

    As an *author*, an account is a bot when the source says so (GitHub's ``type: Bot``) or
    ``bot_pattern`` matches its name, unless ``agent_pattern`` says it is an AI coding agent: an
    agent's changes are AI-assisted changes. As a *reviewer* (a review or comment on someone
    else's pull request), an AI coding agent or an ``ai_reviewer_pattern`` account is an AI
    reviewer, whatever the source's flag: its review is an AI review, never a person's. Patterns
    are searched, not anchored, by RE2 in Python and in DuckDB alike (patterns.py); inline flags
    such as ``(?i)`` mean the same in Spark."""

    bot_pattern: str = DEFAULT_BOT_PATTERN
    agent_pattern: str = DEFAULT_AGENT_PATTERN
    ai_reviewer_pattern: str = DEFAULT_AI_REVIEWER_PATTERN
    _bot: Regex = field(init=False, repr=False, compare=False)
    _agent: Regex = field(init=False, repr=False, compare=False)
    _ai_reviewer: Regex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_bot", Regex(self.bot_pattern, "bot_pattern"))
        object.__setattr__(self, "_agent", Regex(self.agent_pattern, "agent_pattern"))
        object.__setattr__(self, "_ai_reviewer",
                           Regex(self.ai_reviewer_pattern, "ai_reviewer_pattern"))

    @classmethod
    def of(cls, settings: BotSettings) -> BotRule:
        return cls(settings.bot_pattern, settings.agent_pattern, settings.ai_reviewer_pattern)

    def matches(self, name: str, flagged: bool = False) -> bool:
        """``name`` (a login or author name) is an automation bot; ``flagged``: the source says so."""
        if self._agent.search(name):
            return False
        return flagged or bool(self._bot.search(name))

    def is_agent(self, name: str) -> bool:
        return bool(self._agent.search(name))

    def is_ai_reviewer(self, name: str) -> bool:
        """A review or comment by ``name`` is an AI review."""
        return bool(self._agent.search(name) or self._ai_reviewer.search(name))

    @property
    def params(self) -> dict[str, str]:
        """The named parameters :meth:`sql`, :meth:`ai_sql` and :meth:`person_sql` refer to."""
        return {"bot": self.bot_pattern, "agent": self.agent_pattern,
                "ai_reviewer": self.ai_reviewer_pattern}

    @staticmethod
    def sql(name: str, flag: str) -> str:
        """A DuckDB condition on the columns ``name`` and ``flag`` (the source's own bot flag),
        with the parameters ``$bot`` and ``$agent`` (:attr:`params`)."""
        return (f"((coalesce({flag}, FALSE) OR regexp_matches(coalesce({name}, ''), $bot))"
                f" AND NOT regexp_matches(coalesce({name}, ''), $agent))")

    @staticmethod
    def ai_sql(name: str) -> str:
        """A DuckDB condition: a review or comment by the login ``name`` is an AI review
        (parameters ``$agent`` and ``$ai_reviewer``)."""
        return (f"(regexp_matches(coalesce({name}, ''), $agent)"
                f" OR regexp_matches(coalesce({name}, ''), $ai_reviewer))")

    @classmethod
    def person_sql(cls, name: str, flag: str) -> str:
        """A DuckDB condition: the reviewer ``name`` is a person, neither a bot nor an AI."""
        return f"(NOT {cls.sql(name, flag)} AND NOT {cls.ai_sql(name)})"

    def ibis(self, name: ir.StringValue, flag: ir.BooleanValue | None = None) -> ir.BooleanValue:
        """An Ibis condition on a name column (null where the name is null); ``flag``: the
        source's own bot flag (GitHub flags Copilot's coding agent as a Bot account too, so the
        agent pattern still wins over it)."""
        said = name.re_search(self.bot_pattern)
        if flag is not None:
            said = flag.fill_null(False) | said
        return said & ~name.re_search(self.agent_pattern)

    def ai_ibis(self, name: ir.StringValue) -> ir.BooleanValue:
        """An Ibis condition: a review or comment by ``name`` is an AI review (false when null)."""
        return (name.re_search(self.agent_pattern) | name.re_search(self.ai_reviewer_pattern)
                ).fill_null(False)


# ---------------------------------------------------------------- closing keywords
# GitHub's closing keywords in a pull request body ("Linking a pull request to an issue using a
# keyword"): KEYWORD #N, KEYWORD OWNER/REPO#N, or KEYWORD and the issue's URL; any case, an
# optional colon after the keyword, one reference per keyword. Conservative where GitHub does not
# document: whitespace must follow the keyword (or its colon), the keyword must stand alone (not
# `prefixes`, `auto-fixes` or `_fixes`), and a reference must end there (`#12a`, `.../issues/3/x`
# and `.../issues/3#comment` name no issue). The pattern is fixed and linear: bounded classes, one
# unbounded run of blanks that nothing else can match.
_CLOSING = re.compile(
    r"(?<![\w\-\u0080-\U0010ffff])(?P<keyword>close[sd]?|fix(?:e[sd])?|resolve[sd]?):?[ \t]+"
    r"(?:(?:(?P<owner>[A-Za-z0-9][A-Za-z0-9-]{0,38})/(?P<name>[A-Za-z0-9_.-]{1,100}))?"
    r"#(?P<number>[0-9]{1,15})"
    r"|https://(?P<host>[A-Za-z0-9.-]{1,253})/(?P<url_owner>[A-Za-z0-9][A-Za-z0-9-]{0,38})"
    r"/(?P<url_name>[A-Za-z0-9_.-]{1,100})/issues/(?P<url_number>[0-9]{1,15}))"
    r"(?![\w/#\-\u0080-\U0010ffff])",
    re.IGNORECASE | re.ASCII)
# A fence opens a code block: three or more backticks or tildes, indented at most three spaces.
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BACKTICKS = re.compile(r"`+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class ClosingReference:
    """An issue a pull request body says it closes: its repository, number and the keyword used
    (lower case: ``fixes``, ``closes``, ``resolved``, ...)."""

    repo: str
    number: int
    keyword: str


def closing_references(body: str | None, repo: str, *,
                       host: str = "github.com") -> list[ClosingReference]:
    """The issues ``body`` (a pull request's description, in ``repo``) closes by GitHub's closing
    keywords, in order of appearance, each issue once (its first keyword). Code (fenced blocks,
    inline code spans) and HTML comments do not count, as GitHub does not render them as text.
    ``host``: the web host of issue URLs (``github.com``; a GitHub Enterprise host). Whether a
    ``#N`` is an issue or a pull request, and whether the pull request's base is the default
    branch, is for the caller to check."""
    if not body:
        return []
    found: dict[tuple[str, int], ClosingReference] = {}
    for text in _prose(body):
        for m in _CLOSING.finditer(text):
            if m.group("number"):
                owner, name, number = m.group("owner"), m.group("name"), m.group("number")
            else:
                if m.group("host").lower() != host.lower():
                    continue
                owner, name, number = m.group("url_owner"), m.group("url_name"), m.group("url_number")
            target = f"{owner}/{name}" if owner else repo
            if target.lower() == repo.lower():
                target = repo
            ref = ClosingReference(target, int(number), m.group("keyword").lower())
            found.setdefault((target.lower(), ref.number), ref)
    return list(found.values())


def _prose(body: str) -> list[str]:
    """The parts of a Markdown ``body`` that render as text: fenced code blocks, HTML comments
    and inline code spans left out. Linear in the length of the body."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    outside: list[str] = []
    fence: str | None = None
    for line in body.split("\n"):
        m = _FENCE.match(line)
        if fence is None:
            if m and not (m.group(1)[0] == "`" and "`" in line[m.end():]):
                fence = m.group(1)
                outside.append("")
            else:
                outside.append(line)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                and not line[m.end():].strip():
            fence = None
            outside.append("")
        else:
            outside.append("")  # a line of code keeps the lines apart
    text = _without_comments("\n".join(outside))
    return [_without_code_spans(paragraph) for paragraph in _BLANK_LINE.split(text)]


def _without_comments(text: str) -> str:
    parts: list[str] = []
    at = 0
    while (start := text.find("<!--", at)) >= 0:
        parts.append(text[at:start])
        end = text.find("-->", start + 4)
        if end < 0:  # an unclosed comment hides the rest
            return " ".join(parts)
        parts.append(" ")
        at = end + 3
    parts.append(text[at:])
    return "".join(parts)


def _without_code_spans(text: str) -> str:
    """``text`` with each code span (a run of backticks up to the next run of the same length)
    blanked; a run with no partner is literal text. Each run's partner is found in one pass."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    partner: list[int | None] = [None] * len(runs)
    nearest: dict[int, int] = {}
    for i in range(len(runs) - 1, -1, -1):
        length = runs[i][1] - runs[i][0]
        partner[i] = nearest.get(length)
        nearest[length] = i
    parts: list[str] = []
    at, i = 0, 0
    while i < len(runs):
        j = partner[i]
        if j is None:
            i += 1
            continue
        parts.append(text[at:runs[i][0]])
        parts.append(" ")
        at = runs[j][1]
        i = j + 1
    parts.append(text[at:])
    return "".join(parts)
