"""Line ages: for each commit, when the old lines it rewrote or deleted were born (rework's input).

Each file's ``-U0`` hunks are replayed in commit order (committer time, then author time, then
sha) over a list holding, per line of the file, the commit that added it. A commit's hunks are
applied from the last to the first, so the old positions of the ones still to apply stay valid.
Renames (``commit_files.old_path``) carry the list to the new path: a file's *lineage* is resolved
from the renames first, and the hunks are then streamed from DuckDB one lineage at a time, so only
one file's lines are in memory at once.

This is an approximation wherever history is not a line: commits of concurrent branches that edit
one file are replayed in time order as if made one after the other, and merge commits carry no
hunks (a conflict resolution's edits are not seen). Lines whose birth is unknown — older than the
stored history (a shallow clone), beyond the end of the known list, or last touched by a commit
without line history — are kept as *unknown* (``born_sha`` NULL), never as recent.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from leadlens.derive.state import StepInputs
from leadlens.store.db import Store, scalar
from leadlens.store.writer import transaction

__all__ = ["derive_line_ages"]

_FETCH_ROWS = 10_000

# One row per commit and file, in (lineage, commit order): the hunks of a commit with line history,
# or the numstat counts of one without (whose edits are unknown, so its file's births are lost).
_STREAM = """
SELECT coalesce(b.lineage, h.path) AS lineage, h.ord, h.old_start, h.old_count, h.new_count,
       h.added, h.deleted
FROM (
    SELECT l.path, o.ord, l.old_start, l.old_count, l.new_count,
           NULL::INTEGER AS added, NULL::INTEGER AS deleted
    FROM line_hunks l JOIN la_order o ON o.sha = l.sha
    WHERE l.repo = ? AND o.line_history{only_l}
    UNION ALL
    SELECT f.path, o.ord, NULL::INTEGER[], NULL::INTEGER[], NULL::INTEGER[], f.added, f.deleted
    FROM commit_files f JOIN la_order o ON o.sha = f.sha
    WHERE f.repo = ? AND NOT o.line_history AND NOT f.is_binary{only_f}
) h
ASOF LEFT JOIN la_lineages b ON b.path = h.path AND h.ord >= b.from_ord
ORDER BY lineage, h.ord, h.path
"""


@dataclass
class _Totals:
    """What the replay found, as flat columns (compact for git/git-size histories)."""

    ords: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    old: list[int] = field(default_factory=list)
    new: list[int] = field(default_factory=list)
    rw_ords: list[int] = field(default_factory=list)
    rw_borns: list[int | None] = field(default_factory=list)
    rw_lines: list[int] = field(default_factory=list)


def _order(store: Store, repo: str) -> tuple[list[str], list[bool]]:
    """Reachable commits in replay order: their shas and whether each has line history."""
    rows = store.con.execute(
        "SELECT sha, line_history FROM commits WHERE repo = ? AND reachable"
        " ORDER BY committer_time, author_time, sha", [repo]).fetchall()
    return [r[0] for r in rows], [bool(r[1]) for r in rows]


def _lineages(store: Store, repo: str, position: dict[str, int]) -> pa.Table:
    """(path, from_ord, lineage): from commit ``from_ord`` on, ``path`` continues ``lineage``.

    A path without renames is its own lineage; a rename's new path takes over the old path's
    lineage, and the old path starts a fresh one (a file created there later is a new file).
    """
    renames: dict[int, list[tuple[str, str]]] = {}
    for sha, old, new in store.con.execute(
            "SELECT sha, old_path, path FROM commit_files WHERE repo = ? AND old_path IS NOT NULL"
            " AND old_path <> path", [repo]).fetchall():
        if sha in position:
            renames.setdefault(position[sha], []).append((old, new))
    current: dict[str, str] = {}
    bounds: dict[tuple[str, int], str] = {}
    for ord_ in sorted(renames):
        pairs = renames[ord_]
        # All of a commit's renames read the lineages from before it (a swap a<->b stays right).
        before = {old: current.get(old, old) for old, _ in pairs}
        targets = {new for _, new in pairs}
        for old, new in pairs:
            current[new] = bounds[(new, ord_)] = before[old]
        for old in before.keys() - targets:
            # NUL cannot occur in a git path, so a fresh lineage never equals a real path.
            current[old] = bounds[(old, ord_)] = f"{old}\0{ord_}"
    return pa.table({
        "path": pa.array([k[0] for k in bounds], pa.string()),
        "from_ord": pa.array([k[1] for k in bounds], pa.int64()),
        "lineage": pa.array(list(bounds.values()), pa.string()),
    })


# lineage, ord, old_start, old_count, new_count (lists; NULL without line history), added, deleted
_Row = tuple[str, int, list[int] | None, list[int] | None, list[int] | None, int | None, int | None]


def _rows(store: Store, repo: str, only: bool = False) -> Iterator[_Row]:
    """The replay's rows; ``only``: of the paths in ``la_paths``."""
    cur = store.con.execute(_STREAM.format(
        only_l=" AND l.path IN (SELECT path FROM la_paths)" if only else "",
        only_f=" AND f.path IN (SELECT path FROM la_paths)" if only else ""), [repo, repo])
    while batch := cur.fetchmany(_FETCH_ROWS):
        yield from batch


