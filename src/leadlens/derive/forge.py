"""The forge derive: pull requests join git changes, and their reviews and deployments become milestones.

Runs after the git derive (which rebuilds changes from the commit graph each time) and after each
forge ingest, set-wise in one transaction, and is idempotent: what it replaces of git's milestones
(the `ready_for_review` proxy, `merged`, `released`) it recomputes from stored rows every time.

A repository with pull requests but no git clone still gets changes: one per merged PR, its commits
from ``pr_commits``, its mainline order from ``merged_at`` (DESIGN.md, Change).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from leadlens.config import DEFAULT_PRODUCTION_PATTERN, EARLIEST_PLAUSIBLE
from leadlens.conventions import BotRule
from leadlens.derive.state import StepInputs
from leadlens.store.db import Store, scalar
from leadlens.store.writer import transaction

__all__ = ["PR_READY_SQL", "clone_warnings", "derive_forge", "joined_changes"]

# A PR's ready_for_review: its first ready_for_review event when it was opened as a draft (that
# event comes before any convert_to_draft), else when it was opened; NULL for a PR that is still
# an open draft. Parameter: $repos (a list).
PR_READY_SQL = """
SELECT p.repo, p.number, p.author, p.author_is_bot, p.created_at, p.merged_at, p.closed_at,
       p.state, p.draft, p.additions, p.deletions, p.merge_commit_sha, p.head_ref, p.body, p.title,
       CASE WHEN e.first_ready IS NOT NULL AND (e.first_draft IS NULL OR e.first_ready < e.first_draft)
            THEN e.first_ready
            WHEN e.first_ready IS NULL AND p.draft AND p.state = 'open' THEN NULL
            ELSE p.created_at END AS ready_at
FROM pull_requests p LEFT JOIN (
    SELECT repo, number, min("at") FILTER (WHERE event = 'ready_for_review') AS first_ready,
           min("at") FILTER (WHERE event = 'convert_to_draft') AS first_draft
    FROM pr_events WHERE list_contains($repos, repo) GROUP BY repo, number) e
  ON e.repo = p.repo AND e.number = p.number
WHERE list_contains($repos, p.repo)
"""


def _put_milestones(new: str, old: str) -> list[str]:
    """Make ``milestones`` hold temp table ``new``'s rows (repo, change_id, name, at, source,
    proxy, flagged) in place of the rows ``old`` selects (a condition on ``m``, with ``$repo``),
    writing only what differs: a derive after an append rewrites almost nothing of the joined
    changes' milestones (their rewrite, and the checkpoint it caused, was most of such a derive:
    docs/benchmarks.md)."""
    same = ("n.change_id = m.change_id AND n.name = m.name AND n.at IS NOT DISTINCT FROM m.at"
            " AND n.source IS NOT DISTINCT FROM m.source AND n.proxy IS NOT DISTINCT FROM m.proxy"
            " AND n.flagged IS NOT DISTINCT FROM m.flagged")
    return [
        f"DELETE FROM milestones m WHERE m.repo = $repo AND ({old})"
        f" AND NOT EXISTS (SELECT 1 FROM {new} n WHERE {same})",
        f"INSERT INTO milestones SELECT n.repo, n.change_id, n.name, n.at, n.source, n.proxy,"
        f" n.flagged FROM {new} n WHERE NOT EXISTS (SELECT 1 FROM milestones m"
        f" WHERE m.repo = $repo AND m.change_id = n.change_id AND m.name = n.name)",
    ]


# Merged PRs whose landing commit is on the mainline: a PR is the change whose landing commit is
# its merge_commit_sha; a rebase merge also takes the mainline commits just before it that are
# copies of its commits (same sha, or same author time and subject: rebasing keeps both).
_FOLD = """
CREATE OR REPLACE TEMP TABLE _forge_fold AS
WITH pr AS (
    SELECT p.number, m.position AS p, coalesce(k.k, 1) AS k
    FROM pull_requests p JOIN mainline m ON m.repo = p.repo AND m.sha = p.merge_commit_sha
    LEFT JOIN (SELECT number, count(*) AS k FROM pr_commits WHERE repo = $repo GROUP BY number) k
      ON k.number = p.number
    WHERE p.repo = $repo AND p.merged_at IS NOT NULL),
