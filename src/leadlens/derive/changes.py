"""Changes: mainline, changes, their commits and git milestones, from the stored graph.

Walking the mainline oldest first with the set of commits already claimed gives each merge exactly
the commits reachable from its other parents and not from its first parent (the first parent's
ancestors are precisely what earlier mainline commits claimed), in one pass over the history.

Only that walk runs in Python, over the graph as flat lists of integer ids (a repository of a
million commits is a few tens of MB that way, not a million objects); what the claimed commits add
up to per change (times, authors, sizes) is computed set-wise in DuckDB.

A shallow clone's graph stops at its boundary commits, which git shows without parents: a walk
that reaches one (or, when the mainline itself is cut, any commit without parents) would claim
commits that earlier, unstored changes own, so such a change is marked ``shallow_cut``. A milestone
whose time comes from an implausible date (a flagged commit) is marked ``flagged``; a tag with an
implausible date is no release.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa

from leadlens.config import DEFAULT_RELEASE_TAG_PATTERN
from leadlens.conventions import GITHUB_MERGE
from leadlens.derive.releases import best_after, implausible_note, release_positions
from leadlens.derive.state import StepInputs
from leadlens.patterns import Regex
from leadlens.store.db import Store, scalar
from leadlens.store.writer import transaction

__all__ = ["CLAIMED", "TS", "DeriveResult", "Graph", "Written", "change_rows", "claim_commits", "derive_repo",
           "id_of", "load_graph", "tip_of", "write"]

TS = pa.timestamp("us", tz="UTC")
_NONE = -1  # a parent outside the stored graph (shallow clones), or no parent
_FEW = 1000  # up to so many landing commits are looked up by sha (an incremental derive)
CLAIMED = -2  # (an appended graph, derive/incremental.py) a stored parent an older change claimed


@dataclass(frozen=True)
class DeriveResult:
    repo: str
    mainline: int
    changes: int
    released: int
    warning: str | None = None
    # How: "incremental (N new changes)", or why the whole repository was derived again
    # ("history rewritten: full rebuild"); None when a full derive was asked for.
    how: str | None = None
    new: int | None = None  # changes derived by an incremental derive


@dataclass(frozen=True)
class Graph:
    """Commit ``i``'s parents are ``parents[offsets[i]:offsets[i + 1]]``, in order, as ids (rows
    of the ``_derive_commit`` temporary table), ``_NONE`` where a parent is not stored."""

    offsets: list[int]
    parents: list[int]
    shallow: list[int]  # commits at a shallow clone's boundary (their parents are not stored)

    def first_parents(self, start: int) -> Iterator[int]:
        """``start`` and its first-parent ancestors, as far as the (stored) graph goes."""
        c = start
        while c >= 0:
            yield c
            lo, hi = self.offsets[c], self.offsets[c + 1]
            c = self.parents[lo] if hi > lo else _NONE


def load_graph(store: Store, repo: str, unclaimed: bool = False) -> Graph:
    """Number the repository's commits (``_derive_commit``) and read the graph as ids; with
    ``unclaimed``, only the commits no change claims yet, and a parent another change claims is
    ``CLAIMED``."""
    con = store.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _derive_commit AS SELECT (row_number() OVER () - 1)::BIGINT"
        " AS id, sha, author_name, author_time, committer_time, len(parents) > 1 AS is_merge,"
        " coalesce(list_has_any(date_flags, ['author_before_1990', 'author_in_future']), FALSE)"
        "   AS author_flagged,"
        " coalesce(list_has_any(date_flags, ['committer_before_1990', 'committer_in_future']),"
        "   FALSE) AS committer_flagged"
        + (", parents FROM commits WHERE repo = $1"
           " AND sha NOT IN (SELECT sha FROM change_commits WHERE repo = $1)" if unclaimed
           else " FROM commits WHERE repo = $1"), [repo])
    n = int(scalar(con, "SELECT count(*) FROM _derive_commit"))
    edges = con.execute(
        "SELECT d.id AS child, coalesce(p.id, -1) AS parent,"
        " CASE WHEN p.id IS NULL THEN e.parent_sha END AS outside FROM ("
        "   SELECT sha, unnest(parents) AS parent_sha, generate_subscripts(parents, 1) AS k"
        + (" FROM _derive_commit" if unclaimed else " FROM commits WHERE repo = $1") + ") e"
        " JOIN _derive_commit d ON d.sha = e.sha LEFT JOIN _derive_commit p ON p.sha = e.parent_sha"
        " ORDER BY d.id, e.k", [repo] if not unclaimed else []).fetchnumpy()
    child = np.asarray(edges["child"], np.int64)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(child, minlength=n), out=offsets[1:])
    parents = np.asarray(edges["parent"], np.int64)
    if unclaimed and (ask := sorted({str(x) for x in edges["outside"] if isinstance(x, str)})):
        stored = {sha for (sha,) in con.execute(
            f"SELECT sha FROM commits WHERE repo = ? AND sha IN ({', '.join('?' * len(ask))})",
            [repo, *ask]).fetchall()}
        parents[[i for i, x in enumerate(edges["outside"])
                 if isinstance(x, str) and x in stored]] = CLAIMED
    shallow = [int(i) for (i,) in con.execute(
        "SELECT d.id FROM _derive_commit d JOIN (SELECT unnest(shallow_commits) AS sha FROM repos"
        " WHERE repo = ?) s ON s.sha = d.sha", [repo]).fetchall()]
    return Graph(offsets.tolist(), parents.tolist(), shallow)


def id_of(store: Store, sha: str | None) -> int | None:
    return None if sha is None else scalar(store.con, "SELECT id FROM _derive_commit WHERE sha = ?",
                                           [sha])


def _edges(graph: Graph) -> np.ndarray:
    """Per commit, True where its ancestry is cut: a shallow boundary commit, or one with a parent
    the store lacks."""
    offsets = np.asarray(graph.offsets, np.int64)
    edge = np.zeros(len(offsets) - 1, np.bool_)
    edge[np.asarray(graph.shallow, np.int64)] = True
    missing = np.flatnonzero(np.asarray(graph.parents, np.int64) == _NONE)
    edge[np.searchsorted(offsets, missing, side="right") - 1] = True
    return edge


def _boundary(graph: Graph, root_cut: bool) -> bytearray:
    """Per commit, 1 where its ancestry is cut (:func:`_edges`) and, when the mainline itself is
    cut (``root_cut``: its oldest commit's is), any commit without parents (in the full history
    the mainline's unstored past may reach it)."""
    edge = _edges(graph)
    if root_cut:
        edge |= np.diff(np.asarray(graph.offsets, np.int64)) == 0
    return bytearray(edge.astype(np.uint8).tobytes())


def claim_commits(graph: Graph, chain: list[int], root_cut: bool, first: int = 0
           ) -> tuple[pa.Table, bytearray]:
    """The commits each mainline position claims (``pos``), in walk order (``seq``): the landing
    commit first, then breadth first from its other parents. ``work``: the commits whose times and
    authors make the change's milestones (all but the landing one, or the landing one alone).
    Also, per position, 1 where a claimed commit's ancestry is cut (:func:`_boundary`).
    ``chain`` starts at mainline position ``first`` (an appended graph: its parents that older
    changes claimed are ``CLAIMED``, never walked)."""
    offsets, parents = graph.offsets, graph.parents
    edge = _boundary(graph, root_cut)
    cut = bytearray(len(chain))
    seen = bytearray(len(offsets) - 1)
    ids: list[int] = []
    at: list[int] = []
    for pos, c in enumerate(chain):
        seen[c] = 1
        ids.append(c)
        at.append(pos)
        cut[pos] = edge[c]
        lo, hi = offsets[c], offsets[c + 1]
        if hi - lo > 1:
            queue = deque(p for p in parents[lo + 1:hi] if p >= 0 and not seen[p])
            while queue:
                s = queue.popleft()
                if seen[s]:
                    continue
                seen[s] = 1
                ids.append(s)
                at.append(pos)
                cut[pos] |= edge[s]
                queue.extend(p for p in parents[offsets[s]:offsets[s + 1]]
                             if p >= 0 and not seen[p])
    pos_arr = np.asarray(at, np.int64) + first
    landing = np.ones(len(at), np.bool_)
    landing[1:] = pos_arr[1:] != pos_arr[:-1]
    alone = np.ones(len(at), np.bool_)
    alone[:-1] = landing[1:]
    return pa.table({"id": pa.array(ids, pa.int64()), "pos": pos_arr,
                     "seq": np.arange(len(at), dtype=np.int64), "work": ~landing | alone}), cut


def change_rows(store: Store, repo: str, chain: list[int],
             best_after: list[tuple[datetime, str] | None], cut: bytearray, first: int = 0
             ) -> pa.Table:
    """One row per mainline position: id, number, title, the GitHub merge's author, release.
    ``chain`` starts at position ``first``: older changes' ids are taken."""
    store.con.register("_derive_chain", pa.table({"id": pa.array(chain, pa.int64()),
                                                   "pos": pa.array(range(len(chain)), pa.int64())}))
    try:
        # A few new commits (an incremental derive): name them, so the scan skips the others.
        few = [r[0] for r in store.con.execute(
            "SELECT d.sha FROM _derive_chain m JOIN _derive_commit d ON d.id = m.id").fetchall()
               ] if 0 < len(chain) <= _FEW else []
        only = f" AND c.sha IN ({', '.join('?' * len(few))})" if few else ""
        rows = store.con.execute(
            "SELECT c.sha, c.subject, split_part(ltrim(coalesce(c.body, ''), chr(10)), chr(10), 1),"
            " c.pr_number FROM _derive_chain m JOIN _derive_commit d ON d.id = m.id"
            " JOIN commits c ON c.repo = ? AND c.sha = d.sha" + only + " ORDER BY m.pos",
            [repo, *few]).fetchall()
    finally:
        store.con.unregister("_derive_chain")
    cols: dict[str, list[object]] = {k: [] for k in (
        "pos", "land", "id", "number", "title", "gh_author", "release", "released_at", "cut")}
    ids: set[str] = set()
    if first and (numbers := [r[3] for r in rows if r[3] is not None]):
        # A number is taken when an older mainline commit names it (as the full derive numbers
        # them, though that change may since be a pull request's), or a pull request's change
        # has it (derive/forge.py, which would give the new one its commit id all the same).
        ids.update(f"{repo}#{n}" for (n,) in store.con.execute(
            "SELECT DISTINCT c.pr_number FROM mainline m JOIN commits c ON c.repo = m.repo"
            " AND c.sha = m.sha WHERE m.repo = ? AND m.position < ?"
            " AND list_contains(?, c.pr_number)", [repo, first, numbers]).fetchall())
        ids.update(r[0] for r in store.con.execute(
            "SELECT id FROM changes WHERE repo = ? AND list_contains(?, id)",
            [repo, [f"{repo}#{n}" for n in numbers]]).fetchall())
    for i, (sha, subject, body_first_line, number) in enumerate(rows):
        pos = first + i
        subject, body_first_line = subject or "", (body_first_line or "").strip()
        cid = f"{repo}#{number}" if number is not None else f"{repo}@{sha}"
        if cid in ids:  # the same number on two landing commits: keep both, apart
            cid, number = f"{repo}@{sha}", None
        ids.add(cid)
        gh = GITHUB_MERGE.match(subject)
        release = best_after[pos]
        # GitHub puts the PR title on the merge commit's body's first line.
        for key, value in (("pos", pos), ("land", chain[i]), ("id", cid), ("number", number),
                           ("title", body_first_line if gh and body_first_line else subject),
                           ("gh_author", gh.group(2) if gh else None),
                           ("release", release[1] if release else None),
                           ("released_at", release[0] if release else None),
                           ("cut", bool(cut[i]))):
            cols[key].append(value)
    types = {"pos": pa.int64(), "land": pa.int64(), "number": pa.int64(), "released_at": TS,
             "cut": pa.bool_()}
    return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in cols.items()})


