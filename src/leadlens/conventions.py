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

__all__ = ["GITHUB_MERGE", "GITLAB_MERGE_REQUEST", "PR_SUFFIX", "REVERT", "BotRule", "Remote",
           "parse_remote"]

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