landing AS (SELECT number, p AS position, TRUE AS is_landing FROM pr),
copies AS (
    SELECT DISTINCT pr.number, m.position, FALSE AS is_landing
    FROM pr JOIN mainline m ON m.repo = $repo AND m.position BETWEEN pr.p - pr.k + 1 AND pr.p - 1
    JOIN commits c ON c.repo = $repo AND c.sha = m.sha
    JOIN pr_commits q ON q.repo = $repo AND q.number = pr.number
      AND (q.sha = c.sha OR (q.author_time = c.author_time
                             AND split_part(q.message, chr(10), 1) = c.subject))
    WHERE NOT c.is_merge AND pr.k > 1),
claims AS (SELECT * FROM landing UNION ALL SELECT * FROM copies)
SELECT ch.id AS old_id, $repo || '#' || cl.number AS new_id, cl.number, cl.is_landing
FROM claims cl JOIN mainline m ON m.repo = $repo AND m.position = cl.position
JOIN changes ch ON ch.repo = $repo AND ch.merge_sha = m.sha
-- a change two PRs claim belongs to the one that landed it, else to the older PR
QUALIFY row_number() OVER (PARTITION BY ch.id ORDER BY cl.is_landing DESC, cl.number) = 1
"""

_JOIN = [
    # Changes git numbered after a PR the API says landed elsewhere keep their commit id.
    "CREATE OR REPLACE TEMP TABLE _forge_map AS"
    " SELECT old_id, new_id, number FROM _forge_fold"
    " UNION ALL SELECT ch.id, $repo || '@' || ch.merge_sha, NULL FROM changes ch"
    " WHERE ch.repo = $repo AND ch.id IN (SELECT new_id FROM _forge_fold)"
    "   AND ch.id NOT IN (SELECT old_id FROM _forge_fold)",
    "CREATE OR REPLACE TEMP TABLE _forge_changes AS"
    " SELECT $repo AS repo, m.new_id AS id, any_value(m.number) AS number,"
    "  coalesce(any_value(p.merge_commit_sha), any_value(ch.merge_sha)) AS merge_sha,"
    "  coalesce(any_value(p.title), any_value(ch.title)) AS title,"
    "  coalesce(any_value(p.author), any_value(ch.author)) AS author,"
    "  bool_or(ch.is_merge) FILTER (WHERE f.is_landing OR f.is_landing IS NULL) AS is_merge,"
    "  sum(ch.commits)::INTEGER AS commits, sum(ch.lines_added) AS lines_added,"
    "  sum(ch.lines_deleted) AS lines_deleted, any_value(ch.files) AS files,"
    "  any_value(ch.release) FILTER (WHERE f.is_landing OR f.is_landing IS NULL) AS release,"
    "  list_sort(list_distinct(flatten(list(coalesce(ch.authors, []))))) AS authors,"
    "  bool_or(ch.shallow_cut) AS shallow_cut, count(*) AS folded"
    " FROM _forge_map m JOIN changes ch ON ch.repo = $repo AND ch.id = m.old_id"
    " LEFT JOIN _forge_fold f ON f.old_id = m.old_id"
    " LEFT JOIN pull_requests p ON p.repo = $repo AND p.number = m.number"
    " GROUP BY m.new_id",
    "DELETE FROM changes WHERE repo = $repo AND id IN (SELECT old_id FROM _forge_map)",
    "INSERT INTO changes (repo, id, number, merge_sha, title, author, is_merge, commits,"
    " lines_added, lines_deleted, files, release, authors, shallow_cut)"
    " SELECT repo, id, number, merge_sha, title, author, coalesce(is_merge, FALSE), commits,"
    " lines_added, lines_deleted, files, release, authors, shallow_cut FROM _forge_changes",
    "UPDATE change_commits SET change_id = m.new_id FROM _forge_map m"
    " WHERE change_commits.repo = $repo AND change_commits.change_id = m.old_id"
    "  AND m.new_id <> m.old_id",
    # A folded change's distinct paths, counted again over all its commits.
    "UPDATE changes SET files = s.files FROM ("
    "  SELECT cc.change_id, count(DISTINCT f.path) AS files FROM change_commits cc"
    "  JOIN commit_files f ON f.repo = cc.repo AND f.sha = cc.sha"
    "  WHERE cc.repo = $repo AND cc.change_id IN (SELECT id FROM _forge_changes WHERE folded > 1)"
    "  GROUP BY cc.change_id) s WHERE changes.repo = $repo AND changes.id = s.change_id",
    # Git's milestones of folded changes: work starts at the earliest, the rest at the landing
    # (flagged when the time they take is).
    "CREATE OR REPLACE TEMP TABLE _forge_ms AS"
    " SELECT $repo AS repo, m.new_id AS change_id, ms.name,"
    "  CASE WHEN ms.name = 'work_started' THEN min(ms.at) ELSE max(ms.at) END AS at,"
    "  any_value(ms.source) AS source, bool_or(ms.proxy) AS proxy,"
    "  CASE WHEN ms.name = 'work_started' THEN arg_min(ms.flagged, ms.at)"
    "       ELSE arg_max(ms.flagged, ms.at) END AS flagged"
    " FROM _forge_map m JOIN milestones ms ON ms.repo = $repo AND ms.change_id = m.old_id"
    " GROUP BY m.new_id, ms.name",
    *_put_milestones("_forge_ms", "m.change_id IN (SELECT old_id FROM _forge_map)"),
]

# A repository with no mainline: one change per merged PR, built from the forge's rows alone.
_FROM_PRS = [
    "DELETE FROM changes WHERE repo = $repo",
    "DELETE FROM change_commits WHERE repo = $repo",
    "DELETE FROM milestones WHERE repo = $repo",
    # A commit listed by two PRs (stacked PRs) belongs to the one merged first.
    "INSERT INTO change_commits"
    " SELECT $repo, $repo || '#' || q.number, q.sha, q.author_time, q.committer_time"
    " FROM pr_commits q JOIN pull_requests p ON p.repo = q.repo AND p.number = q.number"
    " WHERE q.repo = $repo AND p.merged_at IS NOT NULL"
    " QUALIFY row_number() OVER (PARTITION BY q.sha ORDER BY p.merged_at, p.number) = 1",
    "INSERT INTO changes (repo, id, number, merge_sha, title, author, is_merge, commits,"
    " lines_added, lines_deleted, files, release, authors)"
    " SELECT $repo, $repo || '#' || p.number, p.number, coalesce(p.merge_commit_sha, p.head_sha),"
    "  p.title, p.author, FALSE, coalesce(c.n, p.commits, 0)::INTEGER, p.additions, p.deletions,"
    "  p.changed_files::INTEGER, NULL, coalesce(c.authors, [coalesce(p.author, '')])"
    " FROM pull_requests p LEFT JOIN ("
    "   SELECT q.number, count(*) AS n,"
    "          list_sort(list_distinct(list(coalesce(q.author_name, q.author_login, '')))) AS authors"
    "   FROM pr_commits q WHERE q.repo = $repo GROUP BY q.number) c ON c.number = p.number"
    " WHERE p.repo = $repo AND p.merged_at IS NOT NULL"
    "  AND coalesce(p.merge_commit_sha, p.head_sha) IS NOT NULL",
    # The forge reports the commits' git dates: an implausible one is flagged as git's would be.
    "INSERT INTO milestones"
    " SELECT $repo, change_id, 'work_started', min(author_time), 'github', FALSE,"
    f"  min(author_time) < TIMESTAMPTZ '{EARLIEST_PLAUSIBLE.isoformat()}'"
    "   OR min(author_time) > now()"
    " FROM change_commits WHERE repo = $repo AND author_time IS NOT NULL GROUP BY change_id",
]

# Mainline order: git's first-parent positions, else the order PRs were merged in.
_POSITIONS_GIT = (
    "CREATE OR REPLACE TEMP TABLE _forge_pos AS SELECT m.sha, m.position AS pos, c.committer_time AS ts"
    " FROM mainline m JOIN commits c ON c.repo = m.repo AND c.sha = m.sha WHERE m.repo = $repo")
_POSITIONS_PRS = (
    "CREATE OR REPLACE TEMP TABLE _forge_pos AS SELECT ch.merge_sha AS sha,"
    " row_number() OVER (ORDER BY p.merged_at, p.number) AS pos, p.merged_at AS ts"
    " FROM changes ch JOIN pull_requests p ON p.repo = ch.repo AND p.number = ch.number"
    " WHERE ch.repo = $repo")

_MILESTONES = [
    "CREATE OR REPLACE TEMP TABLE _forge_pr AS " + PR_READY_SQL,
    # Reviews and comments by a person other than the author (neither a bot nor an AI reviewer),
    # up to the merge: an AI review is never first_review or approved.
    "CREATE OR REPLACE TEMP TABLE _forge_acts AS"
    " SELECT r.number, r.submitted_at AS ts, r.state FROM reviews r"
    " JOIN _forge_pr p ON p.number = r.number"
    " WHERE r.repo = $repo AND r.submitted_at IS NOT NULL AND r.state <> 'PENDING'"
    "  AND coalesce(r.reviewer, '') <> coalesce(p.author, '')"
    f"  AND {BotRule.person_sql('r.reviewer', 'r.reviewer_is_bot')}"
    "  AND (p.merged_at IS NULL OR r.submitted_at <= p.merged_at)"
    " UNION ALL SELECT c.number, c.created_at, 'COMMENT' FROM comments c"
    " JOIN _forge_pr p ON p.number = c.number"
    " WHERE c.repo = $repo AND coalesce(c.author, '') <> coalesce(p.author, '')"
    f"  AND {BotRule.person_sql('c.author', 'c.author_is_bot')}"
    "  AND (p.merged_at IS NULL OR c.created_at <= p.merged_at)",
    # Only this step writes reviews' milestones: recomputed whole, so a review that no longer
    # counts (a reviewer now matching the bot pattern) leaves none behind.
    # The forge's own times replace git's stand-ins (and their flags).
    "CREATE OR REPLACE TEMP TABLE _forge_review_ms AS"
    " SELECT $repo AS repo, ch.id AS change_id, 'ready_for_review' AS name, p.ready_at AS at,"
    " 'github' AS source, FALSE AS proxy, FALSE AS flagged FROM changes ch"
    " JOIN _forge_pr p ON p.number = ch.number WHERE ch.repo = $repo AND p.ready_at IS NOT NULL"
    "  AND p.merged_at IS NOT NULL"
    " UNION ALL SELECT $repo, ch.id, 'merged', p.merged_at, 'github', FALSE, FALSE FROM changes ch"
    " JOIN _forge_pr p ON p.number = ch.number WHERE ch.repo = $repo AND p.merged_at IS NOT NULL"
    " UNION ALL SELECT $repo, ch.id, 'first_review', min(a.ts), 'github', FALSE, FALSE"
    " FROM changes ch JOIN _forge_pr p ON p.number = ch.number AND p.merged_at IS NOT NULL"
    " JOIN _forge_acts a ON a.number = ch.number WHERE ch.repo = $repo GROUP BY ch.id"
    " UNION ALL SELECT $repo, ch.id, 'approved', max(a.ts), 'github', FALSE, FALSE FROM changes ch"
    " JOIN _forge_pr p ON p.number = ch.number AND p.merged_at IS NOT NULL"
    " JOIN _forge_acts a ON a.number = ch.number AND a.state = 'APPROVED'"
    " WHERE ch.repo = $repo GROUP BY ch.id",
    *_put_milestones("_forge_review_ms", "m.name IN ('first_review', 'approved') OR EXISTS ("
                     "SELECT 1 FROM _forge_review_ms k WHERE k.change_id = m.change_id"
                     " AND k.name = m.name)"),
]

# Production deployments (first successful status to a production environment) and forge
# releases, each at the mainline position of what it shipped.
_SHIPPED = [
    "CREATE OR REPLACE TEMP TABLE _forge_deploys AS"
    " SELECT d.id, pos.pos, min(s.created_at) AS ts FROM deployments d"
    " JOIN deployment_statuses s ON s.repo = d.repo AND s.deployment_id = d.id"
    " JOIN _forge_pos pos ON pos.sha = d.sha"
    " WHERE d.repo = $repo AND s.state = 'success'"
    "  AND regexp_matches(coalesce(s.environment, d.environment, ''), $production, 'i')"
    " GROUP BY d.id, pos.pos",
    # A release's commit: its git tag's, else target_commitish when it is a mainline sha, else
    # (a branch name) the mainline as it was when the release was published.
    "CREATE OR REPLACE TEMP TABLE _forge_releases AS"
    " SELECT r.tag_name AS name, coalesce(r.published_at, r.created_at) AS ts,"
    "  coalesce(tp.pos, cp.pos, (SELECT max(pos) FROM _forge_pos x"
    "    WHERE x.ts <= coalesce(r.published_at, r.created_at))) AS pos"
    " FROM releases r LEFT JOIN tags t ON t.repo = r.repo AND t.name = r.tag_name"
    " LEFT JOIN _forge_pos tp ON tp.sha = t.target_sha"
    " LEFT JOIN _forge_pos cp ON cp.sha = r.target_commitish"
    " WHERE r.repo = $repo AND NOT r.draft AND NOT r.prerelease"
    "  AND coalesce(r.published_at, r.created_at) IS NOT NULL",
    # The earliest of each at or after every change's position: a suffix minimum (rows of equal
    # position sort the shipment first, so it contains the change).
    "CREATE OR REPLACE TEMP TABLE _forge_released AS"
    " WITH c AS (SELECT ch.id, pos.pos FROM changes ch JOIN _forge_pos pos ON pos.sha = ch.merge_sha"
    "   WHERE ch.repo = $repo),"
    " ev AS (SELECT pos, 0 AS kind, 'd' AS what, ts, NULL AS name, NULL AS id FROM _forge_deploys"
    "   UNION ALL SELECT pos, 0, 'r', ts, name, NULL FROM _forge_releases WHERE pos IS NOT NULL"
    "   UNION ALL SELECT pos, 1, 'c', NULL, NULL, id FROM c),"
    " w AS (SELECT id, kind,"
    "   min(ts) FILTER (WHERE what = 'd') OVER s AS deployed_at,"
    "   min(ts) FILTER (WHERE what = 'r') OVER s AS release_at,"
    "   arg_min(name, ts) FILTER (WHERE what = 'r') OVER s AS release_name"
    "   FROM ev WINDOW s AS (ORDER BY pos DESC, kind ROWS UNBOUNDED PRECEDING))"
    " SELECT w.id, w.deployed_at, w.release_at, w.release_name, t.tag_time AS tag_at, ch.release"
    " FROM w JOIN changes ch ON ch.repo = $repo AND ch.id = w.id"
    " LEFT JOIN tags t ON t.repo = $repo AND t.name = ch.release WHERE w.kind = 1",
    "CREATE OR REPLACE TEMP TABLE _forge_released_ms AS"
    " SELECT $repo AS repo, id AS change_id, 'released' AS name,"
    "  coalesce(deployed_at, least(release_at, tag_at)) AS at,"
    "  CASE WHEN deployed_at IS NOT NULL OR release_at <= coalesce(tag_at, release_at)"
    "       THEN 'github' ELSE 'git' END AS source, FALSE AS proxy, FALSE AS flagged"
    " FROM _forge_released WHERE coalesce(deployed_at, release_at, tag_at) IS NOT NULL",
    *_put_milestones("_forge_released_ms", "m.name = 'released'"),
    "UPDATE changes SET release = r.release_name FROM _forge_released r"
    " WHERE changes.repo = $repo AND changes.id = r.id AND r.release_name IS NOT NULL"
    "  AND r.release_at < coalesce(r.tag_at, r.release_at + INTERVAL 1 SECOND)",
]

_TEMP = ("_forge_fold", "_forge_map", "_forge_changes", "_forge_ms", "_forge_review_ms",
         "_forge_released_ms", "_forge_pos", "_forge_pr",
         "_forge_acts", "_forge_deploys", "_forge_releases", "_forge_released")


def derive_forge(store: Store, repo: str, *, bots: BotRule | None = None,
                 production_pattern: str = DEFAULT_PRODUCTION_PATTERN,
                 record: StepInputs | None = None) -> None:
    """Join ``repo``'s pull requests to its changes and write the forge milestones, in one
    transaction, which also ``record``s what it ran on. A repository without forge data is left
    as the git derive wrote it."""
    con = store.con
    if not scalar(con, "SELECT (SELECT count(*) FROM pull_requests WHERE repo = $1)"
                  " + (SELECT count(*) FROM deployments WHERE repo = $1)"
                  " + (SELECT count(*) FROM releases WHERE repo = $1)", [repo]):
        if record is not None:
            with transaction(con):
                record.save(con)
        return
    params = {"repo": repo, "repos": [repo], **(bots or BotRule()).params,
              "production": production_pattern}
    has_git = bool(scalar(con, "SELECT count(*) FROM mainline WHERE repo = ?", [repo]))
    steps = ([_FOLD, *_JOIN, _POSITIONS_GIT] if has_git else [*_FROM_PRS, _POSITIONS_PRS])
    try:
        with transaction(con):
            for sql in [*steps, *_MILESTONES, *_SHIPPED]:
                con.execute(sql, {k: v for k, v in params.items()
                                  if re.search(rf"\${k}\b", sql)})
            if record is not None:
                record.save(con)
    finally:
        for name in _TEMP:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def joined_changes(store: Store, repo: str) -> int:
    """How many of ``repo``'s changes a pull request names."""
    return int(scalar(store.con, "SELECT count(*) FROM changes WHERE repo = ? AND number IN"
                      " (SELECT number FROM pull_requests WHERE repo = ?)", [repo, repo]) or 0)


