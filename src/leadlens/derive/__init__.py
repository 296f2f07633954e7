"""The derive step: after any ingest, rebuild what reports read from what sources stored.

Steps run in a fixed order, each from the stored rows alone (never from git or an API): ``changes``
(mainline, changes, their commits and git milestones), ``line_ages`` (when lines were born, for
rework; only where line history was read), ``forge`` (pull requests joined to changes, review,
deployment and release milestones) and ``precompute`` (what reports would otherwise work out on
every run: each commit's AI attribution, each change's activity islands) per repository; then ``items``
(work items and their links to changes, :func:`items`) once over the whole store. Each step
records what it ran on in the transaction of its output (``derive/state.py``); :func:`refresh`
runs exactly the steps whose inputs changed since, so a derive killed midway, or skipped, is
completed by the next ingest. After an ingest that only appended to the mainline, ``changes`` and
``line_ages`` add just the new rows (``derive/incremental.py``,
``derive_line_ages(incremental=True)``), and ``precompute`` works only on what is new;
:func:`run` rebuilds whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadlens.attribution import Rules
from leadlens.config import Settings
from leadlens.conventions import BotRule
from leadlens.derive import state
from leadlens.derive.changes import DeriveResult, derive_repo
from leadlens.derive.forge import derive_forge
from leadlens.derive.incremental import append_changes
from leadlens.derive.items import ItemsDerived, derive_items
from leadlens.derive.line_ages import derive_line_ages
from leadlens.derive.precompute import derive_precompute
from leadlens.derive.state import STEPS, DeriveSettings, RepoInputs, Stale, Step, repositories
from leadlens.errors import LeadlensError
from leadlens.store.db import Store
from leadlens.store.writer import transaction

__all__ = ["STEPS", "Derived", "ItemsDerived", "ItemsRun", "Stale", "Step", "items", "refresh",
           "repositories", "run", "stale"]


@dataclass(frozen=True)
class Derived:
    """What the derive step did for one repository: its changes, or why it could not; ``reason``:
    why it was derived (its inputs changed), None when it was asked for. How the changes step
    ran (incremental, or a full rebuild and why) is ``changes.how``."""

    repo: str
    changes: DeriveResult | None = None
    error: str | None = None
    reason: str | None = None


def run(store: Store, repos: Sequence[str], settings: Settings, *, start: Step = "changes"
        ) -> list[Derived]:
    """Derive ``repos`` from step ``start`` on, whatever they last ran on (``leadlens derive``);
    a repository that fails (bad data the user can fix) is reported, not raised, and the others
    still run."""
    ds = DeriveSettings.of(settings)
    inputs = state.current(store, ds, repos)
    steps = STEPS[STEPS.index(start):]
    return [_derive(store, inputs[repo], steps, ds, full=True) for repo in repos]


def refresh(store: Store, settings: Settings) -> list[Derived]:
    """Derive every repository whose inputs differ from what its steps last ran on: only those
    steps, and nothing when nothing changed (a no-op ingest stays cheap)."""
    ds = DeriveSettings.of(settings)
    inputs = state.current(store, ds)
    return [_derive(store, inputs[repo], s.steps, ds, s.reason, rejoin=s.rejoin)
            for repo, s in state.stale(store, inputs).items()]


@dataclass(frozen=True)
class ItemsRun:
    """What the items step did (over the whole store), and why it ran."""

    derived: ItemsDerived
    reason: str


def items(store: Store, settings: Settings, *, force: bool = False) -> ItemsRun | None:
    """Derive work items and their links when their inputs changed (new changes, new work item
    data, a changed setting), or always with ``force``; None when nothing needed it."""
    ds = DeriveSettings.of(settings)
    inputs, reason = state.items_inputs(store, ds)
    if reason is None and not force:
        return None
    done = derive_items(store, ds.items, ds.bots, record=inputs)
    return ItemsRun(done, reason or "asked for")


def stale(store: Store, settings: Settings, repos: Sequence[str] | None = None
          ) -> dict[str, Stale]:
    """The repositories whose derived data is stale, with the steps to run and why (read-only);
    stale work items under the key ``work items``."""
    ds = DeriveSettings.of(settings)
    found = state.stale(store, state.current(store, ds, repos))
    if repos is None:
        _, reason = state.items_inputs(store, ds)
        if reason is not None:
            found["work items"] = Stale(("items",), reason)
    return found


def _derive(store: Store, inputs: RepoInputs, steps: Sequence[Step], ds: DeriveSettings,
            reason: str | None = None, *, full: bool = False, rejoin: bool = False) -> Derived:
    repo = inputs.repo
    try:
        result = None
        for step in steps:
            record = inputs.steps[step]
            if step == "changes" and inputs.has_git:
                # Only the new changes when the mainline was appended to (derive/incremental.py),
                # else all of them, saying why; all of them when the forge step must join new
                # forge data to the changes as git alone gives them (state.Stale.rejoin).
                done = (None if full else "new forge data" if rejoin
                        else append_changes(store, repo, ds.release_tag_pattern, record=record))
                result = done if isinstance(done, DeriveResult) else derive_repo(
                    store, repo, ds.release_tag_pattern, record=record,
                    how=done and f"{done}: full rebuild")
            elif step == "line_ages" and inputs.line_history:
                derive_line_ages(store, repo, record=record, incremental=not full)
            elif step == "forge":
                derive_forge(store, repo, bots=BotRule.of(ds.bots),
                             production_pattern=ds.production_pattern, record=record)
            elif step == "precompute" and inputs.has_git:
                derive_precompute(store, repo, Rules.of(ds.ai), window=ds.activity_window,
                                  record=record)
            else:  # nothing to derive from (no clone, no line history): that is what it ran on
                with transaction(store.con) as con:
                    record.save(con)
    except LeadlensError as exc:
        return Derived(repo, error=str(exc), reason=reason)
    return Derived(repo, changes=result, reason=reason)
