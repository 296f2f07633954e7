"""AI attribution: rules that recognise AI-assisted commits and pull requests, with evidence."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from leadlens.config import DEFAULT_AGENT_PATTERN, AiRule, AiSettings
from leadlens.errors import UserError
from leadlens.model import Trailer
from leadlens.patterns import Match, Regex

__all__ = [
    "ASSISTANTS",
    "DEFAULT_RULES",
    "MULTIPLE",
    "UNKNOWN",
    "AiRule",
    "CommitText",
    "Evidence",
    "PullRequestText",
    "Rules",
    "read_message",
    "tool_named",
]

# Names assistants use when they sign commits; a human co-author named "Claude" is told apart by
# the address: assistants sign with a vendor's or a no-reply address.
ASSISTANTS = (r"claude|copilot|cursor|aider|codex|devin|gemini|amazon[ -]?q|q developer|windsurf"
              r"|codeium|jules|google-labs-jules|junie|openhands|chatgpt|openai|sweep|tabnine|cody")
# Addresses only assistants sign with, whatever the name.
_VENDOR_MAIL = (r"anthropic\.com|aider\.chat|cursor\.(?:com|sh)|openai\.com|codeium\.com"
                r"|windsurf\.com|devin\.ai|cognition\.ai|all-hands\.dev|ampcode\.com|opencode\.ai")
# Assistants' own addresses at domains people use too (Qwen Code signs from Alibaba Cloud's).
_ASSISTANT_MAIL = r"qwen-coder@alibabacloud\.com"
# An assistant's name with an address no person uses (a no-reply, bot or vendor address).
_ASSISTANT_SIGNATURE = (rf"^\s*(?:{ASSISTANTS})\b[^<]*<[^>]*(?:noreply|no-reply|\[bot\]|amazon\.com"
                        rf"|google\.com|jetbrains\.com|{_VENDOR_MAIL})[^>]*>"
                        rf"|<[^>]*@(?:{_VENDOR_MAIL})>|<(?:{_ASSISTANT_MAIL})>")

# The tools by the names their marks carry (DESIGN.md, AI tool). The first name in a matched text
# names its tool ("aider (anthropic/claude-3-5-sonnet)" is aider driving a Claude model); where two
# start at the same place, the one listed first wins ("chatgpt.com/codex" is Codex, not ChatGPT).
_TOOL_NAMES: tuple[tuple[str, str], ...] = (
    (r"chatgpt\.com/codex|codex|openai", "OpenAI Codex"),
    (r"claude|anthropic", "Claude Code"),
    (r"copilot", "GitHub Copilot"),
    (r"cursor", "Cursor"),
    (r"chatgpt", "ChatGPT"),
    (r"devin|cognition", "Devin"),
    (r"aider", "Aider"),
    (r"gemini", "Gemini"),
    (r"amazon[ -]?q\b|q developer", "Amazon Q"),
    (r"google-labs-jules|jules", "Jules"),
    (r"windsurf|codeium", "Windsurf"),
    (r"junie", "Junie"),
    (r"openhands|all-hands", "OpenHands"),
    (r"amp\b|ampcode", "Amp"),
    (r"opencode", "OpenCode"),
    (r"qwen", "Qwen Code"),
    (r"replit", "Replit Agent"),
    (r"sweep", "Sweep"),
    (r"tabnine", "Tabnine"),
    (r"cody\b", "Cody"),
    (r"codegen", "Codegen"),
)
_TOOLS = re.compile("|".join(rf"\b(?P<t{i}>{p})" for i, (p, _) in enumerate(_TOOL_NAMES)), re.I)
# What a change's tool is when its evidence names none, or names several at its strongest level.
UNKNOWN = "unknown"
MULTIPLE = "multiple"
# How strongly a rule's field says which tool wrote the code, strongest first (DESIGN.md, AI
# tool): an agent that authored the PR or its commits; a tool the PR names; commit trailers and
# markers.
_LEVELS = {"author": 0, "author_name": 0, "pr_author": 0, "pr_body": 1, "pr_label": 1,
           "pr_head_ref": 1}
_COMMIT_LEVEL = 2


def tool_named(text: str) -> str | None:
    """The tool the first assistant name in ``text`` belongs to; None when it names none."""
    m = _TOOLS.search(text)
    if m is None or m.lastgroup is None:
        return None
    return _TOOL_NAMES[int(m.lastgroup[1:])][1]


def _trailer(name: str, key: str, pattern: str = r".+", tool: str | None = None) -> AiRule:
    return AiRule(name=name, field="trailer", key=key, pattern=pattern, tool=tool)


# The conventions assistants leave in history (DESIGN.md, Ecosystem conventions). A marker that
# only says a tool *made* a commit is not here: aider sets the committer to "Name (aider)" on the
# user's own edits too (/commit, dirty files), so only its author, co-author and subject count.
DEFAULT_RULES: tuple[AiRule, ...] = (
    _trailer("co-authored-by-assistant", "co-authored-by", _ASSISTANT_SIGNATURE),
    _trailer("assisted-by-trailer", "assisted-by"),
    _trailer("generated-by-trailer", "generated-by"),
    _trailer("ai-session-trailer", "ai-session"),
    _trailer("made-with-assistant", "made-with", rf"^\s*(?:{ASSISTANTS})\b"),
    _trailer("co-authored-by-ai-trailer", "co-authored-by-ai"),
    _trailer("claude-session-trailer", "claude-session", tool="Claude Code"),
    _trailer("amp-thread-trailer", "amp-thread-id", tool="Amp"),
    # Replit also commits deployments ("Deployment"): only the agent's and assistant's work counts.
    _trailer("replit-agent-trailer", "replit-commit-author", r"^\s*(?:agent|assistant)\b",
             tool="Replit Agent"),
    AiRule(name="claude-code-marker", field="message", pattern=r"Generated with \[?Claude Code\]?",
           tool="Claude Code"),
    AiRule(name="aider-author", field="author", pattern=r"\(aider\)", tool="Aider"),
    AiRule(name="aider-subject", field="subject", pattern=r"^aider:", tool="Aider"),
    AiRule(name="agent-author", field="author_name", pattern=DEFAULT_AGENT_PATTERN),
    AiRule(name="ai-label", field="pr_label",
           pattern=rf"^(?:ai|ai[- ]assisted|ai[- ]generated|llm|(?:{ASSISTANTS})(?:[- ].*)?)$"),
    AiRule(name="pr-body-marker", field="pr_body",
           pattern=r"Generated with \[?Claude Code\]?|app\.devin\.ai/sessions|cursor\.com/agents"
                   r"|Co-authored-by:\s*(?:" + ASSISTANTS + r")\b"),
    # OpenAI Codex cloud: the human opens the PR, its body links the task.
    AiRule(name="codex-task-link", field="pr_body", pattern=r"chatgpt\.com/codex/tasks/",
           tool="OpenAI Codex"),
    AiRule(name="agent-branch", field="pr_head_ref",
           pattern=r"^(?:codex|copilot|cursor|claude|devin)/"),
    AiRule(name="agent-pr-author", field="pr_author",
           pattern=DEFAULT_AGENT_PATTERN),
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why something counts as AI-assisted: the rule that matched, the text it matched, and the
    tool it names (the rule's own, else the one its match names; None when it names none)."""

    rule: str
    text: str
    tool: str | None = None


