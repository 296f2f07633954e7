"""What every rule shares: the groups expanded, who is who, the AI attribution rules, CODEOWNERS."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from leadlens import attribution
from leadlens.model import Trailer
from leadlens.policy.codeowners import Codeowners, parse
from leadlens.policy.model import Approval, ChangeFacts, CommitFacts, FileChange
from leadlens.policy.spec import Policy, RuleSpec

__all__ = ["Context", "identities", "same_person"]

_NAME_MAIL = re.compile(r"^(.*?)\s*<([^<>]*)>\s*$")  # fixed, linear
_NOREPLY = re.compile(r"^(?:\d+\+)?([A-Za-z0-9-]+)@users\.noreply\.github\.com$")


@lru_cache(maxsize=4096)
def identities(who: str) -> frozenset[str]:
    """The names one person goes by in ``who`` (``login``, ``@login``, ``Name <email>``),
    lower-cased: the login, the e-mail address, the login of a GitHub noreply address."""
    who = who.strip()
    m = _NAME_MAIL.match(who)
    if m is None:
        return frozenset({who.lstrip("@").lower()}) if who else frozenset()
    name, mail = m.group(1).strip().lower(), m.group(2).strip().lower()
    found = {x for x in (name, mail) if x}
    login = _NOREPLY.match(mail)
    if login:
        found.add(login.group(1).lower())
    return frozenset(found)


def same_person(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and bool(identities(a) & identities(b))


@lru_cache(maxsize=32)
def _parsed(text: str, path: str | None) -> Codeowners:
    """CODEOWNERS parsed and compiled once for the many changes of an audit."""
    return parse(text, path)


@dataclass
class Context:
    """Built once per change by the evaluator; rules read it, never change it."""

    policy: Policy
    facts: ChangeFacts
    ai_rules: attribution.Rules
    _codeowners: Codeowners | None = field(default=None, repr=False)
    _ai: dict[str, bool] = field(default_factory=dict, repr=False)
    _scoped: dict[str, tuple[FileChange, ...]] = field(default_factory=dict, repr=False)

    @property
    def codeowners(self) -> Codeowners | None:
        if self._codeowners is None and self.facts.codeowners is not None:
            self._codeowners = _parsed(self.facts.codeowners, self.facts.codeowners_path)
        return self._codeowners

    def in_scope(self, spec: RuleSpec) -> tuple[FileChange, ...]:
        """The change's files the rule's ``paths``/``exclude_paths`` cover."""
        found = self._scoped.get(spec.name)
        if found is None:
            scope = spec.scope
            found = self.facts.files if not (scope.paths or scope.exclude_paths) else tuple(
                f for f in self.facts.files if scope.covers_path(f.path))
            self._scoped[spec.name] = found
        return found

    def members(self, group: str) -> tuple[str, ...]:
        """A group's logins and team names; a team (``@org/team``) no group defines is itself."""
        if group in self.policy.groups:
            return self.policy.groups[group]
        return (group,) if group.startswith("@") and "/" in group else ()

    def approves_as(self, approval: Approval, owner: str) -> bool:
        """Whether ``approval`` is by ``owner``: the person, an e-mail of theirs, or a member of
        the team ``@org/team`` (a policy group of that name, or the review names the team)."""
        if owner.startswith("@") and "/" in owner:
            if owner.lower() in (t.lower() for t in approval.teams):
                return True
            return any(same_person(approval.reviewer, m) for m in self.policy.groups.get(owner, ())
                       if "/" not in m)
        return same_person(approval.reviewer, owner)

    def by_author(self, approval: Approval) -> bool:
        return same_person(approval.reviewer, self.facts.author)

    def human(self, approval: Approval) -> bool:
        """A person who is not the author: no bot, no AI reviewer."""
        return not (approval.is_bot or approval.is_ai or self.by_author(approval))

    def commit_ai(self, commit: CommitFacts) -> bool:
        """Whether the commit is AI-assisted: its own fact, else the attribution rules."""
        if commit.ai_assisted is not None:
            return commit.ai_assisted
        found = self._ai.get(commit.sha)
        if found is None:
            who = commit.author or ""
            text = attribution.CommitText.of_message(who, who, commit.message)
            if commit.trailers:
                text = attribution.CommitText(text.author, text.committer, text.subject, text.body,
                                              tuple(Trailer(k, v)
                                                    for k, v in commit.trailers))
            found = self._ai[commit.sha] = bool(self.ai_rules.classify(text))
        return found

    def ai_assisted(self) -> bool | None:
        """The change's AI assistance: the fact, else any AI-assisted commit, else an agent as
        the author; None when there is neither the fact nor a commit to read."""
        if self.facts.ai_assisted is not None:
            return self.facts.ai_assisted
        if self.facts.author and self.ai_rules.classify_pull_request(
                attribution.PullRequestText(author=self.facts.author, body="", labels=())):
            return True
        if not self.facts.commits:
            return None
        return any(self.commit_ai(c) for c in self.facts.commits)
