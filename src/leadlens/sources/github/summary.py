"""What a GitHub ingest did: objects stored per resource, skipped objects, requests and waits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from leadlens.sources.github.load import Batch, Skipped

__all__ = ["RunSummary", "Wait"]


@dataclass(frozen=True)
class Wait:
    seconds: float
    reason: str


@dataclass
class RunSummary:
    repos: list[str] = field(default_factory=list)
    mode: str = "live"  # live | replay
    stored: Counter[str] = field(default_factory=Counter)  # objects written, by resource
    not_stored: Counter[str] = field(default_factory=Counter)  # read but not ours to store
    skipped: list[Skipped] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)  # file:line: reason (replay)
    requests: int = 0
    not_modified: int = 0
    waits: list[Wait] = field(default_factory=list)
    complete: bool = True
    failed: bool = False  # stopped by an error (not by the request budget)
    stopped: str | None = None  # why a run stopped early (a request budget, ...)
    warnings: list[str] = field(default_factory=list)
    changes_joined: dict[str, int] = field(default_factory=dict)  # repo -> PRs joined to changes

    def add_batch(self, batch: Batch) -> None:
        self.stored.update(batch.stored())
        self.not_stored.update(batch.not_stored)
        self.skipped.extend(skip for skip, _ in batch.skipped)
        if batch.repo not in self.repos:
            self.repos.append(batch.repo)

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(f"{s.resource}: {s.reason}" for s in self.skipped).most_common())

    def to_json(self) -> dict[str, Any]:
        return {
            "repos": self.repos, "mode": self.mode, "complete": self.complete, "failed": self.failed,
            "stopped": self.stopped, "stored": dict(sorted(self.stored.items())),
            "not_stored": dict(sorted(self.not_stored.items())),
            "skipped": [{"resource": s.resource, "url": s.url, "reason": s.reason}
                        for s in self.skipped],
            "malformed": self.malformed, "requests": self.requests,
            "not_modified": self.not_modified,
            "waits": [{"seconds": round(w.seconds, 1), "reason": w.reason} for w in self.waits],
            "warnings": self.warnings, "changes_joined": self.changes_joined,
        }