@dataclass(frozen=True, slots=True)
class CommitText:
    """What the commit rules read. ``author``/``committer`` are ``Name <email>``."""

    author: str
    committer: str
    subject: str
    body: str
    trailers: tuple[Trailer, ...]

    @classmethod
    def of_message(cls, author: str, committer: str, message: str) -> CommitText:
        """A commit known by its raw message (a forge's list of a PR's commits)."""
        subject, body, trailers = read_message(message)
        return cls(author=author, committer=committer, subject=subject, body=body,
                   trailers=trailers)


@dataclass(frozen=True, slots=True)
class PullRequestText:
    """What the pull-request rules read."""

    author: str
    body: str
    labels: tuple[str, ...]
    head_ref: str = ""


@dataclass(frozen=True)
class _Compiled:
    rule: AiRule
    regex: Regex


class Rules:
    """The rules in force: the defaults minus the disabled ones, plus the user's own."""

    def __init__(self, rules: Iterable[AiRule] = DEFAULT_RULES, disabled: Sequence[str] = ()) -> None:
        off = {name.lower() for name in disabled}
        self.rules = tuple(r for r in rules if r.name.lower() not in off)
        # Searched case-insensitively, ^ and $ at line ends (what DuckDB's pre-filter runs too).
        self._compiled = tuple(_Compiled(r, Regex(r.pattern, f"ai_rules {r.name!r}", ignore_case=True,
                                                  multiline=True)) for r in self.rules)
        self._level = {r.name: _LEVELS.get(r.field, _COMMIT_LEVEL) for r in self.rules}

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
                            found.append(_evidence(c.rule, f"{t.key}: {t.value}", m))
            elif c.rule.field in fields:
                m = c.regex.search(fields[c.rule.field])
                if m:
                    found.append(_evidence(c.rule, _line_of(fields[c.rule.field], m), m))
        return tuple(found)

    def classify_pull_request(self, pr: PullRequestText) -> tuple[Evidence, ...]:
        found: list[Evidence] = []
        for c in self._compiled:
            values: tuple[str, ...] = {
                "pr_label": pr.labels, "pr_body": (pr.body,), "pr_author": (pr.author,),
                "pr_head_ref": (pr.head_ref,),
            }.get(c.rule.field, ())
            for value in values:
                m = c.regex.search(value)
                if m:
                    found.append(_evidence(c.rule, _line_of(value, m), m))
        return tuple(found)

    def uses(self, field: str) -> bool:
        return any(r.field == field for r in self.rules)

    def tool_of(self, evidence: Iterable[tuple[str, str | None]]) -> str | None:
        """The tool behind AI evidence given as (rule, tool) pairs (DESIGN.md, AI tool): the tool
        named at the strongest level that names any — :data:`MULTIPLE` when it names several —,
        :data:`UNKNOWN` when no evidence names a tool, None when there is no evidence at all."""
        named: dict[int, set[str]] = {}
        seen = False
        for rule, tool in evidence:
            seen = True
            if tool:
                named.setdefault(self._level.get(rule, _COMMIT_LEVEL), set()).add(tool)
        if not named:
            return UNKNOWN if seen else None
        tools = named[min(named)]
        return tools.pop() if len(tools) == 1 else MULTIPLE