def clone_warnings(store: Store, repos: Sequence[str]) -> list[str]:
    """Pull requests join git changes by their merge commit: what the reader must know when the
    clone lacks them. Repositories with no clone at all make one line, however many there are
    (a replay of hundreds of repositories is not hundreds of warnings); `leadlens summary` lists
    them."""
    con = store.con
    alone = [r for (r,) in con.execute(
        "SELECT DISTINCT repo FROM pull_requests p WHERE list_contains($repos, repo) AND NOT EXISTS"
        " (SELECT 1 FROM commits c WHERE c.repo = p.repo) ORDER BY repo",
        {"repos": list(repos)}).fetchall()]
    warnings = []
    if len(alone) == 1:
        warnings.append(f"{alone[0]}: no git history of this name in the store; its merged pull"
                        " requests stand alone (`leadlens ingest git PATH` on its clone joins them"
                        " to commits)")
    elif alone:
        warnings.append(f"{len(alone):,} repositories have no git history in the store; their merged"
                        " pull requests stand alone (`leadlens summary` lists them as \"no clone\";"
                        " `leadlens ingest git PATH` on a clone joins them to commits)")
    standing_alone = set(alone)
    for repo in (r for r in repos if r not in standing_alone):
        warnings.extend(_missing_merge_commits(store, repo))
    return warnings


def _missing_merge_commits(store: Store, repo: str) -> list[str]:
    missing = store.con.execute(
        "SELECT number FROM pull_requests p WHERE repo = ? AND merged_at IS NOT NULL"
        " AND merge_commit_sha IS NOT NULL AND NOT EXISTS (SELECT 1 FROM commits c"
        " WHERE c.repo = p.repo AND c.sha = p.merge_commit_sha) ORDER BY number", [repo]).fetchall()
    if not missing:
        return []
    shown = ", ".join(f"#{n}" for (n,) in missing[:5]) + (", ..." if len(missing) > 5 else "")
    return [f"{repo}: {len(missing)} merged pull requests have a merge commit that is not in the"
            f" local clone ({shown}): fetch the clone and run `leadlens ingest git` again"]
