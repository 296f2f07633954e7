"""The tool behind each AI-assisted change and pull request, and what became of every pull request
by tool (merged, closed without merging, open): a forge fixture whose figures are counted by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from forgefixtures import pr, pr_commit
from leadlens.analysis.impact import Cohorts
from leadlens.attribution import Rules
from leadlens.derive.forge import derive_forge
from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.report.build import build_ai, build_report
from leadlens.report.changes import change_rows
from leadlens.report.model import ToolPullRequests
from leadlens.store import open_store

REPO = "acme/agents"
SINCE, UNTIL = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
H = 3600.0
CODEX_TASK = "https://chatgpt.com/codex/tasks/task_e_687a53ba646c8331baa4140c5b2bec70"


def _sha(n: int, k: int = 0) -> str:
    return f"{n:020x}{k:020x}"


# number -> pull request fields, and its commits as the forge lists them (author name, message)
PRS: dict[int, tuple[dict[str, object], list[tuple[str, str]]]] = {
    # GitHub's Copilot coding agent opens the PR (GitHub flags the account as a Bot) on copilot/.
    1: ({"author": "Copilot", "author_is_bot": True, "head_ref": "copilot/fix-login",
         "created": "2024-05-01T10:00", "merged": "2024-05-01T14:00"},
        [("copilot-swe-agent[bot]", "Fix login\n\nCo-authored-by: alice <alice@example.com>\n")]),
    2: ({"author": "Copilot", "author_is_bot": True, "head_ref": "copilot/add-export",
         "created": "2024-05-02T10:00", "closed": "2024-05-03T10:00"},
        [("copilot-swe-agent[bot]", "Add export")]),
    3: ({"author": "Copilot", "author_is_bot": True, "head_ref": "copilot/refactor",
         "created": "2024-05-04T10:00"}, []),
    # OpenAI Codex cloud: a person opens the PR; the body links the task, the branch is codex/.
    # The Claude trailer on its commit is weaker evidence than what the PR names.
    4: ({"author": "alice", "head_ref": "codex/add-z", "body": f"Adds z.\n\n{CODEX_TASK}",
         "created": "2024-05-01T09:00", "merged": "2024-05-01T11:00"},
        [("Alice Liddell", "Add z\n\nCo-authored-by: Claude <noreply@anthropic.com>\n")]),
    5: ({"author": "alice", "head_ref": "codex/fix-w",
         "created": "2024-05-02T09:00", "merged": "2024-05-02T15:00"},
        [("Alice Liddell", "Fix w")]),
    6: ({"author": "bob", "body": f"Tries w.\n\n---\n\n{CODEX_TASK}",
         "created": "2024-05-03T09:00", "closed": "2024-05-03T21:00"}, []),
    # Only a commit trailer names the tool.
    7: ({"author": "bob", "created": "2024-05-05T09:00", "merged": "2024-05-06T09:00"},
        [("Bob Builder", "Add parser\n\nClaude-Session: https://claude.ai/code/session_01ABC\n")]),
    8: ({"author": "devin-ai-integration[bot]", "author_is_bot": True, "head_ref": "devin/1715-fix",
         "created": "2024-05-05T10:00", "closed": "2024-05-05T11:00"}, []),
    # Two tools named by the PR itself.
    9: ({"author": "carol", "head_ref": "cursor/try-x", "labels": ("copilot",),
         "created": "2024-05-06T09:00"}, []),
    # A label that says AI, not which.
    10: ({"author": "dan", "labels": ("ai-assisted",),
          "created": "2024-05-06T09:00", "merged": "2024-05-06T10:00"}, [("Dan Dare", "Tidy")]),
    11: ({"author": "bob", "created": "2024-05-01T08:00", "merged": "2024-05-02T08:00"},
         [("Bob Builder", "a")]),
    12: ({"author": "bob", "created": "2024-05-02T08:00", "merged": "2024-05-02T20:00"},
         [("Bob Builder", "b")]),
    13: ({"author": "dan", "created": "2024-05-03T08:00", "closed": "2024-05-04T08:00"}, []),
    14: ({"author": "dan", "created": "2024-05-04T08:00"}, []),
    15: ({"author": "carol", "created": "2024-05-05T08:00", "merged": "2024-05-05T10:00"},
         [("Carol Danvers", "c")]),
    # Automation bots: left out unless --include-bots.
    16: ({"author": "dependabot[bot]", "author_is_bot": True, "head_ref": "dependabot/pip/x",
          "created": "2024-05-02T07:00", "merged": "2024-05-02T08:00"},
         [("dependabot[bot]", "Bump x")]),
    20: ({"author": "dependabot[bot]", "author_is_bot": True, "head_ref": "dependabot/pip/y",
          "created": "2024-05-03T07:00", "closed": "2024-05-03T09:00"}, []),
    # Opened before the scope (merged in it): a change in scope, not a pull request in scope.
    17: ({"author": "Copilot", "author_is_bot": True, "head_ref": "copilot/old",
          "created": "2024-04-20T10:00", "merged": "2024-05-01T12:00"},
         [("copilot-swe-agent[bot]", "Old")]),
    # aider's own edit: "(aider)" on the commit's author.
    18: ({"author": "paul", "created": "2024-05-06T12:00", "merged": "2024-05-06T13:00"},
         [("Paul Gauthier (aider)", "feat: Add y")]),
    # Cursor's cloud agent commits as itself.
    19: ({"author": "erin", "created": "2024-05-06T09:00", "closed": "2024-05-06T09:30"},
         [("Cursor Agent", "Add export\n\nCo-authored-by: Erin <erin@example.com>\n")]),
    21: ({"author": "alice", "head_ref": "claude/issue-21-fix", "created": "2024-05-07T09:00"}, []),
    # Opened after the scope.
    23: ({"author": "Copilot", "author_is_bot": True, "head_ref": "copilot/late",
          "created": "2024-06-02T09:00"}, []),
}


def _row(tool: str, merged: int, closed: int, open_: int, to_merge: float | None,
         to_close: float | None) -> ToolPullRequests:
    n = merged + closed + open_
    return ToolPullRequests(tool=tool, prs=n, merged=merged, closed_unmerged=closed, open=open_,
                            merged_share=merged / n, closed_unmerged_share=closed / n,
                            median_open_to_merge_s=to_merge, median_open_to_close_s=to_close)


# Counted by hand from PRS, created in May 2024; medians of two interpolate.
BY_TOOL = [
    _row("GitHub Copilot", 1, 1, 1, 4 * H, 24 * H),        # 1 merged 4 h, 2 closed 24 h, 3 open
    _row("OpenAI Codex", 2, 1, 0, (2 * H + 6 * H) / 2, 12 * H),  # 4: 2 h, 5: 6 h; 6 closed 12 h
    _row("Claude Code", 1, 0, 1, 24 * H, None),             # 7 merged 24 h; 21 open
    _row("Aider", 1, 0, 0, 1 * H, None),                    # 18
    _row("Cursor", 0, 1, 0, None, 0.5 * H),                 # 19
    _row("Devin", 0, 1, 0, None, 1 * H),                    # 8
    _row("multiple", 0, 0, 1, None, None),                  # 9
    _row("unknown", 1, 0, 0, 1 * H, None),                  # 10
    _row("human", 3, 1, 1, 12 * H, 24 * H),  # 11: 24 h, 12: 12 h, 15: 2 h; 13 closed 24 h; 14
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agents") / "store.duckdb"
    with open_store(path) as st:
        for number, (fields, commits) in PRS.items():
            f = dict(fields)
            merged = f.pop("merged", None)
            pr(st.con, REPO, number, merge_sha=_sha(number) if merged else None,
               merged=merged, **f)  # type: ignore[arg-type]
            for k, (author, message) in enumerate(commits):
                pr_commit(st.con, REPO, number, _sha(number, k + 1), author=author, message=message,
                          authored=str(fields["created"]))
        derive_forge(st, REPO)
    return path


def test_pull_requests_by_tool_counted_by_hand(store: Path) -> None:
    with open_store(store, read_only=True) as st:
        section = build_ai(connect(st), Filters(since=SINCE, until=UNTIL), Rules(),
                           Cohorts(resamples=99))
    assert section.by_tool == BY_TOOL
    assert not any("by_tool" in m for m in section.messages)


def test_bots_come_back_as_their_own_row(store: Path) -> None:
    with open_store(store, read_only=True) as st:
        section = build_ai(connect(st), Filters(since=SINCE, until=UNTIL, include_bots=True),
                           Rules(), Cohorts(resamples=99))
    assert section.by_tool == [*BY_TOOL, _row("bot", 1, 1, 0, 1 * H, 2 * H)]  # 16 and 20


def test_abandoned_counts_pull_requests_closed_without_merging(store: Path) -> None:
    with open_store(store, read_only=True) as st:
        report = build_report(connect(st), Filters(since=SINCE, until=UNTIL))
        with_bots = build_report(connect(st), Filters(since=SINCE, until=UNTIL, include_bots=True))
    assert report.abandoned == 5  # 2, 6, 8, 13, 19
    assert with_bots.abandoned == 6  # and the bot's 20


def test_every_change_names_its_tool(store: Path) -> None:
    with open_store(store, read_only=True) as st:
        _, rows, _ = change_rows(connect(st), Filters(), Rules())
        got = {r["number"]: r for r in rows}
    assert {n: r["ai_tool"] for n, r in got.items()} == {
        1: "GitHub Copilot", 4: "OpenAI Codex", 5: "OpenAI Codex", 7: "Claude Code",
        10: "unknown", 11: None, 12: None, 15: None, 17: "GitHub Copilot", 18: "Aider"}
    # The evidence names each match's tool; the Codex PR's commit trailer says Claude, but the
    # PR names Codex, which is stronger.
    assert got[4]["ai_evidence"] == [
        {"sha": _sha(4, 1), "rule": "co-authored-by-assistant",
         "text": "Co-authored-by: Claude <noreply@anthropic.com>", "tool": "Claude Code"},
        {"sha": None, "rule": "agent-branch", "text": "codex/add-z", "tool": "OpenAI Codex"},
        {"sha": None, "rule": "codex-task-link", "text": CODEX_TASK, "tool": "OpenAI Codex"}]
    assert [e["rule"] for e in got[1]["ai_evidence"]] == [
        "agent-author", "agent-branch", "agent-pr-author"]
    assert got[7]["ai_evidence"] == [
        {"sha": _sha(7, 1), "rule": "claude-session-trailer",
         "text": "Claude-Session: https://claude.ai/code/session_01ABC", "tool": "Claude Code"}]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_terminal_json_and_html_show_abandoned_work(store: Path, tmp_path: Path) -> None:
    scope = ["--store", str(store), "--since", "2024-05-01", "--until", "2024-05-31"]
    proc = _cli("ai", "report", *scope, "--format", "json", "--resamples", "99", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [ToolPullRequests(**r) for r in json.loads(proc.stdout)["by_tool"]] == BY_TOOL
    table = _cli("ai", "report", *scope, "--resamples", "99", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "Pull requests by tool" in table.stdout
    codex = next(line for line in table.stdout.splitlines() if "OpenAI Codex" in line)
    assert codex.split()[2:] == ["3", "2", "(66.7%)", "1", "(33.3%)", "0", "4.0h", "12.0h"]
    html = tmp_path / "ai.html"
    proc = _cli("ai", "report", *scope, "--resamples", "99", "--format", "html", "--out",
                str(html), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = html.read_text(encoding="utf-8")
    assert 'id="ai-by-tool"' in page and "<td>OpenAI Codex</td>" in page
    report = _cli("report", *scope, "--format", "json", cwd=tmp_path)
    assert json.loads(report.stdout)["abandoned"] == 5
    text = _cli("report", *scope, cwd=tmp_path)
    assert "5 pull request(s) closed without merging" in " ".join(text.stdout.split())


def test_git_alone_cannot_say_what_became_of_pull_requests(tmp_path: Path) -> None:
    with open_store(tmp_path / "empty.duckdb") as st:
        section = build_ai(connect(st), Filters(), Rules(), Cohorts(resamples=99))
        report = build_report(connect(st), Filters())
    assert section.by_tool is None and report.abandoned is None
    assert any("by_tool" in m and "leadlens ingest github" in m for m in section.messages)
