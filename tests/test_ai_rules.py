"""Attribution rules on real commits: each marker assistants leave, read back through git's own trailer
parser, with the evidence named; a human co-author called Claude is not an assistant; user rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitfixtures import Git
from leadlens.analysis.share import commit_text
from leadlens.attribution import (
    MULTIPLE,
    UNKNOWN,
    CommitText,
    Evidence,
    PullRequestText,
    Rules,
    read_message,
)
from leadlens.config import load_settings
from leadlens.errors import UserError
from leadlens.model import Commit
from leadlens.sources.git.client import open_repo
from leadlens.sources.git.parse import parse_log

ALICE = "Alice Liddell <alice@example.com>"
CLAUDE_CODE = ("Add parser\n\nParses the config.\n\n"
               "\N{ROBOT FACE} Generated with [Claude Code](https://claude.com/claude-code)\n\n"
               "Co-Authored-By: Claude <noreply@anthropic.com>\n")

# label -> (message, author, the evidence the default rules must give: rule, text, tool named)
MARKERS: dict[str, tuple[str, str, tuple[Evidence, ...]]] = {
    "claude_trailer": (
        "Fix bug\n\nCo-authored-by: Claude <noreply@anthropic.com>\n", ALICE,
        (Evidence("co-authored-by-assistant", "Co-authored-by: Claude <noreply@anthropic.com>",
                  "Claude Code"),)),
    "claude_code": (
        CLAUDE_CODE, ALICE,
        (Evidence("co-authored-by-assistant", "Co-Authored-By: Claude <noreply@anthropic.com>",
                  "Claude Code"),
         Evidence("claude-code-marker",
                  "\N{ROBOT FACE} Generated with [Claude Code](https://claude.com/claude-code)",
                  "Claude Code"))),
    "copilot_trailer": (
        "Tidy\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>\n", ALICE,
        (Evidence("co-authored-by-assistant",
                  "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
                  "GitHub Copilot"),)),
    "aider_trailer": (
        "Refactor\n\nCo-authored-by: aider (openai/gpt-4o) <noreply@aider.chat>\n", ALICE,
        (Evidence("co-authored-by-assistant",
                  "Co-authored-by: aider (openai/gpt-4o) <noreply@aider.chat>", "Aider"),)),
    # The model aider drove is named after aider: the tool is the first name in the text.
    "aider_claude_model": (
        "Refactor\n\nCo-authored-by: aider (anthropic/claude-3-5-sonnet) <noreply@aider.chat>\n",
        ALICE,
        (Evidence("co-authored-by-assistant",
                  "Co-authored-by: aider (anthropic/claude-3-5-sonnet) <noreply@aider.chat>",
                  "Aider"),)),
    "made_with_cursor": (
        "Speed up\n\nMade-with: Cursor\n", ALICE,
        (Evidence("made-with-assistant", "Made-with: Cursor", "Cursor"),)),
    "assisted_by": (
        "Docs\n\nAssisted-by: Claude Code [claude-sonnet-4]\nAI-Session: https://example.com/s/42\n",
        ALICE,
        (Evidence("assisted-by-trailer", "Assisted-by: Claude Code [claude-sonnet-4]", "Claude Code"),
         Evidence("ai-session-trailer", "AI-Session: https://example.com/s/42", None))),
    "generated_by": (
        "Tests\n\nGenerated-by: GitHub Copilot\n", ALICE,
        (Evidence("generated-by-trailer", "Generated-by: GitHub Copilot", "GitHub Copilot"),)),
    # aider's own edits: "(aider)" on the author (and on the committer, which is not evidence).
    "aider_author": (
        "Add retry\n", "Paul Gauthier (aider) <paul@example.com>",
        (Evidence("aider-author", "Paul Gauthier (aider) <paul@example.com>", "Aider"),)),
    # A user-driven commit (/commit, the user's own dirty files): aider only made the commit.
    "aider_user_commit": ("Fix typo\n", "Paul Gauthier <paul@example.com>", ()),
    "aider_subject": (
        "aider: Add a retry loop\n", ALICE,
        (Evidence("aider-subject", "aider: Add a retry loop", "Aider"),)),
    "copilot_agent": (
        "Implement feature\n", "copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>",
        (Evidence("agent-author", "copilot-swe-agent[bot]", "GitHub Copilot"),)),
    # Cursor's background (cloud) agent commits as itself.
    "cursor_agent": (
        "Add export\n\nCo-authored-by: Alice Liddell <alice@example.com>\n",
        "Cursor Agent <cursoragent@cursor.com>",
        (Evidence("agent-author", "Cursor Agent", "Cursor"),)),
    "cursor_trailer": (
        "Add export\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n", ALICE,
        (Evidence("co-authored-by-assistant", "Co-authored-by: Cursor <cursoragent@cursor.com>",
                  "Cursor"),)),
    # Claude Code on the web links the session.
    "claude_session": (
        "Add parser\n\nClaude-Session: https://claude.ai/code/session_01ABCdef\n", ALICE,
        (Evidence("claude-session-trailer", "Claude-Session: https://claude.ai/code/session_01ABCdef",
                  "Claude Code"),)),
    # Amp adds both trailers.
    "amp": (
        "Fix leak\n\nAmp-Thread-ID: https://ampcode.com/threads/T-019cb9fe-b11b\n"
        "Co-authored-by: Amp <amp@ampcode.com>\n", ALICE,
        (Evidence("co-authored-by-assistant", "Co-authored-by: Amp <amp@ampcode.com>", "Amp"),
         Evidence("amp-thread-trailer",
                  "Amp-Thread-ID: https://ampcode.com/threads/T-019cb9fe-b11b", "Amp"))),
    "co_authored_by_ai": (
        "Add handler\n\nCo-authored-by-AI: GitHub Copilot (gpt-4.1)\n", ALICE,
        (Evidence("co-authored-by-ai-trailer", "Co-authored-by-AI: GitHub Copilot (gpt-4.1)",
                  "GitHub Copilot"),)),
    # Says AI, not which.
    "co_authored_by_ai_true": (
        "Add handler\n\nCo-Authored-By-AI: true\n", ALICE,
        (Evidence("co-authored-by-ai-trailer", "Co-Authored-By-AI: true", None),)),
    "replit_agent": (
        "Clean up configuration\n\nReplit-Commit-Author: Agent\n"
        "Replit-Commit-Session-Id: 8530e9e7\n", ALICE,
        (Evidence("replit-agent-trailer", "Replit-Commit-Author: Agent", "Replit Agent"),)),
    # Replit's deployment commits are not the agent's code.
    "replit_deployment": ("Deploy\n\nReplit-Commit-Author: Deployment\n", ALICE, ()),
    "opencode": (
        "Add review\n\nCo-Authored-By: opencode <noreply@opencode.ai>\n", ALICE,
        (Evidence("co-authored-by-assistant", "Co-Authored-By: opencode <noreply@opencode.ai>",
                  "OpenCode"),)),
    "qwen_code": (
        "Harden gate\n\nCo-authored-by: Qwen-Coder <qwen-coder@alibabacloud.com>\n", ALICE,
        (Evidence("co-authored-by-assistant",
                  "Co-authored-by: Qwen-Coder <qwen-coder@alibabacloud.com>", "Qwen Code"),)),
    # A person at the same company is a person.
    "alibaba_person": (
        "Pair work\n\nCo-authored-by: Wang Wei <wang.wei@alibabacloud.com>\n", ALICE, ()),
    # A person named Claude, with a person's address: not an assistant.
    "human_claude": (
        "Pair work\n\nCo-authored-by: Claude Monet <claude@monet.example>\n", ALICE, ()),
    "plain": ("Plain human work\n", ALICE, ()),
    # A marker quoted in the body, not a trailer: the trailer rules do not fire.
    "quoted": ("Explain trailers\n\nWe ask for Made-with: Cursor in the trailers.\n\nSigned-off-by:"
               " Alice Liddell <alice@example.com>\n", ALICE, ()),
}
# aider sets the committer to "Name (aider)" on every commit it makes, its own edits or not.
COMMITTERS = {"aider_author": "Paul Gauthier (aider) <paul@example.com>",
              "aider_user_commit": "Paul Gauthier (aider) <paul@example.com>"}


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Commit]:
    """One commit per marker, read back the way `ai share` reads them (git log, git's trailers)."""
    g = Git(tmp_path_factory.mktemp("rules") / "repo")
    shas = {}
    for i, (label, (message, author, _)) in enumerate(MARKERS.items()):
        g.write("f.txt", f"{label}\n")
        shas[label] = g.commit(message, author=author, committer=COMMITTERS.get(label),
                               date=f"2024-{2 + i // 28:02d}-{i % 28 + 1:02d}T10:00:00Z")
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
        "[[ai_rules]]\n"
        'name = "our-llm"\nfield = "trailer"\nkey = "x-llm"\npattern = ".+"\ntool = "House LLM"\n\n'
        "[[ai_rules]]\n"  # named like a default: replaces it
        'name = "made-with-assistant"\nfield = "trailer"\nkey = "made-with"\npattern = "^zed"\n',
        encoding="utf-8")
    s = load_settings(tmp_path)
    rules = Rules.configured(s.ai_rules, s.ai_disabled_rules, s.agent_pattern)

    def classify(label: str) -> tuple[Evidence, ...]:
        return rules.classify(commit_text(marked[label]))

    # A user rule names no tool unless its match does or it says which.
    assert classify("human_claude") == (
        Evidence("pair-work", "Co-authored-by: Claude Monet <claude@monet.example>", None),)
    assert rules.classify(CommitText.of_message(ALICE, ALICE, "Fix\n\nX-LLM: v2\n")) == (
        Evidence("our-llm", "X-LLM: v2", "House LLM"),)
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


