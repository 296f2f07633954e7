-- Work items (DESIGN.md, Work items): what the sources read (Jira's objects in jira_* tables,
-- GitHub issue timelines and closing references beside the forge tables), and what the derive
-- step `items` makes of them (work_items, work_item_transitions, item_links), the one shape
-- metrics read whatever the source. Keys are the source's own ids: a re-fetch never duplicates.

-- ---------------------------------------------------------------- Jira (source 'jira')
-- One Jira site per store: `site` is its base URL, kept for provenance.

CREATE TABLE jira_projects (
    id               VARCHAR NOT NULL,      -- Jira's project id
    key              VARCHAR NOT NULL,      -- ABC
    name             VARCHAR,
    site             VARCHAR NOT NULL,
    url              VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (id)
);

CREATE TABLE jira_issue_types (
    id               VARCHAR NOT NULL,
    name             VARCHAR,               -- as the site shows it (may be translated)
    untranslated_name VARCHAR,              -- Story, Bug, Sub-task ... when the site says
    subtask          BOOLEAN,
    hierarchy_level  BIGINT,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (id)
);

CREATE TABLE jira_statuses (                -- status categories, not names, carry the meaning
    id               VARCHAR NOT NULL,
    name             VARCHAR,
    untranslated_name VARCHAR,
    category         VARCHAR,               -- new | indeterminate | done; NULL when the site gives none
    project_id       VARCHAR,               -- team-managed projects scope their statuses
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (id)
);

CREATE TABLE jira_issues (
    id               VARCHAR NOT NULL,      -- Jira's numeric issue id: stable when an issue moves
    key              VARCHAR NOT NULL,      -- ABC-123 now (old keys: jira_issue_keys)
    project_key      VARCHAR,
    project_id       VARCHAR,
    issue_type_id    VARCHAR,
    issue_type       VARCHAR,               -- name as the site shows it
    subtask          BOOLEAN,
    summary          VARCHAR,
    description      VARCHAR,               -- plain text (Atlassian document format flattened)
    status_id        VARCHAR,
    status           VARCHAR,
    status_category  VARCHAR,               -- new | indeterminate | done, as the issue carried it
    resolution       VARCHAR,
    priority         VARCHAR,
    creator          VARCHAR,               -- account id (Cloud) or user key/name (Data Center)
    reporter         VARCHAR,
    assignee         VARCHAR,
    labels           VARCHAR[],
    components       VARCHAR[],
    parent_key       VARCHAR,
    epic_key         VARCHAR,
    story_points     DOUBLE,
    sprint_ids       VARCHAR[],
    flagged          BOOLEAN,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    resolved_at      TIMESTAMPTZ,
    created_offset_min BIGINT,              -- the UTC offset the API wrote `created` with
    site             VARCHAR NOT NULL,
    url              VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (id)
);

CREATE TABLE jira_issue_keys (              -- every key an issue has had (moves between projects)
    issue_id         VARCHAR NOT NULL,
    key              VARCHAR NOT NULL,
    PRIMARY KEY (issue_id, key)
);

CREATE TABLE jira_changelog (               -- one row per changed field of a changelog history
    issue_id         VARCHAR NOT NULL,
    history_id       VARCHAR NOT NULL,
    item_index       BIGINT NOT NULL,       -- position of the field within the history
    field            VARCHAR NOT NULL,      -- status, assignee, description, Story Points, Sprint, Flagged, Key, project, ...
    field_id         VARCHAR,
    from_value       VARCHAR,               -- the API's `from` (ids)
    from_string      VARCHAR,
    to_value         VARCHAR,
    to_string        VARCHAR,
    author           VARCHAR,               -- account id; NULL for a deleted user or an automation
    "at"             TIMESTAMPTZ NOT NULL,
    fetched_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issue_id, history_id, item_index)
);

CREATE TABLE jira_comments (
    issue_id         VARCHAR NOT NULL,
    id               VARCHAR NOT NULL,
    author           VARCHAR,
    body             VARCHAR,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (issue_id, id)
);

CREATE TABLE jira_worklogs (
    issue_id         VARCHAR NOT NULL,
    id               VARCHAR NOT NULL,
    author           VARCHAR,
    started_at       TIMESTAMPTZ,
    seconds          BIGINT,
    created_at       TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (issue_id, id)
);

CREATE TABLE jira_remote_links (            -- links to PRs, commits, pages (development links)
    issue_id         VARCHAR NOT NULL,
    id               VARCHAR NOT NULL,
    url              VARCHAR,               -- where the link points (never fetched)
    title            VARCHAR,
    relationship     VARCHAR,
    application      VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (issue_id, id)
);

