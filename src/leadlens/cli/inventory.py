"""`leadlens summary` and every ingest's closing table: what the store holds, per repository."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from leadlens.cli.app import out
from leadlens.cli.options import emit
from leadlens.report.text import safe_text

if TYPE_CHECKING:
    from leadlens.store.inventory import RepoInventory

__all__ = ["render_inventory"]


def _short_ref(ref: str | None) -> str:
    if ref is None:
        return "unknown"
    return ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")


def render_inventory(rows: list[RepoInventory], fmt: str) -> None:
    if fmt == "json":
        data = [
            {**r.__dict__,
             "first_commit": r.first_commit.isoformat() if r.first_commit else None,
             "last_commit": r.last_commit.isoformat() if r.last_commit else None}
            for r in rows
        ]
        emit(json.dumps({"repositories": data}, indent=2) + "\n", None)
        return
    if not rows:
        out.print("The store is empty: run `leadlens ingest git PATH`.")
        return
    with_prs = any(r.pull_requests for r in rows)
    from rich import box
    from rich.table import Table

    table = Table(title="leadlens store", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("repository", overflow="fold", min_width=12)
    table.add_column("mainline", overflow="ellipsis", max_width=10)
    for col in ("commits", "authors"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("from", no_wrap=True)
    table.add_column("to", no_wrap=True)
    table.add_column("tags", justify="right", no_wrap=True)
    if with_prs:
        table.add_column("pull requests", justify="right", no_wrap=True)
    for r in rows:
        cells = [
            safe_text(r.repo), "no clone" if _no_clone(r) else safe_text(_short_ref(r.default_branch)),
            f"{r.commits:,}" + (f" (+{r.unreachable:,} unreachable)" if r.unreachable else ""),
            f"{r.authors:,}",
            f"{r.first_commit:%Y-%m-%d}" if r.first_commit else "-",
            f"{r.last_commit:%Y-%m-%d}" if r.last_commit else "-", f"{r.tags:,}",
        ]
        table.add_row(*cells, *([f"{r.pull_requests:,}"] if with_prs else []))
    out.print(table)
    commits = sum(r.commits for r in rows)
    firsts = [r.first_commit for r in rows if r.first_commit]
    lasts = [r.last_commit for r in rows if r.last_commit]
    span = f", {min(firsts):%Y-%m-%d} to {max(lasts):%Y-%m-%d}" if firsts and lasts else ""
    noun = "repository" if len(rows) == 1 else "repositories"
    clones = sum(_no_clone(r) for r in rows)
    without = f" ({clones:,} with pull requests but no git history)" if clones else ""
    out.print(f"{len(rows):,} {noun}{without}, {commits:,} commits{span}.", highlight=False)


def _no_clone(r: RepoInventory) -> bool:
    """Known from forge data alone: no clone of this name was ever ingested."""
    return r.default_branch is None and not r.commits and not r.unreachable and r.pull_requests > 0
