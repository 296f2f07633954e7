"""The derive step: mainline, changes, their commits and git milestones, from the stored graph.

Walking the mainline oldest first with the set of commits already claimed gives each merge exactly
the commits reachable from its other parents and not from its first parent (the first parent's
ancestors are precisely what earlier mainline commits claimed), in one pass over the history.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from leadlens.conventions import GITHUB_MERGE
from leadlens.store.db import Store, scalar
from leadlens.store.writer import transaction

__all__ = ["DEFAULT_RELEASE_TAG_PATTERN", "DeriveResult", "derive_repo"]

DEFAULT_RELEASE_TAG_PATTERN = r"^(?:[\w.-]+/)?v?\d+(?:\.\d+)+$"
_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class DeriveResult:
    repo: str
    mainline: int
    changes: int
    released: int
    warning: str | None = None


@dataclass(slots=True)
class _Commit:
    parents: list[str]
    author_time: datetime
    committer_time: datetime
    author_name: str


@dataclass(frozen=True, slots=True)
class _Landing:
    subject: str
    body_first_line: str
    pr_number: int | None


def _load(store: Store, repo: str) -> dict[str, _Commit]:
    # The walk needs no messages: those are read for the landing commits alone (_landings).
    rows = store.con.execute(
        "SELECT sha, parents, author_time, committer_time, author_name FROM commits"
        " WHERE repo = ?", [repo]).fetchall()
    return {r[0]: _Commit(list(r[1]), r[2], r[3], r[4] or "") for r in rows}


def _landings(store: Store, repo: str, chain: list[str]) -> dict[str, _Landing]:
    store.con.register("d_chain", pa.table({"sha": pa.array(chain, pa.string())}))
    try:
        rows = store.con.execute(
            "SELECT sha, subject, split_part(ltrim(coalesce(body, ''), chr(10)), chr(10), 1),"
            " pr_number FROM commits WHERE repo = ? AND sha IN (SELECT sha FROM d_chain)",
            [repo]).fetchall()
    finally:
        store.con.unregister("d_chain")
    return {r[0]: _Landing(r[1] or "", (r[2] or "").strip(), r[3]) for r in rows}


def _first_parents(graph: dict[str, _Commit], sha: str | None) -> Iterator[str]:
    """``sha`` and its first-parent ancestors, as far as the stored graph goes."""
    while sha is not None and sha in graph:
        yield sha
        parents = graph[sha].parents
        sha = parents[0] if parents else None


def _release_positions(store: Store, repo: str, graph: dict[str, _Commit],
                       position: dict[str, int], pattern: re.Pattern[str]
                       ) -> list[tuple[int, datetime, str]]:
    """(last mainline position a release contains, its date, its name) per release tag."""
    out = []
    for name, target, when in store.con.execute(
            "SELECT name, target_sha, tag_time FROM tags WHERE repo = ? AND target_sha IS NOT NULL"
            " AND tag_time IS NOT NULL", [repo]).fetchall():
        if not pattern.match(name):
            continue
        # A tag off the mainline (a maintenance branch) contains the mainline up to where it forked.
        fork = next((s for s in _first_parents(graph, target) if s in position), None)
        if fork is not None:
            out.append((position[fork], when, name))
    return out


def derive_repo(store: Store, repo: str, release_pattern: str = DEFAULT_RELEASE_TAG_PATTERN
                ) -> DeriveResult:
    """Rebuild ``repo``'s derived tables in one transaction."""
    con = store.con
    branch = scalar(con, "SELECT default_branch FROM repos WHERE repo = ?", [repo])
    tip = scalar(con, "SELECT sha FROM refs WHERE repo = ? AND name = ?", [repo, branch]) \
        if branch else None
    if tip is None and branch is None:
        tip = scalar(con, "SELECT head_sha FROM repos WHERE repo = ?", [repo])
    graph = _load(store, repo)
    warning = None
    if tip is None or tip not in graph:
        warning = f"{repo}: the default branch is unknown or empty; no changes derived"
        chain: list[str] = []
    else:
        chain = list(_first_parents(graph, tip))[::-1]
    position = {sha: i for i, sha in enumerate(chain)}
    landings = _landings(store, repo, chain)
    releases = sorted(_release_positions(store, repo, graph, position, re.compile(release_pattern)),
                      key=lambda r: r[0])
    # Earliest-dated release at or after each position: a suffix minimum over release positions.
    best_after: list[tuple[datetime, str] | None] = [None] * (len(chain) + 1)
    ri = len(releases) - 1
    best: tuple[datetime, str] | None = None
    for pos in range(len(chain) - 1, -1, -1):
        while ri >= 0 and releases[ri][0] >= pos:
            cand = (releases[ri][1], releases[ri][2])
            best = cand if best is None or cand < best else best
            ri -= 1
        best_after[pos] = best

    cols: dict[str, list[object]] = {k: [] for k in (
        "repo", "id", "number", "merge_sha", "title", "author", "is_merge", "commits", "release",
        "authors")}
    cc_id: list[str] = []
    cc_sha: list[str] = []
    ms: dict[str, list[object]] = {k: [] for k in ("repo", "change_id", "name", "at", "source",
                                                   "proxy")}
    seen: set[str] = set()
    ids: set[str] = set()
    for pos, sha in enumerate(chain):
        c, land = graph[sha], landings[sha]
        members = [sha]
        seen.add(sha)
        if len(c.parents) > 1:
            queue = deque(p for p in c.parents[1:] if p not in seen and p in graph)
            while queue:
                s = queue.popleft()
                if s in seen:
                    continue
                seen.add(s)
                members.append(s)
                queue.extend(p for p in graph[s].parents if p not in seen and p in graph)
        number = land.pr_number
        cid = f"{repo}#{number}" if number is not None else f"{repo}@{sha}"
        if cid in ids:  # the same number on two landing commits: keep both, apart
            cid, number = f"{repo}@{sha}", None
        ids.add(cid)
        work = [graph[s] for s in members[1:]] or [c]
        gh = GITHUB_MERGE.match(land.subject)
        # GitHub puts the PR title on the merge commit's body's first line.
        title = land.body_first_line if gh and land.body_first_line else land.subject
        first = min(work, key=lambda w: w.author_time)
        release = best_after[pos]
        for key, value in (("repo", repo), ("id", cid), ("number", number), ("merge_sha", sha),
                           ("title", title), ("author", (gh and gh.group(2)) or first.author_name),
                           ("is_merge", len(c.parents) > 1), ("commits", len(members)),
                           ("release", release[1] if release else None),
                           ("authors", sorted({w.author_name for w in work}))):
            cols[key].append(value)
        cc_id.extend([cid] * len(members))
        cc_sha.extend(members)
        points: list[tuple[str, datetime, bool]] = [
            ("work_started", first.author_time, False),
            ("ready_for_review", max(w.author_time for w in work), True),
            ("merged", c.committer_time, False),
        ]
        if release:
            points.append(("released", release[0], False))
        for name, at, proxy in points:
            for key, value in (("repo", repo), ("change_id", cid), ("name", name), ("at", at),
                               ("source", "git"), ("proxy", proxy)):
                ms[key].append(value)

    changes = pa.table(cols)
    change_commits = pa.table({"repo": pa.array([repo] * len(cc_sha), pa.string()),
                               "change_id": pa.array(cc_id, pa.string()),
                               "sha": pa.array(cc_sha, pa.string())})
    milestones = pa.table({**ms, "at": pa.array(ms["at"], _TS)})
    main = pa.table({"repo": pa.array([repo] * len(chain), pa.string()),
                     "sha": pa.array(chain, pa.string()),
                     "position": pa.array(range(len(chain)), pa.int64())})
    views = {"d_changes": changes, "d_cc": change_commits, "d_ms": milestones, "d_main": main}
    for view, tbl in views.items():
        con.register(view, tbl)
    try:
        with transaction(con):
            for table in ("mainline", "changes", "change_commits", "milestones"):
                con.execute(f"DELETE FROM {table} WHERE repo = ?", [repo])
            con.execute("INSERT INTO mainline SELECT * FROM d_main")
            con.execute("INSERT INTO change_commits SELECT * FROM d_cc")
            if changes.num_rows:
                con.execute(
                    "INSERT INTO changes (repo, id, number, merge_sha, title, author, is_merge,"
                    " commits, lines_added, lines_deleted, files, release, authors)"
                    " SELECT c.repo, c.id, c.number, c.merge_sha, c.title, c.author, c.is_merge,"
                    " c.commits, s.added, s.deleted, coalesce(s.files, 0), c.release, c.authors"
                    " FROM d_changes c LEFT JOIN ("
                    "   SELECT cc.change_id, sum(f.added) AS added, sum(f.deleted) AS deleted,"
                    "          count(DISTINCT f.path) AS files"
                    "   FROM d_cc cc JOIN commit_files f ON f.repo = cc.repo AND f.sha = cc.sha"
                    "   GROUP BY cc.change_id) s ON s.change_id = c.id")
                con.execute("INSERT INTO milestones SELECT * FROM d_ms")
    finally:
        for view in views:
            con.unregister(view)
    released = sum(1 for r in cols["release"] if r is not None)
    return DeriveResult(repo, len(chain), changes.num_rows, released, warning)