_WRITE = [
    "INSERT INTO mainline SELECT $repo, d.sha, c.pos FROM _derive_changes c"
    " JOIN _derive_commit d ON d.id = c.land",
    "INSERT INTO change_commits SELECT $repo, c.id, d.sha, d.author_time, d.committer_time"
    " FROM _derive_claim m"
    " JOIN _derive_changes c ON c.pos = m.pos JOIN _derive_commit d ON d.id = m.id",
    # The earliest work commit's author: the first in walk order among equal author times.
    # A milestone is flagged when the commit whose time it takes has an implausible one.
    "CREATE OR REPLACE TEMP TABLE _derive_work AS SELECT m.pos, count(*) AS commits,"
    " min(d.author_time) FILTER (WHERE m.work) AS started,"
    " arg_min(d.author_flagged, d.author_time) FILTER (WHERE m.work) AS started_flagged,"
    " max(d.author_time) FILTER (WHERE m.work) AS ready,"
    " arg_max(d.author_flagged, d.author_time) FILTER (WHERE m.work) AS ready_flagged,"
    " first(coalesce(d.author_name, '') ORDER BY d.author_time, m.seq) FILTER (WHERE m.work)"
    "   AS first_author,"
    " list_sort(list_distinct(list(coalesce(d.author_name, '')) FILTER (WHERE m.work))) AS authors"
    " FROM _derive_claim m JOIN _derive_commit d ON d.id = m.id GROUP BY m.pos",
    "INSERT INTO changes (repo, id, number, merge_sha, title, author, is_merge, commits,"
    " lines_added, lines_deleted, files, release, authors, shallow_cut)"
    " SELECT $repo, c.id, c.number, d.sha, c.title, coalesce(c.gh_author, w.first_author),"
    " d.is_merge, w.commits, s.added, s.deleted, coalesce(s.files, 0), c.release, w.authors, c.cut"
    " FROM _derive_changes c JOIN _derive_commit d ON d.id = c.land JOIN _derive_work w USING (pos)"
    " LEFT JOIN ("
    "   SELECT cc.change_id, sum(f.added) AS added, sum(f.deleted) AS deleted,"
    "          count(DISTINCT f.path) AS files"
    "   FROM change_commits cc JOIN commit_files f ON f.repo = cc.repo AND f.sha = cc.sha"
    "   WHERE cc.repo = $repo AND cc.change_id IN (SELECT id FROM _derive_changes)"
    "   GROUP BY cc.change_id) s ON s.change_id = c.id",
    # A time git could not give (NULL) is a missing milestone, never a zero.
    "INSERT INTO milestones (repo, change_id, name, \"at\", source, proxy, flagged)"
    " SELECT $repo, c.id, 'work_started', w.started, 'git', FALSE, w.started_flagged"
    "   FROM _derive_changes c JOIN _derive_work w USING (pos) WHERE w.started IS NOT NULL"
    " UNION ALL SELECT $repo, c.id, 'ready_for_review', w.ready, 'git', TRUE, w.ready_flagged"
    "   FROM _derive_changes c JOIN _derive_work w USING (pos) WHERE w.ready IS NOT NULL"
    " UNION ALL SELECT $repo, c.id, 'merged', d.committer_time, 'git', FALSE, d.committer_flagged"
    "   FROM _derive_changes c JOIN _derive_commit d ON d.id = c.land"
    "   WHERE d.committer_time IS NOT NULL"
    " UNION ALL SELECT $repo, c.id, 'released', c.released_at, 'git', FALSE, FALSE"
    "   FROM _derive_changes c WHERE c.released_at IS NOT NULL",
]


