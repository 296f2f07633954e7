"""Incremental derive: after an ingest that only appended to the mainline, derive the new changes.

The changes step (derive/changes.py) records what it derived from (``derive_base``: the mainline's
tip, length and shallow boundary; ``derive_tags``: every tag, and where each usable release tag
sits on the mainline). When the mainline's new tip has the old tip as a first-parent ancestor, no
tag moved or vanished, and neither the shallow boundary nor a setting the step applies changed,
the old changes stay exactly what a full derive would make of them, except their releases:

* The commits no change claims (``load_graph(unclaimed=True)``) hold everything new. Everything the old
  tip reaches is claimed, and the ancestors of a claimed commit are claimed, so walking the new
  mainline commits oldest first over the unclaimed graph (claimed parents are ``CLAIMED``, never
  walked) claims exactly what the full walk would give each of them.
* A release tag's position is the first mainline commit on its first-parent path. Only a path
  through unclaimed commits can meet the new mainline commits; a path that enters claimed commits
  reaches the old mainline where the full walk would. New usable release tags (new tags, or tags
  whose target is now stored) get their position; old ones keep theirs unless the new mainline
  runs through their path. The earliest-dated release at or after each position is then computed
  over all positions, and an old change whose release differs (a new tag dated earlier than the
  one it had) is updated with its ``released`` milestone.

Anything else is a full rebuild, and says why ("history rewritten: full rebuild").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa

from leadlens.config import EARLIEST_PLAUSIBLE
from leadlens.derive.changes import (
    CLAIMED,
    TS,
    DeriveResult,
    Graph,
    Written,
    change_rows,
    claim_commits,
    id_of,
    load_graph,
    tip_of,
    write,
)
from leadlens.derive.releases import best_after, implausible_note, release_table
from leadlens.derive.state import StepInputs
from leadlens.patterns import Regex
from leadlens.store.db import Store, scalar

__all__ = ["append_changes"]

# Recorded inputs of the changes step an append may change; any other means a full rebuild.
_APPEND_KEYS = {"refs", "tags", "head"}
_WHY = {"mainline": "another mainline branch", "shallow_before": "shallow boundary changed"}

# An old change whose release a new release tag changes: its release and `released` milestone.
_RERELEASE = [
    "CREATE OR REPLACE TEMP TABLE _derive_rerelease_ids AS SELECT c.id, r.release, r.released_at"
    " FROM _derive_rerelease r JOIN mainline m ON m.repo = $repo AND m.position = r.pos"
    " JOIN changes c ON c.repo = $repo AND c.merge_sha = m.sha",
    "UPDATE changes SET release = r.release FROM _derive_rerelease_ids r"
    " WHERE changes.repo = $repo AND changes.id = r.id",
    "DELETE FROM milestones WHERE repo = $repo AND name = 'released'"
    " AND change_id IN (SELECT id FROM _derive_rerelease_ids)",
    "INSERT INTO milestones (repo, change_id, name, \"at\", source, proxy, flagged)"
    " SELECT $repo, id, 'released', released_at, 'git', FALSE, FALSE FROM _derive_rerelease_ids"
    " WHERE released_at IS NOT NULL",
    "DROP TABLE _derive_rerelease_ids",
]


def append_changes(store: Store, repo: str, release_pattern: str, *,
                   record: StepInputs | None) -> DeriveResult | str:
    """The changes step after an ingest: only the new changes when the mainline was appended to;
    else why not (the caller rebuilds in full: ``derive_repo``), and nothing written."""
    why = _why_full(store, repo, record)
    if why is not None:
        return why
    try:
        return _append(store, repo, release_pattern, record)
    finally:
        store.con.execute("DROP TABLE IF EXISTS _derive_commit")


def _why_full(store: Store, repo: str, record: StepInputs | None) -> str | None:
    """Why the last derive cannot be added to (None: it can, if the mainline was appended to)."""
    con = store.con
    then = scalar(con, "SELECT inputs FROM derive_state WHERE repo = ? AND step = 'changes'",
                  [repo])
    base = con.execute("SELECT b.shallow_commits IS NOT DISTINCT FROM r.shallow_commits"
                       " FROM derive_base b JOIN repos r USING (repo) WHERE b.repo = ?",
                       [repo]).fetchall()
    if record is None or then is None or not base:
        return "not derived before"
    changed = [k for k in record.changed(then) if k not in _APPEND_KEYS]
    if changed:
        return ", ".join(_WHY.get(k, f"{k} changed") for k in changed)
    if not base[0][0]:
        return "shallow boundary changed"
    if scalar(con, "SELECT count(*) FROM derive_tags s LEFT JOIN tags t"
              " ON t.repo = s.repo AND t.name = s.name WHERE s.repo = ? AND (t.name IS NULL"
              " OR t.target_sha IS DISTINCT FROM s.target_sha"
              " OR t.tag_time IS DISTINCT FROM s.tag_time)", [repo]):
        return "a tag moved or was deleted"
    return None


def _append(store: Store, repo: str, release_pattern: str, record: StepInputs | None
            ) -> DeriveResult | str:
    """Derive the changes the mainline's new commits make, or why that cannot be done."""
    con = store.con
    old_tip, first, root_cut = (con.execute(
        "SELECT tip_sha, positions, root_cut FROM derive_base WHERE repo = ?", [repo]).fetchall()
        or [(None, 0, False)])[0]
    tip = tip_of(store, repo)
    if old_tip is None or tip is None:
        return "no mainline before" if old_tip is None else "mainline gone"
    graph = load_graph(store, repo, unclaimed=True)
    chain: list[int] = []
    if tip != old_tip:
        tip_id = id_of(store, tip)
        if tip_id is None:  # the tip is an old change's commit (a reset), or not stored
            return "history rewritten"
        chain = list(graph.first_parents(tip_id))[::-1]
        if _claimed_parent(store, repo, graph, chain[0]) != old_tip:
            return "history rewritten"
        if _reaches_back(store, repo, chain):
            return "a pull request's commits reach older changes"
    n = first + len(chain)
    found = _releases(store, repo, graph, {c: first + i for i, c in enumerate(chain)},
                      Regex(release_pattern, "release_tag_pattern"))
    if isinstance(found, str):
        return found
    old, new, implausible, usable = found
    # The older changes' releases change only when the release tags' positions did.
    best = best_after(n, new, start=0 if old != new else first)
    before = best_after(first, old) if old != new else best
    moved = [p for p in range(first) if before[p] != best[p]] if old != new else []
    claim, cut = claim_commits(graph, chain, root_cut, first)
    changes = change_rows(store, repo, chain, best, cut, first)
    rerelease = pa.table({
        "pos": pa.array(moved, pa.int64()),
        "release": pa.array([b[1] if (b := best[p]) else None for p in moved], pa.string()),
        "released_at": pa.array([b[0] if (b := best[p]) else None for p in moved], TS)})
    write(store, repo, Written(changes, claim, usable, tip, n, root_cut), full=False,
          record=record, more=_RERELEASE if moved else (),
          more_views={"_derive_rerelease": rerelease})
    released = int(scalar(con, "SELECT count(release) FROM changes WHERE repo = ?", [repo]))
    k = len(chain)
    return DeriveResult(repo, n, n, released,
                        implausible_note(repo, implausible) if implausible else None,
                        f"incremental ({k} new change{'' if k == 1 else 's'})", k)


