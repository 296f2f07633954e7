"""Attribution rules on real commits: each marker assistants leave, read back through git's own trailer
parser, with the evidence named; a human co-author called Claude is not an assistant; user rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitfixtures import Git
from leadlens.analysis.share import commit_text
from leadlens.attribution import Evidence, Rules
from leadlens.config import load_settings
from leadlens.errors import UserError
from leadlens.model import Commit
from leadlens.sources.git.client import open_repo
from leadlens.sources.git.parse import parse_log

ALICE = "Alice Liddell <alice@example.com>"
CLAUDE_CODE = ("Add parser\n\nParses the config.\n\n"
               "\N{ROBOT FACE} Generated with [Claude Code](https://claude.com/claude-code)\n\n"
               "Co-Authored-By: Claude <noreply@anthropic.com>\n")

# label -> (message, author, the evidence the default rules must give)
MARKERS: dict[str, tuple[str, str, tuple[Evidence, ...]]] = {
    "claude_trailer": (
        "Fix bug\n\nCo-authored-by: Claude <noreply@anthropic.com>\n", ALICE,
        (Evidence("co-authored-by-assistant", "Co-authored-by: Claude <noreply@anthropic.com>"),)),
    "claude_code": (
        CLAUDE_CODE, ALICE,
        (Evidence("co-authored-by-assistant", "Co-Authored-By: Claude <noreply@anthropic.com>"),
         Evidence("claude-code-marker",
                  "\N{ROBOT FACE} Generated with [Claude Code](https://claude.com/claude-code)"))),
    "copilot_trailer": (
        "Tidy\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>\n", ALICE,
        (Evidence("co-authored-by-assistant",
                  "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>"),)),
    "aider_trailer": (
        "Refactor\n\nCo-authored-by: aider (openai/gpt-4o) <noreply@aider.chat>\n", ALICE,
        (Evidence("co-authored-by-assistant",
                  "Co-authored-by: aider (openai/gpt-4o) <noreply@aider.chat>"),)),
    "made_with_cursor": (
        "Speed up\n\nMade-with: Cursor\n", ALICE,
        (Evidence("made-with-assistant", "Made-with: Cursor"),)),
    "assisted_by": (
        "Docs\n\nAssisted-by: Claude Code [claude-sonnet-4]\nAI-Session: https://example.com/s/42\n",
        ALICE,
        (Evidence("assisted-by-trailer", "Assisted-by: Claude Code [claude-sonnet-4]"),
         Evidence("ai-session-trailer", "AI-Session: https://example.com/s/42"))),
    "generated_by": (
        "Tests\n\nGenerated-by: GitHub Copilot\n", ALICE,
        (Evidence("generated-by-trailer", "Generated-by: GitHub Copilot"),)),
    "aider_author": (
        "Add retry\n", "Paul Gauthier (aider) <paul@example.com>",
        (Evidence("aider-author", "Paul Gauthier (aider) <paul@example.com>"),
         Evidence("aider-committer", "Paul Gauthier (aider) <paul@example.com>"))),
    "aider_subject": (
        "aider: Add a retry loop\n", ALICE,
        (Evidence("aider-subject", "aider: Add a retry loop"),)),
    "copilot_agent": (
        "Implement feature\n", "copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>",
        (Evidence("agent-author", "copilot-swe-agent[bot]"),)),
    # A person named Claude, with a person's address: not an assistant.
    "human_claude": (
        "Pair work\n\nCo-authored-by: Claude Monet <claude@monet.example>\n", ALICE, ()),
    "plain": ("Plain human work\n", ALICE, ()),
    # A marker quoted in the body, not a trailer: the trailer rules do not fire.
    "quoted": ("Explain trailers\n\nWe ask for Made-with: Cursor in the trailers.\n\nSigned-off-by:"
               " Alice Liddell <alice@example.com>\n", ALICE, ()),
}


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Commit]:
    """One commit per marker, read back the way `ai share` reads them (git log, git's trailers)."""
    g = Git(tmp_path_factory.mktemp("rules") / "repo")
    shas = {}
    for i, (label, (message, author, _)) in enumerate(MARKERS.items()):
        g.write("f.txt", f"{label}\n")
        shas[label] = g.commit(message, author=author, date=f"2024-02-{i + 1:02d}T10:00:00Z")
    repo = open_repo(g.path)
    commits = {c.sha: c for c in parse_log(b"".join(repo.stream_log(list(shas.values()))))}
    return {label: commits[sha] for label, sha in shas.items()}


@pytest.mark.parametrize("label", list(MARKERS))
def test_default_rules_give_the_evidence(marked: dict[str, Commit], label: str) -> None:
    assert Rules().classify(commit_text(marked[label])) == MARKERS[label][2]


def test_user_rules_and_disabled_rules_from_settings(marked: dict[str, Commit], tmp_path: Path) -> None:
    (tmp_path / "leadlens.toml").write_text(
        'ai_disabled_rules = ["aider-subject", "CLAUDE-CODE-MARKER"]\n\n'
        "[[ai_rules]]\n"
        'name = "pair-work"\nfield = "trailer"\nkey = "co-authored-by"\npattern = "monet"\n\n'
        "[[ai_rules]]\n"  # named like a default: replaces it
        'name = "made-with-assistant"\nfield = "trailer"\nkey = "made-with"\npattern = "^zed"\n',
        encoding="utf-8")
    s = load_settings(tmp_path)
    rules = Rules.configured(s.ai_rules, s.ai_disabled_rules, s.agent_pattern)

    def classify(label: str) -> tuple[Evidence, ...]:
        return rules.classify(commit_text(marked[label]))

    assert classify("human_claude") == (
        Evidence("pair-work", "Co-authored-by: Claude Monet <claude@monet.example>"),)
    assert classify("aider_subject") == ()
    assert classify("made_with_cursor") == ()
    assert [e.rule for e in classify("claude_code")] == ["co-authored-by-assistant"]
    assert classify("claude_trailer") == MARKERS["claude_trailer"][2]


def test_agent_pattern_setting_moves_the_agent_rule(marked: dict[str, Commit], tmp_path: Path) -> None:
    (tmp_path / "leadlens.toml").write_text('agent_pattern = "^robo-dev$"\n', encoding="utf-8")
    s = load_settings(tmp_path)
    rules = Rules.configured(s.ai_rules, s.ai_disabled_rules, s.agent_pattern)
    assert rules.classify(commit_text(marked["copilot_agent"])) == ()


def test_a_bad_user_rule_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "leadlens.toml").write_text(
        '[[ai_rules]]\nname = "x"\nfield = "subject"\npattern = "(unclosed"\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"ai_rules\.0\.pattern: .*not a valid regular expression"):
        load_settings(tmp_path)


def test_an_unknown_disabled_rule_is_an_error(tmp_path: Path) -> None:
    # A misspelt name would leave the rule on without a word; a user rule's name is known too.
    (tmp_path / "leadlens.toml").write_text(
        'ai_disabled_rules = ["Claude-Code-Marker", "claude-code-markr", "pair-work", "nope"]\n\n'
        '[[ai_rules]]\nname = "pair-work"\nfield = "subject"\npattern = "^pair:"\n',
        encoding="utf-8")
    settings = load_settings(tmp_path)
    with pytest.raises(UserError) as caught:
        Rules.of(settings.ai)
    assert str(caught.value).startswith(
        "ai_disabled_rules names no AI rule: claude-code-markr, nope (the rules: "
        "co-authored-by-assistant, ")
    assert str(caught.value).endswith(", pair-work)")