def _evidence(rule: AiRule, text: str, match: Match) -> Evidence:
    """A match, with the tool its rule names or, failing that, the tool its matched text names."""
    return Evidence(rule.name, text, rule.tool or tool_named(match.group(0)))


# git's trailer block: `Key: value` lines (keys of letters, digits and hyphens), folded lines
# indented; interpret-trailers' rule for a block with other lines in it is kept too.
_TRAILER_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")
_GIT_TRAILERS = ("signed-off-by",)


def read_message(message: str) -> tuple[str, str, tuple[Trailer, ...]]:
    """A raw commit message as git reads it: the subject (first paragraph, lines joined), the body
    (the rest) and the trailers of its last paragraph (``git log --format=%(trailers)``)."""
    text = message.replace("\r\n", "\n").strip("\n")
    head, sep, rest = text.partition("\n\n")
    subject = " ".join(line.strip() for line in head.split("\n") if line.strip())
    body = rest.strip("\n") if sep else ""
    if not body:
        return subject, body, ()
    last = re.split(r"\n[ \t]*\n", body)[-1]
    trailers: list[list[str]] = []
    others = 0
    cherry_pick = False
    for line in last.split("\n"):
        m = _TRAILER_LINE.match(line)
        if line[:1] in (" ", "\t") and trailers:
            trailers[-1][1] += " " + line.strip()
        elif m:
            trailers.append([m.group(1), m.group(2).strip()])
        else:
            others += 1
            cherry_pick = cherry_pick or line.startswith("(cherry picked from commit ")
    # All trailers; or at least a quarter of the lines, with one git itself writes.
    git_made = cherry_pick or any(k.lower() in _GIT_TRAILERS for k, _ in trailers)
    if not trailers or (others and (len(trailers) * 3 < others or not git_made)):
        return subject, body, ()
    return subject, body, tuple(Trailer(k, v) for k, v in trailers)


def _line_of(text: str, match: Match) -> str:
    """The whole line the match is on (the evidence a reader recognises), at most 200 characters."""
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    line = text[start:end if end >= 0 else len(text)].strip()
    return line[:200]
