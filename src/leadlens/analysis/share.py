"""AI share of shipped code: blamed lines per commit, split into AI and human by the attribution rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leadlens.attribution import CommitText, Evidence, Rules
from leadlens.model import Commit, RangeBlame

__all__ = ["AI_SUFFIX", "AiShare", "FileShare", "ai_share", "commit_text", "share_of"]

AI_SUFFIX = " (AI)"


@dataclass(frozen=True, slots=True)
class FileShare:
    """Lines of one file at ``to`` that commits in the range wrote, and how many of them AI commits."""

    total: int
    ai: int


@dataclass(frozen=True)
class AiShare:
    """The lines present at ``to`` that ``git blame from..to`` attributes to commits in the range."""

    from_rev: str
    to_rev: str
    from_sha: str
    to_sha: str
    total_lines: int
    ai_lines: int
    by_author: dict[str, int]
    by_file: dict[str, FileShare]
    ai_commits: dict[str, tuple[Evidence, ...]] = field(default_factory=dict)

    @property
    def ai_percentage(self) -> float:
        """0-100, two decimals; 0 when the range left no lines at ``to``."""
        return round(100 * self.ai_lines / self.total_lines, 2) if self.total_lines else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.from_rev,
            "to": self.to_rev,
            "from_sha": self.from_sha,
            "to_sha": self.to_sha,
            "total_lines": self.total_lines,
            "ai_lines": self.ai_lines,
            "ai_percentage": self.ai_percentage,
            "by_author": dict(self.by_author),
            "by_file": {p: {"total": f.total, "ai": f.ai} for p, f in self.by_file.items()},
            "ai_commits": {sha: [{"rule": e.rule, "text": e.text, "tool": e.tool} for e in ev]
                           for sha, ev in self.ai_commits.items()},
        }


def commit_text(commit: Commit) -> CommitText:
    """What the attribution rules read of a commit."""
    return CommitText(
        author=f"{commit.author_name} <{commit.author_email}>",
        committer=f"{commit.committer_name} <{commit.committer_email}>",
        subject=commit.subject, body=commit.body, trailers=commit.trailers,
    )


def ai_share(from_rev: str, to_rev: str, from_sha: str, to_sha: str,
             files: Mapping[str, Mapping[str, int]], commits: Mapping[str, Commit],
             rules: Rules) -> AiShare:
    """Aggregate per-file blame counts (path -> sha -> lines, range commits only) into the share.

    ``by_author`` names an AI commit's author with `` (AI)`` appended, so one person's assisted and
    unassisted lines stay apart; ``ai_commits`` holds the evidence of every AI commit with lines.
    """
    evidence: dict[str, tuple[Evidence, ...]] = {}
    by_author: dict[str, int] = {}
    by_file: dict[str, FileShare] = {}
    for path in sorted(files):
        total = ai = 0
        for sha, lines in files[path].items():
            if sha not in commits:
                raise ValueError(f"blame named {sha}, which is not a commit in {from_rev}..{to_rev}")
            if sha not in evidence:
                evidence[sha] = rules.classify(commit_text(commits[sha]))
            name = commits[sha].author_name + (AI_SUFFIX if evidence[sha] else "")
            by_author[name] = by_author.get(name, 0) + lines
            total += lines
            ai += lines if evidence[sha] else 0
        if total:
            by_file[_display(path)] = FileShare(total, ai)
    ai_commits = {sha: ev for sha, ev in sorted(evidence.items()) if ev}
    return AiShare(
        from_rev=from_rev, to_rev=to_rev, from_sha=from_sha, to_sha=to_sha,
        total_lines=sum(f.total for f in by_file.values()),
        ai_lines=sum(f.ai for f in by_file.values()),
        by_author=dict(sorted(by_author.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_file=by_file, ai_commits=ai_commits,
    )


def _display(path: str) -> str:
    """A path as people read it: git's bytes kept by surrogateescape become U+FFFD when not UTF-8."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def share_of(blame: RangeBlame, rules: Rules) -> AiShare:
    """:func:`ai_share` of what ``git blame`` found for one range."""
    return ai_share(blame.start.name, blame.end.name, blame.start.sha, blame.end.sha, blame.files,
                    blame.commits, rules)