def _reaches_back(store: Store, repo: str, chain: list[int]) -> bool:
    """A merged pull request lands on a new mainline commit with more commits than the new ones
    before it: the forge step may fold older changes into it as rebase copies
    (derive/forge.py), which it decides against the changes git alone gives."""
    return bool(scalar(
        store.con,
        "SELECT count(*) FROM _derive_commit d JOIN pull_requests p ON p.repo = $1"
        " AND p.merge_commit_sha = d.sha AND p.merged_at IS NOT NULL"
        " JOIN (SELECT number, count(*) AS k FROM pr_commits WHERE repo = $1 GROUP BY number) q"
        " ON q.number = p.number WHERE list_contains($2, d.id) AND list_position($2, d.id) < q.k",
        [repo, chain]))


def _claimed_parent(store: Store, repo: str, graph: Graph, c: int) -> str | None:
    """The sha of unclaimed commit ``c``'s first parent when an older change claims it."""
    lo, hi = graph.offsets[c], graph.offsets[c + 1]
    if hi == lo or graph.parents[lo] != CLAIMED:
        return None
    sha = scalar(store.con, "SELECT c.parents[1] FROM _derive_commit d JOIN commits c"
                 " ON c.repo = ? AND c.sha = d.sha WHERE d.id = ?", [repo, c])
    return None if sha is None else str(sha)