# Trailer blocks git reads, and paragraphs it does not read as trailers.
SHAPES = {
    "folded": "Subject\n\nBody.\n\nAssisted-by: Claude Code\n  [claude-sonnet-4]\nAI-Session: s1\n",
    "quarter_with_signoff": "Subject\n\nBody.\n\nSome words\nmore words\nMade-with: Cursor\n"
                            "Signed-off-by: Alice Liddell <alice@example.com>\n",
    "mixed_without_git_trailer": "Subject\n\nBody.\n\nSome words\nMade-with: Cursor\n",
    "too_few_trailers": "Subject\n\nwords\nwords\nwords\nwords\nwords\nwords\nwords\n"
                        "Signed-off-by: Alice Liddell <alice@example.com>\n",
    "subject_only_looks_like_a_trailer": "Made-with: Cursor\n",
    "crlf": "Subject\r\n\r\nBody\r\n\r\nCo-authored-by: Amp <amp@ampcode.com>\r\n",
    **{label: message for label, (message, _, _) in MARKERS.items()},
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Commit]:
    g = Git(tmp_path_factory.mktemp("shapes") / "repo")
    shas = {}
    for i, (label, message) in enumerate(SHAPES.items()):
        g.write("f.txt", f"{label}\n")
        shas[label] = g.commit(message, date=f"2024-01-01T10:{i:02d}:00Z")
    repo = open_repo(g.path)
    commits = {c.sha: c for c in parse_log(b"".join(repo.stream_log(list(shas.values()))))}
    return {label: commits[sha] for label, sha in shas.items()}