def _replay(rows: Iterator[_Row], totals: _Totals) -> None:
    lineage: str | None = None
    births: list[int | None] = []  # per line of the file: the ord of the commit that added it
    rewritten: Counter[tuple[int, int | None]] = Counter()

    def flush() -> None:
        for (ord_, born), lines in rewritten.items():
            totals.rw_ords.append(ord_)
            totals.rw_borns.append(born)
            totals.rw_lines.append(lines)
        rewritten.clear()

    for name, ord_, old_start, old_count, new_count, added, deleted in rows:
        if name != lineage:
            flush()
            lineage, births = name, []
        if old_start is None or old_count is None or new_count is None:
            # A commit without line history: the file's length is known, its lines' births are not.
            births = [None] * max(len(births) + (added or 0) - (deleted or 0), 0)
            continue
        # Old position of each hunk as a 0-based index; a pure insertion "after line k" sits at k
        # and, at one index, goes after a removal there so that the removal is applied first.
        hunks = sorted(((s - 1 if oc else s, oc, nc) for s, oc, nc in
                        zip(old_start, old_count, new_count, strict=True)),
                       key=lambda h: (h[0], h[1] > 0))
        changed = old = new = 0
        for at, oc, nc in reversed(hunks):
            at = max(at, 0)
            end = at + oc
            if len(births) < end:  # lines the known history never added: birth unknown
                births.extend([None] * (end - len(births)))
            if oc:
                for born, lines in Counter(births[at:end]).items():
                    rewritten[(ord_, born)] += lines
            births[at:end] = [ord_] * nc
            changed += max(oc, nc)
            old += oc
            new += nc
        totals.ords.append(ord_)
        totals.changed.append(changed)
        totals.old.append(old)
        totals.new.append(new)
    flush()


def _digest(shas: list[str], history: list[bool]) -> str:
    h = hashlib.md5(usedforsecurity=False)
    for sha, lines in zip(shas, history, strict=True):
        h.update(f"{sha}{int(lines)}".encode())
    return h.hexdigest()


def _appended(store: Store, repo: str, shas: list[str], history: list[bool]) -> int | None:
    """How many commits of the replay order the last replay had, when the order is that one's
    followed by newer commits only (their lines cannot change older commits' figures)."""
    base = store.con.execute("SELECT replayed, digest FROM derive_line_base WHERE repo = ?",
                             [repo]).fetchall()
    if not base or base[0][0] > len(shas):
        return None
    n, digest = base[0]
    return int(n) if _digest(shas[:n], history[:n]) == digest else None


# The paths whose history a replay of only the new commits needs: every path of the lineages
# those commits touch.
_TOUCHED = """
CREATE OR REPLACE TEMP TABLE la_touched AS
SELECT DISTINCT coalesce(b.lineage, f.path) AS lineage
FROM (SELECT f.path, o.ord FROM commit_files f JOIN la_order o ON o.sha = f.sha
      WHERE f.repo = ? AND o.ord >= ?) f
ASOF LEFT JOIN la_lineages b ON b.path = f.path AND f.ord >= b.from_ord
"""


