"""Releases: where each release tag sits on the mainline, and which release each position gets.

A release tag contains the mainline up to the first mainline commit on its target's first-parent
path (a tag on a maintenance branch contains the mainline up to where that branch forked); a
change's release is the earliest-dated release tag at or after its position. A tag dated before
1990 or in the future is no release (the earliest-dated release wins, so one such tag would
release everything before it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from leadlens.config import EARLIEST_PLAUSIBLE
from leadlens.patterns import Regex
from leadlens.store.db import Store

if TYPE_CHECKING:
    from leadlens.derive.changes import Graph

__all__ = ["best_after", "implausible_note", "release_positions", "release_table"]


def release_positions(store: Store, repo: str, graph: Graph, position: dict[int, int],
                       pattern: Regex) -> tuple[list[tuple[int, datetime, str]], int, pa.Table]:
    """(last mainline position a release contains, its date, its name) per release tag, how
    many release tags were passed over for an implausible date (the earliest-dated release wins,
    so one tag dated at the epoch would otherwise release everything before it), and each usable
    release tag's position (``name``, ``fork_pos``: NULL when it contains no mainline commit)."""
    out = []
    implausible = 0
    usable: dict[str, int | None] = {}
    now = datetime.now(UTC)
    for name, target, when in store.con.execute(
            "SELECT t.name, d.id, t.tag_time FROM tags t JOIN _derive_commit d ON d.sha = t.target_sha"
            " WHERE t.repo = ? AND t.tag_time IS NOT NULL", [repo]).fetchall():
        if not pattern.match(name):
            continue
        if not EARLIEST_PLAUSIBLE <= when <= now:
            implausible += 1
            continue
        # A tag off the mainline (a maintenance branch) contains the mainline up to where it forked.
        fork = next((c for c in graph.first_parents(target) if c in position), None)
        usable[name] = None if fork is None else position[fork]
        if fork is not None:
            out.append((position[fork], when, name))
    return out, implausible, release_table(usable)


def release_table(usable: dict[str, int | None]) -> pa.Table:
    """``_derive_releases``: each usable release tag and the last mainline position it contains."""
    return pa.table({"name": pa.array(list(usable), pa.string()),
                     "fork_pos": pa.array(list(usable.values()), pa.int64())})


def best_after(n: int, releases: list[tuple[int, datetime, str]], start: int = 0
                ) -> list[tuple[datetime, str] | None]:
    """Earliest-dated release at or after each position (from ``start`` on; None before): a
    suffix minimum over release positions."""
    releases = sorted(releases, key=lambda r: r[0])
    best_after: list[tuple[datetime, str] | None] = [None] * (n + 1)
    ri = len(releases) - 1
    best: tuple[datetime, str] | None = None
    for pos in range(n - 1, start - 1, -1):
        while ri >= 0 and releases[ri][0] >= pos:
            cand = (releases[ri][1], releases[ri][2])
            best = cand if best is None or cand < best else best
            ri -= 1
        best_after[pos] = best
    return best_after


def implausible_note(repo: str, implausible: int) -> str:
    return (f"{repo}: {implausible} release tag(s) dated before 1990 or in the future are"
            " not used as releases")