CREATE TABLE jira_issue_links (             -- blocks / is blocked by / relates / ...
    issue_id         VARCHAR NOT NULL,
    id               VARCHAR NOT NULL,
    type             VARCHAR,               -- Blocks, Relates, ...
    direction        VARCHAR NOT NULL,      -- outward | inward (as seen from issue_id)
    phrase           VARCHAR,               -- "blocks", "is blocked by", ...
    other_id         VARCHAR,
    other_key        VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issue_id, id)
);

CREATE TABLE jira_sprints (
    id               VARCHAR NOT NULL,
    board_id         VARCHAR,
    name             VARCHAR,
    state            VARCHAR,               -- future | active | closed
    goal             VARCHAR,
    start_at         TIMESTAMPTZ,
    end_at           TIMESTAMPTZ,
    complete_at      TIMESTAMPTZ,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (id)
);

CREATE TABLE jira_users (                   -- no e-mail address unless asked (--store-emails)
    account_id       VARCHAR NOT NULL,
    display_name     VARCHAR,
    email            VARCHAR,
    active           BOOLEAN,
    time_zone        VARCHAR,
    account_type     VARCHAR,               -- atlassian | app | customer
    fetched_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id)
);

-- ---------------------------------------------------------------- GitHub issues as work items

CREATE TABLE issue_events (                 -- timelines of issues that are not pull requests
    repo             VARCHAR NOT NULL,
    number           BIGINT NOT NULL,       -- the issue
    id               VARCHAR NOT NULL,      -- the event's id (node id, or a made one for cross-references)
    event            VARCHAR NOT NULL,      -- connected | disconnected | cross-referenced | closed | reopened
                                            -- | labeled | unlabeled | assigned | unassigned | ...
    actor            VARCHAR,
    actor_is_bot     BOOLEAN,
    "at"             TIMESTAMPTZ NOT NULL,
    commit_id        VARCHAR,               -- `closed` by a commit, `referenced`
    detail           VARCHAR,               -- label name, assignee login, ...
    source_repo      VARCHAR,               -- cross-referenced / connected: the PR or issue's repository
    source_number    BIGINT,
    source_is_pr     BOOLEAN,
    source           VARCHAR NOT NULL,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (repo, id)
);

CREATE TABLE closing_references (           -- the issues a pull request closes when it merges
    repo             VARCHAR NOT NULL,      -- the pull request's repository
    number           BIGINT NOT NULL,       -- the pull request
    issue_repo       VARCHAR NOT NULL,
    issue_number     BIGINT NOT NULL,
    how              VARCHAR NOT NULL,      -- 'body_keyword' (REST/replay) | 'graphql'
    keyword          VARCHAR,               -- fixes, closes, resolved ... (body_keyword)
    fetched_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (repo, number, issue_repo, issue_number, how)
);

CREATE TABLE issue_relations (              -- sub-issues and blocked-by dependencies
    repo             VARCHAR NOT NULL,
    number           BIGINT NOT NULL,
    relation         VARCHAR NOT NULL,      -- 'sub_issue' (other is a child) | 'blocked_by'
    other_repo       VARCHAR NOT NULL,
    other_number     BIGINT NOT NULL,
    fetched_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (repo, number, relation, other_repo, other_number)
);

-- ---------------------------------------------------------------- derived (derive step `items`)

CREATE TABLE work_items (
    id               VARCHAR NOT NULL,      -- ABC-123 | OWNER/REPO#N
    source           VARCHAR NOT NULL,      -- jira | github
    native_id        VARCHAR NOT NULL,      -- Jira issue id | OWNER/REPO#N
    project          VARCHAR,               -- Jira project key | OWNER/REPO
    type             VARCHAR,
    title            VARCHAR,
    status           VARCHAR,
    status_category  VARCHAR,               -- to_do | in_progress | done | NULL (unmapped)
    bot              BOOLEAN NOT NULL,
    author           VARCHAR,
    created_at       TIMESTAMPTZ NOT NULL,
    resolved_at      TIMESTAMPTZ,
    PRIMARY KEY (id)
);

CREATE TABLE work_item_transitions (        -- status history in the team's categories
    item_id          VARCHAR NOT NULL,
    seq              BIGINT NOT NULL,
    "at"             TIMESTAMPTZ NOT NULL,
    from_status      VARCHAR,
    to_status        VARCHAR,
    to_category      VARCHAR,               -- ready | to_do | in_progress | done | NULL (unmapped)
    actor            VARCHAR,
    PRIMARY KEY (item_id, seq)
);

CREATE TABLE item_links (                   -- many-to-many: which changes serve which items
    item_id          VARCHAR NOT NULL,
    repo             VARCHAR NOT NULL,
    change_id        VARCHAR NOT NULL,
    how              VARCHAR NOT NULL,      -- branch | title | body | commit | closing_reference
                                            -- | connected | remote_link
    detail           VARCHAR,               -- the text or URL that named the item
    PRIMARY KEY (item_id, change_id, how)
);