# What the changes step derived from (derive/incremental.py reads it): every tag as it is, with
# where each usable release tag sits; the tip, length and shallow boundary of the mainline.
_BASE = [
    "DELETE FROM derive_tags WHERE repo = $repo",
    "INSERT INTO derive_tags SELECT t.repo, t.name, t.target_sha, t.tag_time, r.name IS NOT NULL,"
    " r.fork_pos FROM tags t LEFT JOIN _derive_releases r ON r.name = t.name WHERE t.repo = $repo",
    "INSERT OR REPLACE INTO derive_base SELECT $repo, $tip, $positions, r.shallow_commits, $root_cut"
    " FROM repos r WHERE r.repo = $repo",
]


@dataclass(frozen=True)
class Written:
    """What one derive of the changes step writes, as registered tables and values."""

    changes: pa.Table  # _derive_changes
    claim: pa.Table  # _derive_claim
    releases: pa.Table  # _derive_releases
    tip: str | None
    positions: int
    root_cut: bool


def write(store: Store, repo: str, out: Written, *, full: bool, record: StepInputs | None,
          more: Sequence[str] = (), more_views: dict[str, pa.Table] | None = None) -> None:
    """Write ``out`` (replacing ``repo``'s derived rows when ``full``, else adding to them, then
    running ``more`` over ``more_views``) in one transaction, which also ``record``s what it ran
    on."""
    con = store.con
    views = {"_derive_changes": out.changes, "_derive_claim": out.claim,
             "_derive_releases": out.releases, **(more_views or {})}
    values = {"repo": repo, "tip": out.tip, "positions": out.positions, "root_cut": out.root_cut}
    for view, tbl in views.items():
        con.register(view, tbl)
    try:
        with transaction(con):
            if full:
                for table in ("mainline", "changes", "change_commits", "milestones"):
                    con.execute(f"DELETE FROM {table} WHERE repo = ?", [repo])
            for sql in [*_WRITE, *more, *_BASE]:
                con.execute(sql, {k: v for k, v in values.items() if f"${k}" in sql})
            if record is not None:
                record.save(con)
    finally:
        for view in views:
            con.unregister(view)
        con.execute("DROP TABLE IF EXISTS _derive_work")