@pytest.mark.parametrize("label", list(SHAPES))
def test_a_raw_message_reads_as_git_reads_it(shapes: dict[str, Commit], label: str) -> None:
    """A forge lists a pull request's commits with raw messages: read as git reads them."""
    c = shapes[label]
    if label == "crlf":  # git's trailers; the store keeps git's CRs in subject and body as they are
        assert read_message(SHAPES[label])[2] == c.trailers != ()
        return
    assert read_message(SHAPES[label]) == (c.subject, c.body, c.trailers)


def test_the_strongest_evidence_names_the_tool() -> None:
    """DESIGN.md, AI tool: an agent that authored the work; else a tool the PR names; else commit
    trailers and markers. Several tools at that level: multiple; none named at all: unknown."""
    rules = Rules()
    # An agent author beats a tool the PR names and a commit trailer.
    assert rules.tool_of([("co-authored-by-assistant", "Claude Code"), ("agent-branch", "Cursor"),
                          ("agent-pr-author", "Devin")]) == "Devin"
    # The PR names the tool (a Codex task link); its commits' trailers are weaker evidence.
    assert rules.tool_of([("co-authored-by-assistant", "Claude Code"),
                          ("codex-task-link", "OpenAI Codex")]) == "OpenAI Codex"
    # Two tools named by the PR: multiple.
    assert rules.tool_of([("agent-branch", "GitHub Copilot"), ("ai-label", "Cursor"),
                          ("claude-code-marker", "Claude Code")]) == MULTIPLE
    # A label that says AI but not which falls through to what the commits name.
    assert rules.tool_of([("ai-label", None), ("assisted-by-trailer", "Claude Code")]) == "Claude Code"
    assert rules.tool_of([("ai-label", None), ("ai-session-trailer", None)]) == UNKNOWN
    assert rules.tool_of([]) is None
    # aider's author mark is aider authoring the commit.
    assert rules.tool_of([("aider-author", "Aider"), ("co-authored-by-assistant", "Claude Code")]) \
        == "Aider"