def _claimed_position(store: Store, repo: str, sha: str | None) -> int | None:
    """The old mainline position a claimed commit's first-parent path reaches (it never reaches
    the new mainline commits, which no older change claims)."""
    while sha is not None:
        rows = store.con.execute(
            "SELECT m.position, c.parents[1] FROM commits c LEFT JOIN mainline m"
            " ON m.repo = c.repo AND m.sha = c.sha WHERE c.repo = ? AND c.sha = ?",
            [repo, sha]).fetchall()
        if not rows:
            return None
        row = rows[0]
        if row[0] is not None:
            return int(row[0])
        sha = row[1]
    return None


Release = tuple[int, datetime, str]


def _releases(store: Store, repo: str, graph: Graph, position: dict[int, int], pattern: Regex
              ) -> tuple[list[Release], list[Release], int, pa.Table] | str:
    """The release tags before and after the append (position, date, name), how many were
    passed over for an implausible date, and each usable one's position (``_derive_releases``);
    or why the old releases no longer hold."""
    old: list[Release] = []
    new: list[Release] = []
    usable: dict[str, int | None] = {}
    implausible = 0
    now = datetime.now(UTC)
    rows = store.con.execute(
        "SELECT t.name, t.target_sha, t.tag_time, d.id, s.release, s.fork_pos FROM tags t"
        " LEFT JOIN _derive_commit d ON d.sha = t.target_sha"
        " LEFT JOIN derive_tags s ON s.repo = t.repo AND s.name = t.name"
        " WHERE t.repo = ? ORDER BY t.name", [repo]).fetchall()
    # Which targets are stored: those of usable release tags were; ask only about the others.
    ask = sorted({r[1] for r in rows if not r[4] and r[1] is not None and pattern.match(r[0])})
    stored = set() if not ask else {sha for (sha,) in store.con.execute(
        f"SELECT sha FROM commits WHERE repo = ? AND sha IN ({', '.join('?' * len(ask))})",
        [repo, *ask]).fetchall()}
    for name, target, when, uid, was, fork in rows:
        if was and fork is not None:
            old.append((fork, when, name))
        ok = when is not None and (was or target in stored) and pattern.match(name)
        if ok and not EARLIEST_PLAUSIBLE <= when <= now:
            implausible += 1
            ok = False
        if not ok:
            if was:
                return "a release tag is no longer usable"
            continue
        if uid is not None:  # its path starts among the commits no older change claims
            last = uid
            for c in graph.first_parents(uid):
                if c in position:
                    fork = position[c]
                    break
                last = c
            else:
                if not was:
                    fork = _claimed_position(store, repo, _claimed_parent(store, repo, graph,
                                                                          last))
        elif not was:
            fork = _claimed_position(store, repo, target)
        usable[name] = fork
        if fork is not None:
            new.append((fork, when, name))
    return old, new, implausible, release_table(usable)


def recorded(store: Store, repo: str) -> dict[str, object] | None:
    """The changes step's recorded inputs (for tests and messages)."""
    then = scalar(store.con, "SELECT inputs FROM derive_state WHERE repo = ? AND step = 'changes'",
                  [repo])
    return None if then is None else dict(json.loads(then))
