"""The Jira part of the coordination benchmark's store (benchmarks/coordination_store.py says
what it holds): issues, their changelogs, comments, links, remote links, users, statuses and
types, as DuckDB SQL over the generator's temporary tables (``g_project``, ``g_person``, and
``g_item``, which the first statement makes and the changes read). ``$name`` parameters and the
``sha``, ``ts`` and ``wh`` macros come from the generator.
"""

from __future__ import annotations

ZONES = ("CASE off WHEN -480 THEN 'America/Los_Angeles' WHEN 0 THEN 'Europe/London' WHEN 60 THEN"
         " 'Europe/Berlin' WHEN 330 THEN 'Asia/Kolkata' ELSE 'Asia/Tokyo' END")

JIRA = [
    """CREATE TEMP TABLE g_item AS
    WITH b AS (
        SELECT i, i % $projects AS proj, i // $projects AS m,
               (hash(i, 'type') % 100)::INTEGER AS troll, (hash(i, 'ac') % 100)::INTEGER AS acroll,
               (hash(i, 'flow') % 100)::INTEGER AS froll,
               ((i % $projects) * 7 + hash(i, 'asg') % 30) % $people AS asg,
               ((i % $projects) * 7 + hash(i, 'asg2') % 30) % $people AS asg2,
               ((i % $projects) * 7 + hash(i, 'rep') % 30) % $people AS rep,
               (i // $projects) * $span / $ipp + 43200 AS t_s
        FROM range($ipp * $projects) t(i))
    SELECT b.*, g.key AS pkey, g.key || '-' || (m + 1) AS key,
           CASE WHEN troll < 5 THEN 'Bug' WHEN troll < 65 THEN 'Story' WHEN troll < 90 THEN 'Task'
                ELSE 'Sub-task' END AS type,
           CASE WHEN troll < 5 THEN 3 WHEN troll < 65 THEN 1 WHEN troll < 90 THEN 2 ELSE 4 END AS type_id,
           t_s - CASE WHEN troll < 5 THEN 43200 ELSE 345600 END AS start_s,
           t_s - CASE WHEN troll < 5 THEN 10800 ELSE 86400 END AS review_at_s,
           t_s - CASE WHEN troll < 5 THEN 43200 + 14400
                      ELSE 691200 + hash(i, 'age') % 864000 END AS created_s,
           t_s + 43200 AS done_s,
           t_s + 43200 > $span - 172800 AS in_flight,
           'As a user I want feature ' || i || ' so that my work goes faster.' AS base,
           [chr(10) || chr(10) || 'h3. Acceptance criteria' || chr(10) || '* it saves'
                || chr(10) || '* it is tested',
            chr(10) || '- [ ] it saves' || chr(10) || '- [x] it is tested',
            chr(10) || 'Given a user with a draft, when they press save, then it is stored.'][
                (1 + hash(i, 'acform') % 3)::BIGINT] AS ac,
           CASE WHEN hash(i, 'blk') % 100 < 6 AND m >= 3 THEN
                CASE WHEN hash(i, 'x') % 3 = 0 THEN i - 1 ELSE i - $projects * (1 + hash(i, 'y') % 2)
                END END AS blocker
    FROM b JOIN g_project g ON g.p = b.proj""",
    # The changelog, one row per changed field; description_0 is the text at creation.
    """CREATE TEMP TABLE g_log AS
    WITH s AS (SELECT *, created_s + (start_s - created_s) / 2 AS sel_s,
                      CASE WHEN troll < 5 OR acroll >= 85 THEN base
                           WHEN acroll < 45 OR acroll >= 70 THEN base || ac ELSE base END AS desc0
               FROM g_item),
    e(i, at_s, ord, field, from_value, from_string, to_value, to_string, who) AS (
        SELECT i, sel_s, 1, 'status', '1', 'Backlog', '2', 'Selected for Development', rep FROM s
        UNION ALL SELECT i, start_s, 2, 'status', '2', 'Selected for Development', '3',
                         'In Progress', asg FROM s
        UNION ALL SELECT i, start_s + (review_at_s - start_s) * 0.3, 3, 'status', '3', 'In Progress',
                         '5', 'Blocked', asg FROM s WHERE froll < 6
        UNION ALL SELECT i, start_s + (review_at_s - start_s) * 0.6, 4, 'status', '5', 'Blocked',
                         '3', 'In Progress', asg FROM s WHERE froll < 6
        UNION ALL SELECT i, review_at_s, 5, 'status', '3', 'In Progress', '4', 'In Review', asg
                  FROM s
        UNION ALL SELECT i, review_at_s + (t_s - review_at_s) * 0.3, 6, 'status', '4', 'In Review',
                         '3', 'In Progress', rep FROM s WHERE froll >= 6 AND froll < 20
        UNION ALL SELECT i, review_at_s + (t_s - review_at_s) * 0.6, 7, 'status', '3',
                         'In Progress', '4', 'In Review', asg FROM s WHERE froll >= 6 AND froll < 20
        UNION ALL SELECT i, done_s, 8, 'status', '4', 'In Review', '6', 'Done', asg FROM s
                  WHERE NOT in_flight
        UNION ALL SELECT i, done_s + 86400, 9, 'status', '6', 'Done', '3', 'In Progress', rep
                  FROM s WHERE NOT in_flight AND froll >= 20 AND froll < 24
        UNION ALL SELECT i, done_s + 172800, 10, 'status', '3', 'In Progress', '6', 'Done', asg
                  FROM s WHERE NOT in_flight AND froll >= 20 AND froll < 24
        UNION ALL SELECT i, sel_s + 60, 11, 'assignee', NULL, NULL, 'acc-dev' || asg,
                         'Developer ' || asg, rep FROM s
        UNION ALL SELECT i, start_s + (review_at_s - start_s) * 0.5, 12, 'assignee',
                         'acc-dev' || asg, 'Developer ' || asg, 'acc-dev' || asg2,
                         'Developer ' || asg2, rep FROM s WHERE froll % 4 = 1 AND asg <> asg2
        UNION ALL SELECT i, created_s + (start_s - created_s) * 0.3, 13, 'description', NULL, desc0,
                         NULL, base || ac, rep FROM s
                  WHERE troll >= 5 AND acroll >= 45 AND acroll < 60
        UNION ALL SELECT i, start_s + (review_at_s - start_s) * 0.2, 14, 'description', NULL, desc0,
                         NULL, base || ac, rep FROM s
                  WHERE troll >= 5 AND acroll >= 60 AND acroll < 70
        UNION ALL SELECT i, start_s + (review_at_s - start_s) * 0.4, 15, 'description', NULL, desc0,
                         NULL, desc0 || chr(10) || '* also export as CSV', rep FROM s
                  WHERE troll >= 5 AND acroll >= 70 AND acroll < 85
        UNION ALL SELECT i, start_s + (review_at_s - start_s) * 0.25, 16, 'Flagged', NULL, NULL,
                         '[10019]', 'Impediment', asg FROM s WHERE hash(i, 'flag') % 100 < 5
        UNION ALL SELECT i, start_s + (review_at_s - start_s) * 0.45, 17, 'Flagged', '[10019]',
                         'Impediment', NULL, NULL, asg FROM s WHERE hash(i, 'flag') % 100 < 5
        UNION ALL SELECT i, start_s + (review_at_s - start_s) * 0.35, 18, 'Story Points', '3', '3',
                         '5', '5', rep FROM s WHERE hash(i, 'sp') % 100 < 20
        UNION ALL SELECT s.i, s.created_s + 600, 19, 'Link', NULL, NULL, b.key,
                         'This issue is blocked by ' || b.key, s.rep
                  FROM s JOIN g_item b ON b.i = s.blocker)
    SELECT e.*, row_number() OVER (PARTITION BY i ORDER BY at_s, ord) AS seq FROM e""",
    """INSERT INTO jira_projects SELECT 'p' || p, key, 'Project ' || key, '$site', NULL, now(), NULL
       FROM g_project""",
    """INSERT INTO jira_issue_types (id, name, untranslated_name, subtask, hierarchy_level,
           fetched_at) VALUES ('1', 'Story', 'Story', FALSE, 0, now()),
           ('2', 'Task', 'Task', FALSE, 0, now()), ('3', 'Bug', 'Bug', FALSE, 0, now()),
           ('4', 'Sub-task', 'Sub-task', TRUE, -1, now())""",
    """INSERT INTO jira_statuses (id, name, untranslated_name, category, fetched_at) VALUES
       ('1', 'Backlog', 'Backlog', 'new', now()),
       ('2', 'Selected for Development', 'Selected for Development', 'new', now()),
       ('3', 'In Progress', 'In Progress', 'indeterminate', now()),
       ('4', 'In Review', 'In Review', 'indeterminate', now()),
       ('5', 'Blocked', 'Blocked', 'indeterminate', now()), ('6', 'Done', 'Done', 'done', now())""",
    f"""INSERT INTO jira_users (account_id, display_name, active, time_zone, account_type,
           fetched_at)
       SELECT 'acc-dev' || p, name, TRUE, {ZONES}, 'atlassian', now() FROM g_person
       UNION ALL SELECT 'acc-lead' || n, 'Lead ' || n, TRUE, NULL, 'atlassian', now()
                 FROM range(6) t(n)""",
    """INSERT INTO jira_changelog (issue_id, history_id, item_index, field, field_id, from_value,
           from_string, to_value, to_string, author, "at", fetched_at)
       SELECT (10000 + i)::VARCHAR, ((10000 + i) * 100 + seq)::VARCHAR, 0, field,
              CASE field WHEN 'Story Points' THEN 'customfield_10016'
                         WHEN 'Flagged' THEN 'customfield_10021' ELSE field END,
              from_value, from_string, to_value, to_string, 'acc-dev' || who, ts(at_s), now()
       FROM g_log""",
    """INSERT INTO jira_issues (id, key, project_key, project_id, issue_type_id, issue_type,
           subtask, summary, description, status_id, status, status_category, resolution,
           priority, creator, reporter, assignee, labels, components, parent_key, story_points,
           sprint_ids, flagged, created_at, updated_at, resolved_at, created_offset_min, site,
           fetched_at)
       SELECT (10000 + g.i)::VARCHAR, g.key, g.pkey, 'p' || g.proj, g.type_id::VARCHAR, g.type,
              g.type = 'Sub-task', g.type || ' ' || g.i,
              coalesce(l.description_edit, CASE WHEN g.troll < 5 OR g.acroll >= 85 THEN g.base
                  WHEN g.acroll < 45 OR g.acroll >= 70 THEN g.base || g.ac ELSE g.base END),
              l.status_id, l.status,
              CASE l.status_id WHEN '6' THEN 'done' WHEN '1' THEN 'new' WHEN '2' THEN 'new'
                               ELSE 'indeterminate' END,
              CASE WHEN l.status_id = '6' THEN 'Done' END, 'Medium', 'acc-dev' || g.rep,
              'acc-dev' || g.rep, l.assignee, []::VARCHAR[], ['comp' || hash(g.i, 'comp') % 5],
              CASE WHEN g.type = 'Sub-task' AND g.m > 0 THEN g.pkey || '-' || g.m END,
              CASE WHEN l.sp THEN 5 ELSE 3 END, []::VARCHAR[], FALSE, ts(g.created_s),
              ts(l.last_s), CASE WHEN l.status_id = '6' THEN ts(l.done_s) END, 0, '$site', now()
       FROM g_item g JOIN (
           SELECT i, arg_max(to_value, seq) FILTER (WHERE field = 'status') AS status_id,
                  arg_max(to_string, seq) FILTER (WHERE field = 'status') AS status,
                  arg_max(to_value, seq) FILTER (WHERE field = 'assignee') AS assignee,
                  arg_max(to_string, seq) FILTER (WHERE field = 'description') AS description_edit,
                  max(at_s) AS last_s, max(at_s) FILTER (WHERE to_value = '6') AS done_s,
                  bool_or(field = 'Story Points') AS sp
           FROM g_log GROUP BY i) l ON l.i = g.i""",
    """INSERT INTO jira_issue_keys SELECT (10000 + i)::VARCHAR, key FROM g_item""",
    # Comments: even ones by the reporter or a lead, odd ones by the assignee; 20% questions.
    """INSERT INTO jira_comments (issue_id, id, author, body, created_at, updated_at, fetched_at)
       WITH c AS (
           SELECT g.i, c, CASE WHEN c % 2 = 1 THEN 'acc-dev' || g.asg
                               WHEN hash(g.i, c, 'lead') % 4 = 0 THEN 'acc-lead' || g.i % 6
                               ELSE 'acc-dev' || g.rep END AS author,
                  wh(g.created_s + (least(g.done_s, $span) - g.created_s) * (c + 1) / (nc + 1),
                     CASE WHEN c % 2 = 1 THEN a.off WHEN hash(g.i, c, 'lead') % 4 = 0 THEN 60
                          ELSE p.off END) AS raw_s,
                  hash(g.i, c, 'q') % 5 = 0 AS question
           FROM (SELECT *, (hash(i, 'nc') % 5)::BIGINT AS nc FROM g_item) g
           JOIN g_person a ON a.p = g.asg JOIN g_person p ON p.p = g.rep,
           (SELECT unnest(range(g.nc)) AS c)),
       t AS (SELECT *, max(raw_s) OVER (PARTITION BY i ORDER BY c ROWS UNBOUNDED PRECEDING)
                       + c * 30 AS at_s FROM c)
       SELECT (10000 + i)::VARCHAR, ((10000 + i) * 10 + c)::VARCHAR, author,
              CASE WHEN question THEN 'Which endpoint should this use for step ' || c || '?'
                   ELSE 'Use the v2 endpoint; details in the spec (' || c || ').' END,
              ts(at_s), ts(at_s + CASE WHEN hash(i, c, 'ed') % 10 = 0 THEN 7200 ELSE 0 END), now()
       FROM t""",
    """INSERT INTO jira_issue_links (issue_id, id, type, direction, phrase, other_id, other_key,
           fetched_at)
       SELECT (10000 + s.i)::VARCHAR, 'L' || s.i, 'Blocks', 'inward', 'is blocked by',
              (10000 + b.i)::VARCHAR, b.key, now() FROM g_item s JOIN g_item b ON b.i = s.blocker
       UNION ALL
       SELECT (10000 + b.i)::VARCHAR, 'L' || s.i, 'Blocks', 'outward', 'blocks',
              (10000 + s.i)::VARCHAR, s.key, now() FROM g_item s JOIN g_item b ON b.i = s.blocker
       UNION ALL
       SELECT (10000 + s.i)::VARCHAR, 'R' || s.i, 'Relates', 'outward', 'relates to',
              (10000 + o.i)::VARCHAR, o.key, now() FROM g_item s JOIN g_item o ON o.i = s.i + 1
       WHERE hash(s.i, 'rel') % 100 < 5""",
    # Bugs name the pull request that introduced them (an earlier change of a repository of
    # their project); the changes that fix them name the bug's key.
    """INSERT INTO jira_remote_links (issue_id, id, url, title, relationship, application,
           fetched_at)
       SELECT (10000 + i)::VARCHAR, '1', 'https://github.com/bench/repo'
              || (proj + $projects * (hash(i, 'rr') % ($repos // $projects))) || '/pull/'
              || greatest(2, floor(start_s / $spacing)::BIGINT - 30 - hash(i, 'back') % 1000),
              'Introduced by this pull request', 'caused by', 'GitHub', now()
       FROM g_item WHERE troll < 5 AND hash(i, 'intro') % 100 < 60""",
]