@pytest.mark.parametrize(("pull", "evidence"), [
    # The agents name their head branches after themselves.
    (PullRequestText("alice", "", (), "codex/add-retry"),
     (Evidence("agent-branch", "codex/add-retry", "OpenAI Codex"),)),
    (PullRequestText("alice", "", (), "copilot/fix-login"),
     (Evidence("agent-branch", "copilot/fix-login", "GitHub Copilot"),)),
    (PullRequestText("alice", "", (), "cursor/p1-06-expanded-view-9f65"),
     (Evidence("agent-branch", "cursor/p1-06-expanded-view-9f65", "Cursor"),)),
    (PullRequestText("alice", "", (), "claude/issue-42-20250101"),
     (Evidence("agent-branch", "claude/issue-42-20250101", "Claude Code"),)),
    (PullRequestText("alice", "", (), "devin/1715-mobile-dm"),
     (Evidence("agent-branch", "devin/1715-mobile-dm", "Devin"),)),
    # Only as the prefix.
    (PullRequestText("alice", "", (), "feature/codex-support"), ()),
    # OpenAI Codex cloud: a person opens the PR, its body links the task.
    (PullRequestText("zanieb", "Closes #14724\n\nhttps://chatgpt.com/codex/tasks/task_e_687a53ba", ()),
     (Evidence("codex-task-link", "https://chatgpt.com/codex/tasks/task_e_687a53ba", "OpenAI Codex"),)),
    # Cursor's agent as the PR's author (its GitHub login).
    (PullRequestText("cursoragent", "", ()),
     (Evidence("agent-pr-author", "cursoragent", "Cursor"),)),
    (PullRequestText("alice", "", ("ai-generated", "claude-code")),
     (Evidence("ai-label", "ai-generated", None), Evidence("ai-label", "claude-code", "Claude Code"))),
])
def test_pull_request_markers_name_their_tool(pull: PullRequestText,
                                              evidence: tuple[Evidence, ...]) -> None:
    assert Rules().classify_pull_request(pull) == evidence


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
