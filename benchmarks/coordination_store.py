"""The synthetic store of `benchmarks/coordination.py`: git, GitHub and Jira rows with everything
the coordination signals (issue 14) read, written with DuckDB SQL straight into leadlens' source
tables (no git, no API). The derived tables come from leadlens' own derive step, run afterwards.

Shape (every value a hash of its position: the same sizes give the same store):

- People: ``--people`` developers ``devN`` ("Developer N") in five time zones (UTC-8 25%, UTC+0
  15%, UTC+1 25%, UTC+5:30 20%, UTC+9 15%); one in 23 moves to UTC+1 halfway through. Their
  commits, reviews and comments fall in their local working hours (09:00-18:00: each time of day
  is squeezed into that window, so a reviewer far away picks up the next morning). Each
  repository draws its people from a pool of 30. Bots: dependabot (3% of changes), the Copilot
  agent (2%), a review bot, github-actions comments. API-only reviewers ``leadN`` never commit.
- Changes: ``--changes`` over ``--repos`` repositories, one merge every ~20 minutes: GitHub
  merges of branches of 1-6 commits (85%; 6% of those with a "Merge branch 'main'" commit in
  the branch), squash merges (12%, some reverts; their author date is their first commit's, as
  an interactive rebase's squash keeps it) and direct pushes (3%). Files in a tree of 12
  areas x 8 packages x 25 modules, skewed to a few hot ones, plus three shared files (1%:
  package.json, settings, changelog): changes in flight at once collide. A release tag twice a
  week (every 252 merges) and now and then a pre-release.
- Pull requests for merges and squashes, with review requests, 1-3 review rounds (changes
  requested, then approved) by one reviewer (8% API-only), a review bot on 15%, 0-5 review and
  issue comments alternating between reviewer and author (20% questions ending in '?', answered
  by the other one next; one last comment in ten that is a question stays open), a
  github-actions comment on 20%, 10% edited later; pr_commits with the authors' logins and shas
  (squash PRs: shas not on main).
- Jira: ``--items`` issues in ``--projects`` projects (each project's items are served by the
  changes of two repositories whose commits name them: 65% of changes), Bug 5%, Story 60%, Task
  25%, Sub-task 10%; descriptions with acceptance criteria (heading, checklist or
  Given/When/Then) from the start (45%), added before work starts (15%), added after it (10%),
  extended after it (15%) or never (15%); status history Backlog -> Selected -> In Progress ->
  In Review -> Done with Blocked spells (6%), bounce-backs from review (14%) and reopens (4%);
  assignee changes, Flagged (5%), story-point changes (20%), "is blocked by" links (6%, a third
  across projects), comments (0-4, 20% questions), and bugs linking the PR that introduced them
  (60%, a remote link) while the changes that fix them name their key (the SQL: coordination_jira.py).

Line history (``line_hunks``, then ``line_changes`` and ``rewritten_lines`` from the derive)
unless ``--no-line-history``: one hunk per commit and file within its first 120 lines, so that later
commits rewrite lines earlier ones wrote (rework, SZZ).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from coordination_jira import JIRA
from items import project_keys
from report import RELEASE_TAGS

SLOTS = 8  # commit ids per change: the landing commit (0), its branch (1..6), a spare
SPACING_S = 1200  # one merge per repository every 20 minutes
RELEASE_EVERY = 252  # merges between release tags: twice a week
BASE = "2026-04-01 00:00:00+00"
AS_OF = "2026-10-01T00:00:00Z"  # after the last merge of the default size: fixed, reproducible
OFFSETS = "[-480, -480, -480, -480, -480, 0, 0, 0, 60, 60, 60, 60, 60, 330, 330, 330, 330, 540, 540, 540]"
U = "((hash({}) % 1000000)::DOUBLE / 1e6)"  # a uniform [0, 1) from a hash


def u(*parts: str) -> str:
    return U.format(", ".join(parts))


_MACROS = [
    "CREATE TEMP MACRO sha(x) AS md5('leadlens-coord' || x::VARCHAR) || left(md5(x::VARCHAR), 8)",
    f"CREATE TEMP MACRO ts(s) AS TIMESTAMPTZ '{BASE}' + to_microseconds((s * 1e6)::BIGINT)",
    # A UTC time moved into the same local day's working hours (09:00-18:00 at offset `off`).
    """CREATE TEMP MACRO wh(s, off) AS floor((s + off * 60) / 86400) * 86400 + 32400
           + ((s + off * 60) - floor((s + off * 60) / 86400) * 86400) * 0.375 - off * 60""",
    # When review round t (of `rounds`) of a pull request was submitted: spread between opening
    # and merge, in the reviewer's working hours, in order, before the merge.
    """CREATE TEMP MACRO rev_at(t, rounds, created_s, merged_s, roff) AS
           least(greatest(wh(created_s + (merged_s - created_s) * (t + 1) / (rounds + 0.3), roff),
                          created_s + 60 * (t + 1)), merged_s - 60 * (rounds - t))""",
    f"""CREATE TEMP TABLE g_person AS
        SELECT p, 'dev' || p AS login, 'Developer ' || p AS name, {OFFSETS}[1 + p % 20] AS off,
               p % 23 = 11 AS mover FROM range($people) t(p)""",
]

_CHANGES = [
    f"""CREATE TEMP TABLE g_change AS
    WITH b AS (
        SELECT r, i, (hash(r, i, 'kind') % 100)::BIGINT AS roll,
               (hash(r, i, 'who') % 100)::BIGINT AS who_roll,
               ((r * 7 + hash(r, i, 'dev') % 30) % $people)::BIGINT AS dev,
               ((r * 7 + hash(r, i, 'rev') % 30) % $people)::BIGINT AS rdev,
               (hash(r, i, 'rv') % 100)::BIGINT AS rv_roll,
               i * $spacing + (hash(r, i, 'jitter') % 600)::BIGINT AS merged_s,
               14400 + pow({u('r', 'i', "'review'")}, 2) * 259200 AS review_s,
               1800 + pow({u('r', 'i', "'coding'")}, 2) * 345600 AS coding_s,
               floor(pow({u('r', 'i', "'area'")}, 2) * 12)::INTEGER AS area,
               least($ipp - 1, greatest(0, floor(i * $ipp / $per_repo)::BIGINT
                     + (hash(r, i, 'm') % 3)::BIGINT - 1)) AS m
        FROM range($repos) a(r) CROSS JOIN range($per_repo) c(i)),
    k AS (
        SELECT b.*, (r * $per_repo + i) * {SLOTS} AS land,
               CASE WHEN i = 0 OR roll < 3 THEN 'push' WHEN roll < 15 THEN 'squash' ELSE 'merge' END
                   AS kind,
               roll IN (3, 4) AND i > 60 AS is_revert,
               CASE WHEN who_roll < 3 THEN 'dependabot[bot]'
                    WHEN who_roll < 5 THEN 'copilot-swe-agent[bot]' ELSE 'dev' || dev END AS login,
               who_roll < 5 AS bot,
               CASE WHEN who_roll < 5 THEN 0
                    ELSE CASE WHEN p.mover AND merged_s > $span / 2 THEN 60 ELSE p.off END END AS off,
               CASE WHEN rv_roll < 8 THEN 'lead' || hash(r, i, 'lead') % 6
                    ELSE 'dev' || CASE WHEN rdev = dev THEN (rdev + 1) % $people ELSE rdev END END
                   AS reviewer,
               CASE WHEN rv_roll < 8 THEN 60 ELSE coalesce(q.off, 60) END AS roff,
               who_roll >= 3 AND hash(r, i, 'names') % 100 < 65 AS names,
               (r % $projects) + $projects * m AS item
        FROM b JOIN g_person p ON p.p = b.dev
        LEFT JOIN g_person q ON q.p = CASE WHEN b.rdev = b.dev THEN (b.rdev + 1) % $people
                                           ELSE b.rdev END)
    SELECT k.*, CASE WHEN k.bot THEN NULL ELSE 'Developer ' || k.dev END AS person,
           CASE WHEN kind = 'merge' THEN 1 + (hash(r, i, 'len') % 6)::BIGINT ELSE 0 END AS nb,
           1 + (hash(r, i, 'rounds') % 100 < 30)::INTEGER
             + (hash(r, i, 'rounds') % 100 < 10)::INTEGER AS rounds,
           kind = 'merge' AND i > 60 AND hash(r, i, 'conflict') % 100 < 6 AS conflict,
           merged_s - review_s - coding_s AS work_s,
           least(wh(merged_s - review_s, off) + 900, merged_s - 3600) AS created_s,
           CASE WHEN names THEN g.gkey END AS key
    FROM k LEFT JOIN (SELECT i AS gi, key AS gkey FROM g_item) g ON g.gi = k.item""",
    # A merged branch has a fix commit after each review round but the last; a conflicted one a
    # merge from main as its second commit.
    """UPDATE g_change SET nb = greatest(nb, CASE WHEN conflict THEN rounds + 2 ELSE rounds END)
       WHERE kind = 'merge'""",
    # One row per commit: the landing commit (j = 0) and the branch commits j = 1..nb, in the
    # author's working hours: before the pull request was opened, or fixes between review rounds.
    """CREATE TEMP TABLE g_commit AS
    SELECT c.*, c.land + j AS cid, j, j = 2 AND c.conflict AS merge_in,
           CASE WHEN j = 0 AND c.kind = 'squash' THEN c.work_s
                WHEN j = 0 THEN c.merged_s
                WHEN j > c.nb - c.rounds + 1 THEN greatest(
                    rev_at(j - c.nb + c.rounds - 2, c.rounds, c.created_s, c.merged_s, c.roff) + 60,
                    least(wh(rev_at(j - c.nb + c.rounds - 2, c.rounds, c.created_s, c.merged_s,
                                    c.roff) + 1800, c.off),
                          rev_at(j - c.nb + c.rounds - 1, c.rounds, c.created_s, c.merged_s,
                                 c.roff) - 120))
                ELSE least(wh(c.work_s + (j - 1) * c.coding_s / greatest(c.nb - 1, 1), c.off),
                           c.created_s - 300 * (c.nb - c.rounds - j + 2)) END AS author_s
    FROM g_change c, (SELECT unnest(range(c.nb + 1)) AS j)""",
    """CREATE TEMP TABLE g_file AS
    SELECT cid, r, path, sum(added)::INTEGER AS added, sum(deleted)::INTEGER AS deleted
    FROM (SELECT cid, r, CASE WHEN hash(cid, fi, 'hot') % 100 < 1
                        THEN ['package.json', 'src/config/settings.py', 'CHANGELOG.md'][
                             (1 + hash(cid, fi, 'h') % 3)::BIGINT]
                        ELSE 'src/' || ['api', 'core', 'web', 'db', 'auth', 'billing', 'search',
                             'jobs', 'cli', 'ui', 'infra', 'docs'][1 + area] || '/pkg'
                             || floor(pow(((hash(cid, fi, 's') % 1000) / 1000.0), 2) * 8)::INTEGER
                             || '/mod' || floor(pow(((hash(cid, fi, 'f') % 1000) / 1000.0), 1.5)
                                                * 25)::INTEGER || '.py' END AS path,
           (hash(cid, fi, 'add') % 80)::INTEGER AS added, (hash(cid, fi, 'del') % 30)::INTEGER AS deleted
    FROM (SELECT cid, r, area, unnest(range(CASE WHEN merge_in THEN 1 + hash(cid, 'n') % 2
                                                 WHEN j > 0 OR kind <> 'merge' THEN 1 + hash(cid, 'n') % 4
                                                 ELSE 0 END::BIGINT)) AS fi FROM g_commit))
    GROUP BY cid, r, path""",
]

_GIT = [
    """INSERT INTO repos (repo, path, remote_url, default_branch, head_sha, head_detached, is_bare,
           is_shallow, shallow_before, first_ingested_at, last_ingested_at, shallow_commits)
       SELECT 'bench/repo' || r, '/bench/repo' || r, 'https://github.com/bench/repo' || r || '.git',
              'refs/heads/main', sha((r * $per_repo + $per_repo - 1) * $slots), FALSE, TRUE, FALSE,
              NULL, now(), now(), []::VARCHAR[] FROM range($repos) t(r)""",
    """INSERT INTO ingest_runs SELECT r + 1, 'bench/repo' || r, 'git', '/bench/repo' || r,
           'benchmark', now(), now(), $per_repo, 0 FROM range($repos) t(r)""",
    """INSERT INTO refs SELECT 'bench/repo' || r, 'refs/heads/main',
           sha((r * $per_repo + $per_repo - 1) * $slots), 'commit' FROM range($repos) t(r)""",
    # An annotated release tag twice a week (every RELEASE_EVERY merges), a pre-release now and then.
    *RELEASE_TAGS,
    """INSERT INTO commit_files (repo, sha, path, old_path, added, deleted, is_binary)
       SELECT 'bench/repo' || r, sha(cid), path, NULL, added, deleted, FALSE FROM g_file""",
    # With line history: one -U0 hunk per commit and file, somewhere in its first 120 lines (so
    # that later commits rewrite lines earlier ones wrote: rework, SZZ).
    """INSERT INTO line_hunks SELECT 'bench/repo' || r, sha(cid), path,
           [1 + (hash(cid, path, 'at') % 120)::INTEGER], [deleted],
           [1 + (hash(cid, path, 'at') % 120)::INTEGER], [added]
       FROM g_file WHERE $line_history""",
    """INSERT INTO commits (repo, sha, parents, author_name, author_email, author_time,
           author_tz_offset_min, committer_name, committer_email, committer_time,
           committer_tz_offset_min, subject, body, trailers, is_merge, pr_number, revert_of,
           review_evidence, date_flags, files_changed, lines_added, lines_deleted, run_id,
           reachable, line_history)
       SELECT 'bench/repo' || c.r, sha(c.cid),
           CASE WHEN c.merge_in THEN [sha(c.cid - 1), sha(c.land - $slots)]
                WHEN c.j > 1 THEN [sha(c.cid - 1)]
                WHEN c.j = 1 THEN [sha(c.land - $slots * least(c.i, 2))]
                WHEN c.i = 0 THEN []::VARCHAR[]
                WHEN c.kind = 'merge' THEN [sha(c.land - $slots), sha(c.land + c.nb)]
                ELSE [sha(c.land - $slots)] END,
           coalesce(c.person, c.login), c.login || '@users.noreply.github.com', ts(c.author_s),
           c.off,
           CASE WHEN c.j = 0 AND c.kind <> 'push' THEN 'GitHub' ELSE coalesce(c.person, c.login) END,
           CASE WHEN c.j = 0 AND c.kind <> 'push' THEN 'noreply@github.com'
                ELSE c.login || '@users.noreply.github.com' END,
           ts(CASE WHEN c.j = 0 THEN c.merged_s ELSE c.author_s + hash(c.cid, 'commit') % 240 END),
           CASE WHEN c.j = 0 AND c.kind <> 'push' THEN 0 ELSE c.off END,
           CASE WHEN c.merge_in THEN 'Merge branch ''main'' into topic-' || c.i
                WHEN c.j > 0 THEN coalesce(c.key || ': ', '') || 'Work on change ' || c.i
                                  || ', step ' || c.j
                WHEN c.is_revert THEN 'Revert "Change ' || (c.i - 1 - c.i % 50) || '"'
                WHEN c.kind = 'merge' THEN 'Merge pull request #' || (c.i + 1) || ' from '
                     || c.login || '/topic-' || c.i
                WHEN c.kind = 'squash' THEN coalesce(c.key || ' ', '') || 'Change ' || c.i || ' (#'
                     || (c.i + 1) || ')'
                ELSE coalesce(c.key || ' ', '') || 'Change ' || c.i END,
           CASE WHEN c.is_revert THEN 'This reverts commit ' || sha(c.land - (1 + c.i % 50) * $slots)
                    || '.'
                WHEN c.merge_in THEN 'Conflicts:' || chr(10) || '    src/core/pkg0/mod0.py'
                WHEN c.kind = 'merge' AND c.j = 0 THEN 'Change ' || c.i END,
           []::STRUCT(key VARCHAR, value VARCHAR)[], c.kind = 'merge' AND c.j = 0 OR c.merge_in,
           CASE WHEN c.j = 0 AND c.kind <> 'push' THEN c.i + 1 END,
           CASE WHEN c.is_revert THEN sha(c.land - (1 + c.i % 50) * $slots) END,
           []::STRUCT(kind VARCHAR, person VARCHAR)[], []::VARCHAR[],
           coalesce(f.n, 0), f.added, f.deleted, c.r + 1, TRUE, $line_history
       FROM g_commit c LEFT JOIN (
           SELECT cid, count(*)::INTEGER AS n, sum(added) AS added, sum(deleted) AS deleted
           FROM g_file GROUP BY cid) f USING (cid)""",
]

_GITHUB = [
    """CREATE TEMP TABLE g_pr AS
       SELECT *, 'bench/repo' || r AS repo, i + 1 AS number,
              CASE WHEN login = 'dependabot[bot]' THEN 0 ELSE (hash(r, i, 'nc') % 6)::BIGINT END AS nc
       FROM g_change WHERE kind <> 'push'""",
    """INSERT INTO pull_requests (repo, number, title, body, author, author_is_bot, state, draft,
           created_at, updated_at, closed_at, merged_at, merge_commit_sha, base_ref, head_ref,
           head_sha, labels, commits, source, fetched_at)
       SELECT repo, number, coalesce(key || ': ', '') || 'Change ' || i,
              CASE WHEN key IS NOT NULL AND hash(r, i, 'body') % 2 = 0 THEN 'Closes ' || key || '.'
                   ELSE 'What it does: change ' || i || '.' END,
              login, bot, 'closed', FALSE, ts(created_s), ts(merged_s), ts(merged_s), ts(merged_s),
              sha(land), 'main', coalesce('feature/' || key, 'topic-' || i), sha(land + nb),
              []::VARCHAR[], greatest(nb, 1), 'github', now()
       FROM g_pr""",
    """INSERT INTO pr_events (repo, number, id, event, actor, actor_is_bot, "at", detail, source,
           fetched_at)
       SELECT repo, number, 'rr-' || number, 'review_requested', login, bot, ts(created_s + 30),
              reviewer, 'github', now() FROM g_pr""",
    # Review rounds by one reviewer, in the reviewer's working hours, before the merge; the last
    # approves. A review bot comments on 15% of pull requests.
    f"""INSERT INTO reviews (repo, number, id, reviewer, reviewer_is_bot, state, submitted_at,
           commit_id, body, source, fetched_at)
       SELECT repo, number, (r * $per_repo + i) * 8 + t, reviewer, FALSE,
              CASE WHEN t = rounds - 1 THEN 'APPROVED' ELSE 'CHANGES_REQUESTED' END,
              ts(rev_at(t, rounds, created_s, merged_s, roff)),
              sha(land + CASE WHEN kind = 'merge' THEN nb - rounds + 1 + t ELSE 0 END),
              CASE WHEN t = rounds - 1 THEN 'LGTM' ELSE 'Please fix the tests.' END,
              'github', now()
       FROM g_pr, (SELECT unnest(range(rounds)) AS t)
       UNION ALL
       SELECT repo, number, (r * $per_repo + i) * 8 + 7, 'coderabbitai[bot]', TRUE, 'COMMENTED',
              ts(created_s + 240), sha(land + nb), 'Summary by the review bot.', 'github', now()
       FROM g_pr WHERE {u('r', 'i', "'botrv'")} < 0.15""",
    # Comments alternate between the reviewer (even) and the author (odd); a question is answered
    # by the next comment, by the other person, unless it is the last.
    """CREATE TEMP TABLE g_comment AS
       WITH c AS (
           SELECT repo, r, i, number, c, created_s, merged_s,
                  CASE WHEN c % 2 = 0 THEN reviewer ELSE login END AS author,
                  CASE WHEN c % 2 = 0 THEN FALSE ELSE bot END AS is_bot,
                  wh(created_s + (merged_s - created_s) * (c + 1) / (nc + 1.5),
                     CASE WHEN c % 2 = 0 THEN roff ELSE off END) AS raw_s,
                  hash(r, i, c, 'q') % 5 = 0 AND (c < nc - 1 OR hash(r, i, 'open') % 10 = 0) AS question,
                  CASE WHEN hash(r, i, c, 'k') % 2 = 0 THEN 'review' ELSE 'issue' END AS kind
           FROM g_pr, (SELECT unnest(range(nc)) AS c))
       SELECT *, max(least(greatest(raw_s, created_s + 60), merged_s - 600)) OVER (
                  PARTITION BY r, i ORDER BY c ROWS UNBOUNDED PRECEDING) + c * 30 AS at_s
       FROM c""",
    """INSERT INTO comments (repo, kind, id, number, author, author_is_bot, created_at, updated_at,
           body, source, fetched_at)
       SELECT repo, kind, (r * $per_repo + i) * 16 + c, number, author, is_bot, ts(at_s),
              CASE WHEN hash(r, i, c, 'edit') % 10 = 0 THEN ts(at_s + 3600 * 30) ELSE ts(at_s) END,
              CASE WHEN question THEN 'Should this also handle case ' || c || '?'
                   ELSE 'Done, see the new test for case ' || c || '.' END, 'github', now()
       FROM g_comment
       UNION ALL
       SELECT repo, 'issue', (r * $per_repo + i) * 16 + 15, number, 'github-actions[bot]', TRUE,
              ts(created_s + 120), ts(created_s + 120), 'Coverage: 87%. Any questions?', 'github',
              now()
       FROM g_pr WHERE hash(r, i, 'ci') % 5 = 0""",
    # Pull requests still open at the end (one per 200 merges): in flight, some drafts, with a
    # reviewer's question that nobody has answered yet on most of them.
    """CREATE TEMP TABLE g_open AS
       SELECT r, x, 'bench/repo' || r AS repo, $per_repo + 1 + x AS number,
              'dev' || ((r * 7 + hash(r, x, 'od') % 30) % $people) AS login,
              'dev' || ((r * 7 + hash(r, x, 'or') % 30 + 1) % $people) AS reviewer,
              $span - 3600 - x * 14400 - (hash(r, x, 'oj') % 3600)::BIGINT AS created_s
       FROM range($repos) a(r) CROSS JOIN range(greatest($per_repo // 200, 1)) b(x)""",
    """INSERT INTO pull_requests (repo, number, title, body, author, author_is_bot, state, draft,
           created_at, updated_at, base_ref, head_ref, head_sha, labels, source, fetched_at)
       SELECT repo, number, 'Work in progress ' || x, 'Not ready yet.', login, FALSE, 'open',
              x % 5 = 0, ts(created_s), ts(created_s + 7200), 'main', 'wip-' || x,
              sha(-1 - r * 100000 - x), []::VARCHAR[], 'github', now() FROM g_open""",
    """INSERT INTO comments (repo, kind, id, number, author, author_is_bot, created_at, updated_at,
           body, source, fetched_at)
       SELECT repo, 'review', -1 - r * 100000 - x, number, reviewer, FALSE, ts(created_s + 5400),
              ts(created_s + 5400), 'Which migration does this need?', 'github', now()
       FROM g_open WHERE hash(r, x, 'oq') % 10 < 7""",
    """INSERT INTO pr_commits (repo, number, sha, author_name, author_login, author_time,
           committer_time, message, source, fetched_at)
       SELECT 'bench/repo' || c.r, c.i + 1, sha(c.cid), coalesce(c.person, c.login), c.login,
              ts(c.author_s), ts(c.author_s), 'Work on change ' || c.i || ', step ' || c.j,
              'github', now()
       FROM g_commit c WHERE c.j > 0
       UNION ALL
       SELECT p.repo, p.number, sha(p.land + 1 + x), coalesce(p.person, p.login), p.login,
              ts(p.work_s + x * 600), ts(p.work_s + x * 600), 'Squashed step ' || x, 'github', now()
       FROM g_pr p, (SELECT unnest(range((1 + hash(p.r, p.i, 'sq') % 3)::BIGINT)) AS x)
       WHERE p.kind = 'squash'""",
]

def fingerprint() -> str:
    """What the generator writes, as a short hash: a kept store built by another one is stale."""
    text = json.dumps([_MACROS, _CHANGES, _GIT, _GITHUB, JIRA, SLOTS, SPACING_S, RELEASE_EVERY,
                       BASE, OFFSETS])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def generate(path: Path, changes: int, repos: int, items: int, projects: int, people: int,
             line_history: bool = False, site: str = "https://bench.atlassian.net",
             spacing: int = SPACING_S) -> dict[str, Any]:
    """Write the synthetic source tables into a fresh store at ``path`` (no derived rows);
    ``spacing``: seconds between two merges of a repository."""
    from leadlens.store import open_store

    if projects > repos or repos % projects:
        raise SystemExit("--repos must be a multiple of --projects")
    per_repo = changes // repos
    ipp = max(1, items // projects)
    params = {"repos": repos, "per_repo": per_repo, "slots": SLOTS, "projects": projects,
              "ipp": ipp, "people": people, "span": per_repo * spacing, "site": site,
              "release_every": RELEASE_EVERY, "spacing": spacing,
              "line_history": str(line_history).upper()}
    start = time.perf_counter()
    with open_store(path) as st:
        con = st.con
        con.execute("SET enable_progress_bar = false")
        con.execute("CREATE TEMP TABLE g_project (p BIGINT, key VARCHAR)")
        con.executemany("INSERT INTO g_project VALUES (?, ?)",
                        list(enumerate(project_keys(projects))))
        # Items first: changes name their keys.
        for sql in [*_MACROS, JIRA[0], *_CHANGES, *_GIT, *_GITHUB, *JIRA[1:]]:
            for key, value in sorted(params.items(), key=lambda kv: -len(kv[0])):
                sql = sql.replace(f"${key}", str(value))
            con.execute(sql)
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in (
            "commits", "commit_files", "line_hunks", "tags", "pull_requests", "reviews",
            "comments", "pr_commits",
            "jira_issues", "jira_changelog", "jira_comments", "jira_issue_links",
            "jira_remote_links")}
        counts["questions"] = con.execute(
            "SELECT count(*) FROM comments WHERE body LIKE '%?'").fetchall()[0][0]
        counts["bugs"] = con.execute(
            "SELECT count(*) FROM jira_issues WHERE issue_type = 'Bug'").fetchall()[0][0]
    return {"changes": per_repo * repos, "repos": repos, "items": ipp * projects,
            "projects": projects, "people": people, **counts,
            "generate_s": time.perf_counter() - start}