def derive_repo(store: Store, repo: str, release_pattern: str = DEFAULT_RELEASE_TAG_PATTERN, *,
                record: StepInputs | None = None, how: str | None = None) -> DeriveResult:
    """Rebuild ``repo``'s derived tables in one transaction, which also ``record``s what it ran
    on; ``how``: why it was rebuilt whole (said in the result)."""
    con = store.con
    tip = tip_of(store, repo)
    try:
        graph = load_graph(store, repo)
        tip_id = id_of(store, tip)
        warning = None
        if tip_id is None:
            warning = f"{repo}: the default branch is unknown or empty; no changes derived"
            chain: list[int] = []
        else:
            chain = list(graph.first_parents(tip_id))[::-1]
        position = {c: i for i, c in enumerate(chain)}
        releases, implausible, usable = release_positions(
            store, repo, graph, position, Regex(release_pattern, "release_tag_pattern"))
        root_cut = bool(chain) and bool(_edges(graph)[chain[0]])
        claim, cut = claim_commits(graph, chain, root_cut)
        changes = change_rows(store, repo, chain, best_after(len(chain), releases), cut)
        del graph, position
        if implausible:
            warning = _join(warning, implausible_note(repo, implausible))
        write(store, repo, Written(changes, claim, usable, tip if chain else None, len(chain),
                                   root_cut), full=True, record=record)
    finally:
        con.execute("DROP TABLE IF EXISTS _derive_commit")
    released = changes.column("release").null_count
    return DeriveResult(repo, len(chain), changes.num_rows,
                        changes.num_rows - released, warning, how)


def tip_of(store: Store, repo: str) -> str | None:
    """The mainline's newest commit: the default branch's, else (none known) ``HEAD``'s."""
    con = store.con
    branch = scalar(con, "SELECT default_branch FROM repos WHERE repo = ?", [repo])
    tip = scalar(con, "SELECT sha FROM refs WHERE repo = ? AND name = ?", [repo, branch]) \
        if branch else None
    if tip is None and branch is None:
        tip = scalar(con, "SELECT head_sha FROM repos WHERE repo = ?", [repo])
    return None if tip is None else str(tip)


def _join(warning: str | None, note: str) -> str:
    return f"{warning}; {note}" if warning else note
