"""Conventions that hosts and tools leave in git history, shared by the git source and derive."""

from __future__ import annotations

import re

__all__ = [
    "DEFAULT_AGENT_PATTERN", "DEFAULT_BOT_PATTERN", "GITHUB_MERGE", "GITLAB_MERGE_REQUEST",
    "PR_SUFFIX", "REVERT",
]

# GitHub's merge commit subject; group 1 is the PR number, group 2 the branch owner (its author).
GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+) from (?:([^/\s]+)/)?")
# GitHub squash and rebase merges: "Subject (#123)".
PR_SUFFIX = re.compile(r"\(#(\d+)\)\s*$")
# GitLab's merge commit body: "See merge request group/project!34".
GITLAB_MERGE_REQUEST = re.compile(r"^See merge request \S*!(\d+)\s*$", re.M)
# git revert's message body.
REVERT = re.compile(r"This reverts commit ([0-9a-f]{7,64})")

# Automation bots (never reviewers; their changes are reported apart): DESIGN.md, Bots and agents.
DEFAULT_BOT_PATTERN = (r"(?i)(\[bot\]$|^(dependabot|renovate|github-actions|greenkeeper|snyk-bot"
                       r"|pre-commit-ci|mergify|imgbot|allcontributors)\b)")
# AI coding agents are not automation bots: their changes are AI-assisted changes.
DEFAULT_AGENT_PATTERN = (r"(?i)^(copilot|copilot-swe-agent|devin-ai-integration|codex|jules"
                         r"|claude|cursor-agent|openhands-agent|sweep-ai|google-labs-jules|amazon-q-developer"
                         r"|codegen-sh)(\[bot\])?$")
