"""The source contract: what every source offers the pipeline, and what a run reports back.

A source reads one system (git, GitHub, ...) into the store through ``store/writer.py`` and
nothing else: it computes no metric and never runs the derive step (``pipeline.py`` does, after
the run, on every repository whose derived data no longer matches what is stored).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from leadlens.config import Settings
from leadlens.store.db import Store

__all__ = ["QUIET", "DeriveStart", "Progress", "RunSummary", "Skipped", "Source", "Wait"]

# The derive step (derive.STEPS) a source's data feeds first: git data feeds every step, forge
# data the forge join and the items (the pipeline reports forge joins after a forge source's run),
# work item data (Jira) only the items.
DeriveStart = Literal["changes", "forge", "items"]


class Progress(Protocol):
    """What a source says while it runs. Counting sources (git) call ``start`` and ``advance``;
    sources without a known total (an API sweep) call ``update`` with a line of text."""

    def start(self, total: int, description: str) -> None: ...
    def advance(self, n: int) -> None: ...
    def update(self, text: str) -> None: ...


class _Quiet:
    def start(self, total: int, description: str) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def update(self, text: str) -> None:
        pass


QUIET: Progress = _Quiet()


@dataclass(frozen=True)
class Skipped:
    """An object a source read but could not map: kept in ``skipped_objects`` with its reason."""

    resource: str
    url: str | None
    reason: str


@dataclass(frozen=True)
class Wait:
    """A wait a source sat out (a rate limit, a retry back-off)."""

    seconds: float
    reason: str


@dataclass
class RunSummary:
    """What one run of a source did: what it stored and skipped, the repositories it touched (the
    derive step runs on them), and whether it stopped early or failed."""

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
    failed: bool = False  # stopped by an error (not by a request budget)
    stopped: str | None = None  # why a run stopped early (a request budget, ...)
    warnings: list[str] = field(default_factory=list)
    changes_joined: dict[str, int] = field(default_factory=dict)  # repo -> PRs joined to changes
    # Repositories this run did not touch that were derived again, and why (a changed setting,
    # a derive that had not finished).
    rederived: dict[str, str] = field(default_factory=dict)
    # What the items step made after the run (work items, links, changes linked), when it ran.
    items: dict[str, int] | None = None

    def derived(self, repo: str, *, changes: int | None, warning: str | None,
                error: str | None, reason: str | None = None) -> None:
        """Take what the derive step did for ``repo`` (the pipeline calls this after the run)."""
        touched = repo in self.repos
        if reason and not touched:
            self.rederived[repo] = reason
        if warning:
            self.warnings.append(warning)
        if error:
            self.warnings.append(f"{repo}: {error}")
            # A repository the run did not touch does not fail it: its derive is retried next run.
            self.failed = self.failed or touched

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
            "rederived": self.rederived, "items": self.items,
        }


class Source(Protocol):
    """One system leadlens reads. ``ingest`` brings the store up to date with it (incrementally,
    idempotently, a cursor moving only with the data it covers) and says what it did."""

    @property
    def kind(self) -> str:
        """The source's name: ``leadlens ingest KIND``."""

    @property
    def derives_from(self) -> DeriveStart:
        """Where the derive step starts after this source's run."""

    def ingest(self, store: Store, settings: Settings, progress: Progress = QUIET) -> RunSummary: ...
