"""AI attribution: rules that recognise AI-assisted commits and pull requests, with evidence."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from leadlens.config import DEFAULT_AGENT_PATTERN, AiRule, AiSettings
from leadlens.errors import UserError
from leadlens.model import Trailer

__all__ = [
    "ASSISTANTS",
    "DEFAULT_RULES",
    "AiRule",
    "CommitText",
    "Evidence",
    "PullRequestText",
    "Rules",
]

# Names assistants use when they sign commits; a human co-author named "Claude" is told apart by
# the address: assistants sign with a vendor's or a no-reply address.
ASSISTANTS = (r"claude|copilot|cursor|aider|codex|devin|gemini|amazon[ -]?q|q developer|windsurf"
              r"|codeium|jules|google-labs-jules|junie|openhands|chatgpt|openai|sweep|tabnine|cody")
# Addresses only assistants sign with, whatever the name.
_VENDOR_MAIL = (r"anthropic\.com|aider\.chat|cursor\.(?:com|sh)|openai\.com|codeium\.com"
                r"|windsurf\.com|devin\.ai|cognition\.ai|all-hands\.dev")
# An assistant's name with an address no person uses (a no-reply, bot or vendor address).
_ASSISTANT_SIGNATURE = (rf"^\s*(?:{ASSISTANTS})\b[^<]*<[^>]*(?:noreply|no-reply|\[bot\]|amazon\.com"
                        rf"|google\.com|jetbrains\.com|{_VENDOR_MAIL})[^>]*>"
                        rf"|<[^>]*@(?:{_VENDOR_MAIL})>")

def _trailer(name: str, key: str, pattern: str = r".+") -> AiRule:
    return AiRule(name=name, field="trailer", key=key, pattern=pattern)


# The conventions assistants leave in history (DESIGN.md, Ecosystem conventions).
DEFAULT_RULES: tuple[AiRule, ...] = (
    _trailer("co-authored-by-assistant", "co-authored-by", _ASSISTANT_SIGNATURE),
    _trailer("assisted-by-trailer", "assisted-by"),
    _trailer("generated-by-trailer", "generated-by"),
    _trailer("ai-session-trailer", "ai-session"),
    _trailer("made-with-assistant", "made-with", rf"^\s*(?:{ASSISTANTS})\b"),
    AiRule(name="claude-code-marker", field="message", pattern=r"Generated with \[?Claude Code\]?"),
    AiRule(name="aider-author", field="author", pattern=r"\(aider\)"),
    AiRule(name="aider-committer", field="committer", pattern=r"\(aider\)"),
    AiRule(name="aider-subject", field="subject", pattern=r"^aider:"),
    AiRule(name="agent-author", field="author_name", pattern=DEFAULT_AGENT_PATTERN),
    AiRule(name="ai-label", field="pr_label",
           pattern=rf"^(?:ai|ai[- ]assisted|ai[- ]generated|llm|(?:{ASSISTANTS})(?:[- ].*)?)$"),
    AiRule(name="pr-body-marker", field="pr_body",
           pattern=r"Generated with \[?Claude Code\]?|app\.devin\.ai/sessions|cursor\.com/agents"
                   r"|Co-authored-by:\s*(?:" + ASSISTANTS + r")\b"),
    AiRule(name="agent-pr-author", field="pr_author",
           pattern=DEFAULT_AGENT_PATTERN),
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why something counts as AI-assisted: the rule that matched and the text it matched."""

    rule: str
    text: str


@dataclass(frozen=True, slots=True)
class CommitText:
    """What the commit rules read. ``author``/``committer`` are ``Name <email>``."""

    author: str
    committer: str
    subject: str
    body: str
    trailers: tuple[Trailer, ...]


@dataclass(frozen=True, slots=True)
class PullRequestText:
    """What the pull-request rules read."""

    author: str
    body: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class _Compiled:
    rule: AiRule
    regex: re.Pattern[str]


class Rules:
    """The rules in force: the defaults minus the disabled ones, plus the user's own."""

    def __init__(self, rules: Iterable[AiRule] = DEFAULT_RULES, disabled: Sequence[str] = ()) -> None:
        off = {name.lower() for name in disabled}
        self.rules = tuple(r for r in rules if r.name.lower() not in off)
        self._compiled = tuple(_Compiled(r, re.compile(r.pattern, re.I | re.M)) for r in self.rules)

    @classmethod
    def configured(cls, extra: Sequence[AiRule] = (), disabled: Sequence[str] = (),
                   agent_pattern: str = DEFAULT_AGENT_PATTERN) -> Rules:
        """Defaults and ``extra`` (a user rule named like a default replaces it), minus ``disabled``;
        the agent rules follow the ``agent_pattern`` setting."""
        own = {r.name.lower() for r in extra}
        names = [r.name for r in DEFAULT_RULES if r.name.lower() not in own] + [r.name for r in extra]
        unknown = [n for n in disabled if n.lower() not in {m.lower() for m in names}]
        if unknown:  # a misspelt name would leave the rule on, silently
            raise UserError(f"ai_disabled_rules names no AI rule: {', '.join(unknown)} (the rules:"
                            f" {', '.join(names)})")
        kept = [r.model_copy(update={"pattern": agent_pattern}) if r.pattern == DEFAULT_AGENT_PATTERN
                else r for r in DEFAULT_RULES if r.name.lower() not in own]
        return cls([*kept, *extra], disabled)

    @classmethod
    def of(cls, settings: AiSettings) -> Rules:
        """The rules in force by the settings: the one place settings become AI rules."""
        return cls.configured(settings.rules, settings.disabled_rules, settings.agent_pattern)

    def classify(self, commit: CommitText) -> tuple[Evidence, ...]:
        """Every match on ``commit``; empty when it shows no sign of AI assistance."""
        fields = {
            "author": commit.author,
            "author_name": commit.author.split(" <", 1)[0],
            "committer": commit.committer,
            "subject": commit.subject,
            "message": f"{commit.subject}\n\n{commit.body}" if commit.body else commit.subject,
        }
        found: list[Evidence] = []
        for c in self._compiled:
            if c.rule.field == "trailer":
                for t in commit.trailers:
                    if t.key.lower() == (c.rule.key or "").lower():
                        m = c.regex.search(t.value)
                        if m:
                            found.append(Evidence(c.rule.name, f"{t.key}: {t.value}"))
            elif c.rule.field in fields:
                m = c.regex.search(fields[c.rule.field])
                if m:
                    found.append(Evidence(c.rule.name, _line_of(fields[c.rule.field], m)))
        return tuple(found)

    def classify_pull_request(self, pr: PullRequestText) -> tuple[Evidence, ...]:
        found: list[Evidence] = []
        for c in self._compiled:
            values: tuple[str, ...] = {
                "pr_label": pr.labels, "pr_body": (pr.body,), "pr_author": (pr.author,),
            }.get(c.rule.field, ())
            for value in values:
                m = c.regex.search(value)
                if m:
                    found.append(Evidence(c.rule.name, _line_of(value, m)))
        return tuple(found)

    def uses(self, field: str) -> bool:
        return any(r.field == field for r in self.rules)


def _line_of(text: str, match: re.Match[str]) -> str:
    """The whole line the match is on (the evidence a reader recognises), at most 200 characters."""
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    line = text[start:end if end >= 0 else len(text)].strip()
    return line[:200]