def derive_line_ages(store: Store, repo: str, *, record: StepInputs | None = None,
                     incremental: bool = False) -> int:
    """Rebuild ``repo``'s ``line_changes`` and ``rewritten_lines`` in one transaction, which also
    ``record``s what it ran on; returns the number of commits whose changed lines were replayed
    (rows of ``line_changes`` written). ``incremental``: when the ingest only added commits that
    come after every replayed one, replay just the files they touch and add their rows."""
    con = store.con
    shas, history = _order(store, repo)
    first = _appended(store, repo, shas, history) if incremental else None
    position = {sha: i for i, sha in enumerate(shas)}
    order = pa.table({"sha": pa.array(shas, pa.string()),
                      "ord": pa.array(range(len(shas)), pa.int64()),
                      "line_history": pa.array(history, pa.bool_())})
    lineages = _lineages(store, repo, position)
    del position
    totals = _Totals()
    con.register("la_order", order)
    con.register("la_lineages", lineages)
    try:
        if first is not None:
            con.execute(_TOUCHED, [repo, first])
            con.execute("CREATE OR REPLACE TEMP TABLE la_paths AS SELECT lineage AS path"
                        " FROM la_touched UNION SELECT path FROM la_lineages"
                        " WHERE lineage IN (SELECT lineage FROM la_touched)")
        _replay(_rows(store, repo, only=first is not None), totals)
        keep = [i for i, o in enumerate(totals.ords) if o >= (first or 0)]
        rw_keep = [i for i, o in enumerate(totals.rw_ords) if o >= (first or 0)]
        changes = pa.table({"ord": pa.array([totals.ords[i] for i in keep], pa.int64()),
                            "changed": pa.array([totals.changed[i] for i in keep], pa.int64()),
                            "old": pa.array([totals.old[i] for i in keep], pa.int64()),
                            "new": pa.array([totals.new[i] for i in keep], pa.int64())})
        rewritten = pa.table({"ord": pa.array([totals.rw_ords[i] for i in rw_keep], pa.int64()),
                              "born": pa.array([totals.rw_borns[i] for i in rw_keep], pa.int64()),
                              "lines": pa.array([totals.rw_lines[i] for i in rw_keep],
                                                pa.int64())})
        del totals
        con.register("la_changes", changes)
        con.register("la_rewritten", rewritten)
        with transaction(con):
            if first is None:
                con.execute("DELETE FROM line_changes WHERE repo = ?", [repo])
                con.execute("DELETE FROM rewritten_lines WHERE repo = ?", [repo])
            # A commit touching several files has one replay row per file: sum them.
            written = scalar(
                con,
                "INSERT INTO line_changes SELECT ?, o.sha, sum(c.changed), sum(c.old), sum(c.new)"
                " FROM la_changes c JOIN la_order o ON o.ord = c.ord GROUP BY o.sha", [repo])
            con.execute(
                "INSERT INTO rewritten_lines"
                " SELECT ?, o.sha, b.sha, bc.committer_time, sum(r.lines)::INTEGER"
                " FROM la_rewritten r JOIN la_order o ON o.ord = r.ord"
                " LEFT JOIN la_order b ON b.ord = r.born"
                " LEFT JOIN commits bc ON bc.repo = ? AND bc.sha = b.sha"
                " GROUP BY o.sha, b.sha, bc.committer_time", [repo, repo])
            con.execute("INSERT OR REPLACE INTO derive_line_base VALUES (?, ?, ?)",
                        [repo, len(shas), _digest(shas, history)])
            if record is not None:
                record.save(con)
        return int(written or 0)
    finally:
        for view in ("la_order", "la_lineages", "la_changes", "la_rewritten"):
            con.unregister(view)  # a no-op for a view not registered yet
        con.execute("DROP TABLE IF EXISTS la_touched")
        con.execute("DROP TABLE IF EXISTS la_paths")
