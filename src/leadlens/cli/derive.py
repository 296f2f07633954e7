"""`leadlens derive`: rebuild derived data on demand; and the warning readers print when it is stale."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from leadlens.cli.app import app, err, labelled, session
from leadlens.cli.options import StoreOpt
from leadlens.config import Settings, load_settings
from leadlens.errors import UserError

if TYPE_CHECKING:  # derive and the store load on use: `leadlens gate` needs neither
    from leadlens.store import Store

__all__ = ["print_rederived", "warn_stale"]

_SHOWN = 3  # repositories named in the stale warning; beyond that, a count


@app.command("derive")
def derive_cmd(
    repo: Annotated[list[str] | None, typer.Option(
        "--repo", help="Only this repository (OWNER/REPO); repeat for several (default: all).")
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Derive changes and milestones again from the stored data, whatever they were derived from."""
    from leadlens import derive
    from leadlens.store import open_store
    from leadlens.store.db import scalar

    settings = load_settings()
    # Each repository's derive is its own transaction: what finished is kept, the rest is still
    # stale and the next ingest or derive does it.
    session.keeps = "the repositories derived so far"
    with open_store(store or settings.store) as st:
        known = derive.repositories(st)
        for name in repo or ():
            if name not in known:
                holds = f" (it holds: {', '.join(known[:10])}{', ...' if len(known) > 10 else ''})" \
                    if known else " (it is empty)"
                raise UserError(f"no repository {name} in the store {st.path}{holds}")
        names = list(dict.fromkeys(repo)) if repo else known
        items = int(scalar(st.con, "SELECT (SELECT count(*) FROM jira_issues)"
                                   " + (SELECT count(*) FROM issues)"))
        if not names and not items:
            err.print("The store is empty: run `leadlens ingest git PATH` first.", highlight=False,
                      markup=False)
            return
        results = derive.run(st, names, settings)
        failed = False
        for done in results:
            if done.changes and done.changes.warning:
                err.print(labelled("warning:", "yellow", done.changes.warning))
            if done.error:
                failed = True
                err.print(labelled("error:", "red", f"{done.repo}: {done.error}"))
                continue
            n = int(scalar(st.con, "SELECT count(*) FROM changes WHERE repo = ?", [done.repo]))
            err.print(f"{done.repo}: {n:,} changes", highlight=False, markup=False, soft_wrap=True)
        run = derive.items(st, settings, force=True) if items else None
        if run is not None:
            d = run.derived
            err.print(f"work items: {d.items:,}, {d.links:,} links to {d.linked_changes:,} changes",
                      highlight=False, markup=False, soft_wrap=True)
    if failed:
        raise typer.Exit(2)


def _listed(repos: list[str]) -> str:
    """A few names, then a count: a store of a thousand repositories is one line, not a page."""
    more = f" and {len(repos) - _SHOWN} more" if len(repos) > _SHOWN else ""
    return ", ".join(repos[:_SHOWN]) + more


def print_rederived(rederived: dict[str, str]) -> None:
    """Repositories of the store an ingest derived that it did not touch, by why."""
    by_reason: dict[str, list[str]] = {}
    for repo, why in rederived.items():
        by_reason.setdefault(why, []).append(repo)
    for why, repos in by_reason.items():
        err.print(f"{_listed(sorted(repos))}: derived ({why})", highlight=False, markup=False,
                  soft_wrap=True)


def warn_stale(store: Store, settings: Settings) -> None:
    """Say when what a reader is about to read was derived from other data or settings than the
    store and settings now hold (a derive interrupted or skipped, a setting changed since)."""
    from leadlens import derive

    stale = derive.stale(store, settings)
    if not stale:
        return
    why = ", ".join(dict.fromkeys(s.reason for s in stale.values()))
    which = _listed(sorted(stale))
    err.print(labelled("warning:", "yellow", f"derived data of {which} is stale ({why}): run"
                       " `leadlens derive` (or any ingest) to bring it up to date"), soft_wrap=True)
