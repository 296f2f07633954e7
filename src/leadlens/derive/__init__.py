"""The derive step: after any ingest, rebuild what reports read from what sources stored.

Steps run in a fixed order, each from the stored rows alone (never from git or an API): ``changes``
(mainline, changes, their commits and git milestones), ``line_ages`` (when lines were born, for
rework; only where line history was read) and ``forge`` (pull requests joined to changes, review,
deployment and release milestones). A forge ingest changes nothing the first two read, so it starts
at ``forge``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from leadlens.config import Settings
from leadlens.conventions import BotRule
from leadlens.derive.changes import DeriveResult, derive_repo
from leadlens.derive.forge import derive_forge
from leadlens.derive.line_ages import derive_line_ages
from leadlens.errors import LeadlensError
from leadlens.store.db import Store, scalar

__all__ = ["STEPS", "Derived", "Step", "run"]

Step = Literal["changes", "line_ages", "forge"]
STEPS: tuple[Step, ...] = ("changes", "line_ages", "forge")


@dataclass(frozen=True)
class Derived:
    """What the derive step did for one repository: its changes, or why it could not."""

    repo: str
    changes: DeriveResult | None = None
    error: str | None = None


def run(store: Store, repos: Sequence[str], settings: Settings, *, start: Step = "changes"
        ) -> list[Derived]:
    """Derive ``repos`` from step ``start`` on; a repository that fails (bad data the user can fix)
    is reported, not raised, and the others still run."""
    steps = STEPS[STEPS.index(start):]
    bots = BotRule.of(settings.bots)
    out = []
    for repo in repos:
        try:
            result = None
            if "changes" in steps:
                result = derive_repo(store, repo, settings.git.release_tag_pattern)
            if "line_ages" in steps and scalar(
                    store.con, "SELECT 1 FROM commits WHERE repo = ? AND line_history LIMIT 1", [repo]):
                derive_line_ages(store, repo)
            derive_forge(store, repo, bots=bots,
                         production_pattern=settings.dora.production_pattern)
        except LeadlensError as exc:
            out.append(Derived(repo, error=str(exc)))
            continue
        out.append(Derived(repo, changes=result))
    return out
