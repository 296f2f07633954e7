"""Per-change git activity islands, stored by the precompute step (``change_activity``).

Someone acted on a change at each of its commits' author and committer times; each such time is
active for the activity window after it, and overlapping or touching windows merge into islands
(DESIGN.md, Active and waiting time; ``timeline.activity_islands`` is the same computation as an
Ibis expression, the one the report falls back on). The report merges these islands with the
forge's activity (reviews, comments, pull request events), which depends on the bot settings and
is small, and splits each stage into active and waiting time over them.

Incremental by itself: each change's commits are fingerprinted (how many, and the XOR of a hash of
each one's sha and times); only changes whose fingerprint differs from the recorded one, or that
have none, get their islands computed; changes that vanished lose theirs; a new window recomputes
the repository. The state records the ``changes`` step's inputs it ran after, so a report can tell
current islands from stale ones (metrics/activity.py).
"""

from __future__ import annotations

from datetime import timedelta

import duckdb

__all__ = ["derive_activity"]

# Islands of a set of changes' git events (table pa_todo: change_id), like timeline.activity_islands:
# sorted by time, an island starts at an event after the previous one's window and ends at an
# event whose next one starts another; among equal times, a start that is not an end comes first.
_ISLANDS = """
INSERT INTO change_activity
WITH e AS (
    SELECT change_id, t FROM (
        SELECT cc.change_id, unnest([cc.author_time, cc.committer_time]) AS t
        FROM change_commits cc SEMI JOIN pa_todo d ON d.change_id = cc.change_id
        WHERE cc.repo = $repo)
    WHERE t IS NOT NULL),
m AS (
    SELECT change_id, t,
           coalesce(t > lag(t) OVER w + to_milliseconds($ms), TRUE) AS starts,
           coalesce(lead(t) OVER w > t + to_milliseconds($ms), TRUE) AS ends
    FROM e WINDOW w AS (PARTITION BY change_id ORDER BY t)),
p AS (
    SELECT change_id, t, starts,
           CASE WHEN ends THEN t
                ELSE lead(t) OVER (PARTITION BY change_id ORDER BY t, ends) END AS last
    FROM m WHERE starts OR ends)
SELECT $repo, change_id, t, last + to_milliseconds($ms) FROM p WHERE starts
"""


def _window_ms(window: timedelta) -> int:
    return int(window.total_seconds() * 1000)


def derive_activity(con: duckdb.DuckDBPyConnection, repo: str, window: timedelta) -> int:
    """Bring ``repo``'s stored activity islands up to date, inside the caller's transaction;
    returns how many changes got their islands computed."""
    ms = _window_ms(window)
    found = con.execute("SELECT window_ms FROM activity_state WHERE repo = ?", [repo]).fetchall()
    if not found or found[0][0] != ms:  # first run, or another window: every change again
        con.execute("DELETE FROM change_activity WHERE repo = ?", [repo])
        con.execute("DELETE FROM change_activity_keys WHERE repo = ?", [repo])
    con.execute("CREATE OR REPLACE TEMP TABLE pa_now AS SELECT change_id, count(*) AS n,"
                " bit_xor(hash(sha, author_time, committer_time)) AS fp FROM change_commits"
                " WHERE repo = ? GROUP BY change_id", [repo])
    con.execute("CREATE OR REPLACE TEMP TABLE pa_todo AS SELECT change_id, n, fp FROM pa_now"
                " EXCEPT SELECT change_id, n, fp FROM change_activity_keys WHERE repo = ?", [repo])
    # Changed or gone: their rows go (a change with no commit left has no islands).
    for table in ("change_activity", "change_activity_keys"):
        con.execute(f"DELETE FROM {table} WHERE repo = ? AND (change_id IN (SELECT change_id"
                    " FROM pa_todo) OR change_id NOT IN (SELECT change_id FROM pa_now))", [repo])
    todo = int(con.execute("SELECT count(*) FROM pa_todo").fetchall()[0][0])
    if todo:
        con.execute(_ISLANDS, {"repo": repo, "ms": ms})
        con.execute("INSERT INTO change_activity_keys SELECT ?, change_id, n, fp FROM pa_todo",
                    [repo])
    changes = con.execute("SELECT inputs FROM derive_state WHERE repo = ? AND step = 'changes'",
                          [repo]).fetchall()
    con.execute("INSERT OR REPLACE INTO activity_state (repo, window_ms, changes_inputs)"
                " VALUES (?, ?, ?)", [repo, ms, changes[0][0] if changes else None])
    con.execute("DROP TABLE pa_now")
    con.execute("DROP TABLE pa_todo")
    return todo

