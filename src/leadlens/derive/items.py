"""The items derive: work items of every source in one shape, their status history, their links.

Runs after the per-repository steps (it links to the changes they build), over the whole store in
one transaction, and is idempotent: ``work_items``, ``work_item_transitions`` and ``item_links``
are rebuilt from stored rows each time (DESIGN.md, Work items). Status categories, not names,
carry the meaning; the settings ``ready_statuses``, ``in_progress_statuses`` and ``done_statuses``
override them per project, and statuses nothing maps are left NULL and named by the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from leadlens.config import BotSettings, ItemSettings
from leadlens.conventions import BotRule
from leadlens.derive.state import StepInputs
from leadlens.store.db import Store, scalar
from leadlens.store.writer import transaction

__all__ = ["ItemsDerived", "derive_items", "key_pattern"]

# A Jira key: the project key (a letter, then letters, digits or underscores) and a number.
_PROJECT_OF_KEY = r"^([A-Za-z][A-Za-z0-9_]*)-[0-9]+$"


@dataclass(frozen=True)
class ItemsDerived:
    """What the items derive made: items, links, and the changes that got a link."""

    items: int
    links: int
    linked_changes: int


def key_pattern(con: duckdb.DuckDBPyConnection, settings: ItemSettings) -> str | None:
    """The pattern of item keys in text: the setting, else the keys of the ingested Jira projects
    (every project an issue's key ever had), so `UTF-8` or `SHA-256` is never a key. None when
    there is no Jira data and no setting."""
    if settings.key_pattern is not None:
        return settings.key_pattern
    prefixes = [r[0] for r in con.execute(
        f"SELECT DISTINCT regexp_extract(key, '{_PROJECT_OF_KEY}', 1) AS p FROM ("
        " SELECT key FROM jira_issues UNION SELECT key FROM jira_issue_keys)"
        " WHERE p <> '' ORDER BY p").fetchall()]
    if not prefixes:
        return None
    # Longest first, so an alternation never stops at a shorter project that prefixes a longer one.
    alternation = "|".join(sorted(prefixes, key=lambda p: (-len(p), p)))
    return rf"\b(?:{alternation})-[1-9][0-9]*\b"


def _status_map(settings: ItemSettings) -> pa.Table:
    rows: dict[str, list[str]] = {"project": [], "status": [], "category": []}
    for category, mapping in (("ready", settings.ready_statuses),
                              ("in_progress", settings.in_progress_statuses),
                              ("done", settings.done_statuses)):
        for project, statuses in mapping:
            for status in statuses:
                rows["project"].append(project)
                rows["status"].append(status.strip().lower())
                rows["category"].append(category)
    return pa.table(rows, schema=pa.schema([("project", pa.string()), ("status", pa.string()),
                                            ("category", pa.string())]))


# The category a status name has in a project by the settings: a project's own entry wins over
# `*`; among one project's entries, done over in_progress over ready. Parameters: alias of the
# project column and of the status name columns (display and untranslated).
def _override(project: str, *names: str) -> str:
    cond = " OR ".join(f"m.status = lower(trim({n}))" for n in names)
    return (f"(SELECT m.category FROM _item_status_map m WHERE (m.project = {project}"
            f" OR m.project = '*') AND ({cond}) ORDER BY (m.project = '*'),"
            " CASE m.category WHEN 'done' THEN 0 WHEN 'in_progress' THEN 1 ELSE 2 END LIMIT 1)")


# Jira's status category keys in the team's words.
_CATEGORY = ("CASE {c} WHEN 'new' THEN 'to_do' WHEN 'indeterminate' THEN 'in_progress'"
             " WHEN 'done' THEN 'done' END")

_JIRA_ITEMS = f"""
INSERT INTO _item_new_items
SELECT i.key, 'jira', i.id, i.project_key, coalesce(t.untranslated_name, t.name, i.issue_type),
       i.summary, i.status,
       coalesce(replace({_override('i.project_key', 'i.status', 's.untranslated_name')}, 'ready',
                        'to_do'),
                {_CATEGORY.format(c='coalesce(s.category, i.status_category)')}),
       coalesce(u.account_type = 'app', FALSE)
         OR {BotRule.sql('u.display_name', 'FALSE')},
       coalesce(u.display_name, i.reporter, i.creator), i.created_at, i.resolved_at
FROM jira_issues i
LEFT JOIN jira_issue_types t ON t.id = i.issue_type_id
LEFT JOIN jira_statuses s ON s.id = i.status_id
LEFT JOIN jira_users u ON u.account_id = coalesce(i.reporter, i.creator)
"""

_GITHUB_ITEMS = f"""
INSERT INTO _item_new_items
SELECT g.repo || '#' || g.number, 'github', g.repo || '#' || g.number, g.repo, 'issue', g.title,
       g.state, CASE g.state WHEN 'open' THEN 'to_do' WHEN 'closed' THEN 'done' END,
       {BotRule.sql('g.author', "json_extract_string(g.raw, '$.user.type') = 'Bot'")},
       g.author, g.created_at, g.closed_at
FROM issues g
WHERE NOT EXISTS (SELECT 1 FROM _item_new_items w WHERE w.id = g.repo || '#' || g.number)
"""

# Jira status changes; `ready` is the first move into a ready status: one the settings name for
# the project, else (no setting for it) a To Do status other than the item's initial one.
_JIRA_TRANSITIONS = f"""
INSERT INTO _item_new_transitions
WITH moves AS (
    SELECT w.id AS item_id, w.project, c."at", c.history_id, c.item_index, c.from_string,
           c.to_string, c.author,
           {_override('w.project', 'c.to_string', 's.untranslated_name')} AS said,
           {_CATEGORY.format(c='s.category')} AS by_category,
           first_value(c.from_string) OVER (PARTITION BY c.issue_id
               ORDER BY c."at", c.history_id, c.item_index) AS initial
    FROM jira_changelog c
    JOIN _item_new_items w ON w.source = 'jira' AND w.native_id = c.issue_id
    LEFT JOIN _item_status_category s ON s.id = c.to_value
    WHERE lower(c.field) = 'status' OR c.field_id = 'status'),
has_ready AS (SELECT DISTINCT project FROM _item_status_map WHERE category = 'ready')
SELECT item_id, row_number() OVER (PARTITION BY item_id ORDER BY "at", history_id, item_index),
       "at", from_string, to_string,
       CASE WHEN said IS NOT NULL THEN said
            WHEN EXISTS (SELECT 1 FROM has_ready h WHERE h.project IN (moves.project, '*'))
                 THEN by_category
            WHEN by_category = 'to_do' AND to_string IS DISTINCT FROM initial THEN 'ready'
            ELSE by_category END,
       author
FROM moves
"""

# GitHub issues: closed/reopened, and their status changes in Projects v2 (live runs read them
# through GraphQL: the new status in `detail`, the previous one in the raw event). A project
# status takes its category from the settings (the project being OWNER/REPO), else GitHub's
# default Status options by name (Todo, In Progress, Done); any other status is left unmapped.
_GITHUB_STATUS = ("CASE lower(trim({s})) WHEN 'todo' THEN 'to_do' WHEN 'in progress'"
                  " THEN 'in_progress' WHEN 'done' THEN 'done' END")

_GITHUB_TRANSITIONS = f"""
INSERT INTO _item_new_transitions
SELECT w.id, row_number() OVER (PARTITION BY w.id ORDER BY e."at", e.id), e."at",
       CASE e.event WHEN 'closed' THEN 'open' WHEN 'reopened' THEN 'closed'
            ELSE nullif(json_extract_string(e.raw, '$.previousStatus'), '') END,
       CASE e.event WHEN 'closed' THEN 'closed' WHEN 'reopened' THEN 'open' ELSE e.detail END,
       CASE e.event WHEN 'closed' THEN 'done' WHEN 'reopened' THEN 'to_do'
            ELSE coalesce({_override('w.project', 'e.detail')},
                          {_GITHUB_STATUS.format(s='e.detail')}) END,
       e.actor
FROM issue_events e JOIN _item_new_items w ON w.source = 'github' AND w.native_id = e.repo || '#' || e.number
WHERE e.event IN ('closed', 'reopened', 'project_v2_status_changed')
"""

# A status's category: the site's status list, else what issues in that status carried (a status
# the list leaves out, e.g. a team-managed project's); NULL when neither says.
_STATUS_CATEGORY = """
CREATE OR REPLACE TEMP TABLE _item_status_category AS
SELECT id, name AS untranslated_name, category FROM (
    SELECT s.id, coalesce(s.untranslated_name, s.name) AS name,
           coalesce(s.category, i.category) AS category
    FROM jira_statuses s
    LEFT JOIN (SELECT status_id, min(status_category) AS category FROM jira_issues
               GROUP BY status_id) i ON i.status_id = s.id
    UNION ALL
    SELECT status_id, NULL, min(status_category) FROM jira_issues
    WHERE status_id IS NOT NULL AND status_id NOT IN (SELECT id FROM jira_statuses)
    GROUP BY status_id)
"""

# Every key an item had, to the item: an issue moved between projects keeps its old key's links.
_KEYS = """
CREATE OR REPLACE TEMP TABLE _item_keys AS
SELECT k.key, w.id AS item_id FROM jira_issue_keys k
JOIN _item_new_items w ON w.source = 'jira' AND w.native_id = k.issue_id
UNION SELECT id, id FROM _item_new_items WHERE source = 'jira'
"""

# The texts of a change that may name an item: its branch (the PR's head branch, else what a merge
# subject names), its title, its PR's body, and its commits' messages.
_TEXTS = r"""
CREATE OR REPLACE TEMP TABLE _item_texts AS
SELECT ch.repo, ch.id AS change_id, 'branch' AS how, NULL AS sha,
       coalesce(p.head_ref,
                nullif(regexp_extract(lc.subject, '^Merge pull request #[0-9]+ from [^/ ]+/(\S+)', 1), ''),
                nullif(regexp_extract(lc.subject, '^Merge branch ''([^'']+)''', 1), '')) AS text
FROM changes ch
LEFT JOIN pull_requests p ON p.repo = ch.repo AND p.number = ch.number
LEFT JOIN commits lc ON lc.repo = ch.repo AND lc.sha = ch.merge_sha
UNION ALL
SELECT ch.repo, ch.id, 'title', NULL, coalesce(p.title, ch.title)
FROM changes ch LEFT JOIN pull_requests p ON p.repo = ch.repo AND p.number = ch.number
UNION ALL
SELECT ch.repo, ch.id, 'body', NULL, p.body
FROM changes ch JOIN pull_requests p ON p.repo = ch.repo AND p.number = ch.number
UNION ALL
SELECT cc.repo, cc.change_id, 'commit', c.sha, concat_ws(chr(10), c.subject, c.body)
FROM change_commits cc JOIN commits c ON c.repo = cc.repo AND c.sha = cc.sha
"""

_KEY_LINKS = """
INSERT INTO _item_new_links
SELECT k.item_id, t.repo, t.change_id, t.how,
       min(CASE WHEN t.sha IS NULL THEN t.key ELSE left(t.sha, 12) || ' ' || t.key END)
FROM (SELECT repo, change_id, how, sha, unnest(regexp_extract_all(text, $pattern)) AS key
      FROM _item_texts WHERE text IS NOT NULL) t
JOIN _item_keys k ON k.key = t.key
GROUP BY ALL
"""

# GitHub: the issues a merged pull request closes, and issues connected to a pull request (the
# last connected/disconnected event between them decides).
_GITHUB_LINKS = """
INSERT INTO _item_new_links
SELECT w.id, ch.repo, ch.id, 'closing_reference',
       min(coalesce(r.keyword || ' ', '') || r.issue_repo || '#' || r.issue_number)
FROM closing_references r
JOIN changes ch ON ch.repo = r.repo AND ch.number = r.number
JOIN _item_new_items w ON w.source = 'github' AND w.native_id = r.issue_repo || '#' || r.issue_number
GROUP BY ALL;
INSERT INTO _item_new_links
SELECT w.id, ch.repo, ch.id, 'connected', 'connected'
FROM (SELECT repo, number, source_repo, source_number,
             arg_max(event, "at") AS last_event
      FROM issue_events WHERE event IN ('connected', 'disconnected') AND source_number IS NOT NULL
      GROUP BY ALL) e
JOIN changes ch ON ch.repo = coalesce(e.source_repo, e.repo) AND ch.number = e.source_number
JOIN _item_new_items w ON w.source = 'github' AND w.native_id = e.repo || '#' || e.number
WHERE e.last_event = 'connected'
ON CONFLICT DO NOTHING
"""

# Jira remote (development) links: a GitHub pull request URL, a GitLab merge request URL, or a
# commit URL (any host: the sha names the commit; a short sha must be unambiguous in its repo).
# A short sha joins on its first 7 digits (every sha it prefixes shares them: a hash join, not a
# comparison of every link with every commit), then on the whole prefix.
_REMOTE_LINKS = r"""
CREATE OR REPLACE TEMP TABLE _item_remote AS
SELECT w.id AS item_id, l.url,
       nullif(regexp_extract(l.url, '^https?://[^/]+/([^/]+/[^/]+)/pull/[0-9]+', 1), '') AS pr_repo,
       TRY_CAST(nullif(regexp_extract(l.url, '/pull/([0-9]+)', 1), '') AS BIGINT) AS pr_number,
       nullif(regexp_extract(l.url, '^https?://[^/]+/(.+?)/-/merge_requests/[0-9]+', 1), '') AS mr_repo,
       TRY_CAST(nullif(regexp_extract(l.url, '/-/merge_requests/([0-9]+)', 1), '') AS BIGINT) AS mr_number,
       lower(nullif(regexp_extract(l.url, '/commits?/([0-9a-fA-F]{7,40})(?:[/?#]|$)', 1), '')) AS sha
FROM jira_remote_links l JOIN _item_new_items w ON w.source = 'jira' AND w.native_id = l.issue_id
WHERE l.url IS NOT NULL;
INSERT INTO _item_new_links
SELECT r.item_id, ch.repo, ch.id, 'remote_link', min(r.url)
FROM (SELECT item_id, url, pr_repo AS repo, pr_number AS number FROM _item_remote
      UNION SELECT item_id, url, mr_repo, mr_number FROM _item_remote) r
JOIN changes ch ON ch.repo = r.repo AND ch.number = r.number
GROUP BY ALL
ON CONFLICT DO NOTHING;
INSERT INTO _item_new_links
SELECT r.item_id, cc.repo, cc.change_id, 'remote_link', min(r.url)
FROM _item_remote r JOIN change_commits cc ON cc.sha = r.sha
WHERE length(r.sha) = 40
GROUP BY ALL
ON CONFLICT DO NOTHING;
INSERT INTO _item_new_links
SELECT r.item_id, cc.repo, cc.change_id, 'remote_link', min(r.url)
FROM _item_remote r JOIN change_commits cc
  ON left(cc.sha, 7) = left(r.sha, 7) AND starts_with(cc.sha, r.sha)
WHERE length(r.sha) < 40
GROUP BY ALL
ON CONFLICT DO NOTHING;
"""


# The derived tables and the temporary tables each derive builds anew before it writes only what
# differs: deleting every row of a table with a primary key and inserting the same rows again costs
# DuckDB a minute at commit for a million links, where a re-derive usually changes a few.
_NEW = {"work_items": "_item_new_items", "work_item_transitions": "_item_new_transitions",
        "item_links": "_item_new_links"}


def _start_new(con: duckdb.DuckDBPyConnection) -> None:
    for table, new in _NEW.items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE {new} AS SELECT * FROM {table} LIMIT 0")
        con.execute(f"ALTER TABLE {new} ADD PRIMARY KEY ({', '.join(_key(con, table))})")


def _key(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return list(scalar(con, "SELECT constraint_column_names FROM duckdb_constraints()"
                       " WHERE database_name = current_database() AND schema_name = 'main'"
                       " AND table_name = ? AND constraint_type = 'PRIMARY KEY'", [table]))


def _write_differences(con: duckdb.DuckDBPyConnection) -> None:
    """Make each derived table equal its new set: delete the rows that are not in it (or differ),
    insert the rows that are not in the table."""
    for table in ("item_links", "work_item_transitions", "work_items"):
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()"
            " AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [table]).fetchall()]
        same = " AND ".join(f'n."{c}" IS NOT DISTINCT FROM t."{c}"' for c in cols)
        con.execute(f"DELETE FROM {table} t WHERE NOT EXISTS"
                    f" (SELECT 1 FROM {_NEW[table]} n WHERE {same})")
    for table in ("work_items", "work_item_transitions", "item_links"):
        key = " AND ".join(f'n."{c}" = t."{c}"' for c in _key(con, table))
        con.execute(f"INSERT INTO {table} SELECT * FROM {_NEW[table]} n WHERE NOT EXISTS"
                    f" (SELECT 1 FROM {table} t WHERE {key})")


def derive_items(store: Store, settings: ItemSettings, bots: BotSettings, *,
                 record: StepInputs | None = None) -> ItemsDerived:
    """Rebuild work items, their transitions and their links in one transaction."""
    con = store.con
    rule = BotRule.of(bots)
    con.register("_item_status_map", _status_map(settings))
    try:
        pattern = key_pattern(con, settings)
        with transaction(con):
            _start_new(con)
            people = {"bot": rule.bot_pattern, "agent": rule.agent_pattern}
            con.execute(_JIRA_ITEMS, people)
            con.execute(_GITHUB_ITEMS, people)
            con.execute(_STATUS_CATEGORY)
            con.execute(_JIRA_TRANSITIONS)
            con.execute(_GITHUB_TRANSITIONS)
            if pattern is not None:
                con.execute(_KEYS)
                con.execute(_TEXTS)
                con.execute(_KEY_LINKS, {"pattern": pattern})
            con.execute(_GITHUB_LINKS)
            con.execute(_REMOTE_LINKS)
            _write_differences(con)
            if record is not None:
                record.save(con)
            items = int(scalar(con, "SELECT count(*) FROM work_items"))
            links = int(scalar(con, "SELECT count(*) FROM item_links"))
            linked = int(scalar(con, "SELECT count(DISTINCT change_id) FROM item_links"))
    finally:
        con.unregister("_item_status_map")
        for temp in ("_item_keys", "_item_texts", "_item_remote", "_item_status_category",
                     *_NEW.values()):
            con.execute(f"DROP TABLE IF EXISTS {temp}").fetchall()
    return ItemsDerived(items, links, linked)
