"""A fixture repository for AI-impact analysis: human changes before a pilot, human and AI-assisted
changes after it, with pinned times so every change's stages are known by construction.

``build_pilot`` returns one :class:`Planned` per pull request: what its stages must come out as.
Every PR is merged by Carol and the next Friday-evening tag releases it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gitfixtures import Git

__all__ = ["PILOT_START", "Planned", "build_pilot"]

PILOT_START = datetime(2024, 4, 1, tzinfo=UTC)
_T0 = datetime(2024, 1, 1, 9, tzinfo=UTC)  # a Monday
ANN = "Ann Human <ann@example.com>"
BEN = "Ben Human <ben@example.com>"
CAROL = "Carol Danvers <carol@example.com>"
CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"


@dataclass(frozen=True)
class Planned:
    number: int
    author: str
    ai: bool
    started: datetime  # first commit
    ready: datetime  # last commit (git's ready_for_review proxy)
    merged: datetime
    lines: int

    @property
    def coding_s(self) -> float:
        return (self.ready - self.started).total_seconds()

    @property
    def review_s(self) -> float:
        return (self.merged - self.ready).total_seconds()


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _plan() -> list[Planned]:
    plan = []
    for k in range(72):
        # 24 human PRs before the pilot (Jan-Mar), then 24 human and 24 AI-assisted, interleaved.
        after = k >= 24
        ai = after and k % 2 == 1
        day = _T0 + timedelta(days=(k * 13) // 4)  # ~3.25 days apart, keeps PRs from overlapping
        if after:
            day = max(day, PILOT_START + timedelta(hours=9) + timedelta(days=(k - 24) * 2))
        coding_h = (3 + k % 4) if ai else (8 + k % 5)
        review_h = 20 + k % 7 + (4 if ai else 0)
        started = day
        ready = started + timedelta(hours=coding_h)
        merged = ready + timedelta(hours=review_h)
        lines = 30 + (k % 9) * 10 + (40 if ai else 0)
        plan.append(Planned(k + 1, BEN if k % 3 == 0 else ANN, ai, started, ready, merged, lines))
    return plan


def build_pilot(path: Path) -> list[Planned]:
    g = Git(path)
    g.run("remote", "add", "origin", "https://github.com/acme/pilot.git")
    g.write("README.md", "# pilot\n")
    g.commit("Initial commit\n", author=CAROL, date="2023-12-31T09:00:00Z")
    plan = _plan()
    tagged: set[str] = set()
    for p in plan:
        branch = f"pr{p.number}"
        g.run("checkout", "-q", "-b", branch)
        trailer = f"\n\n{CLAUDE}\n" if p.ai else "\n"
        half = p.lines // 2
        g.write(f"f{p.number}.txt", "".join(f"line {i}\n" for i in range(half)))
        g.commit(f"Start {branch}{trailer}", author=p.author, date=_iso(p.started))
        g.write(f"f{p.number}.txt", "".join(f"line {i}\n" for i in range(p.lines)))
        g.commit(f"Finish {branch}\n", author=p.author, date=_iso(p.ready))
        g.run("checkout", "-q", "main")
        login = p.author.split()[0].lower()
        g.merge(branch, message=f"Merge pull request #{p.number} from {login}/{branch}\n\n"
                f"Change {p.number}", date=_iso(p.merged), author=CAROL)
        friday = p.merged + timedelta(days=(4 - p.merged.weekday()) % 7)
        release = friday.replace(hour=18, minute=0)
        if release <= p.merged:
            release += timedelta(days=7)
        name = f"v1.{release.strftime('%j')}"
        nxt = plan[p.number] if p.number < len(plan) else None
        if (nxt is None or nxt.merged > release) and name not in tagged:
            g.tag(name, message=f"Release {name}\n", date=_iso(release))
            tagged.add(name)
    return plan
