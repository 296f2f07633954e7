-- Forge data (GitHub first; GitLab later maps into the same tables): pull requests and what
-- happened on them, checks, deployments, releases and issues. Keys are the forge's own ids, so a
-- re-fetch (overlap windows, repeated pages) never duplicates. Every row keeps its provenance:
-- the forge ('github'), the API URL it came from, when it was fetched, and the raw payload.

CREATE TABLE pull_requests (
    repo             VARCHAR NOT NULL,      -- OWNER/REPO: joins the git clone of the same name
    number           BIGINT NOT NULL,
    node_id          VARCHAR,
    title            VARCHAR,
    body             VARCHAR,
    author           VARCHAR,               -- login
    author_is_bot    BOOLEAN,               -- the API's user.type = 'Bot' (patterns apply too)
    state            VARCHAR NOT NULL,      -- open | closed
    draft            BOOLEAN,               -- draft now
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    closed_at        TIMESTAMPTZ,
    merged_at        TIMESTAMPTZ,
    merge_commit_sha VARCHAR,
    base_ref         VARCHAR,
    head_ref         VARCHAR,
    head_sha         VARCHAR,
    labels           VARCHAR[],
    additions        BIGINT,                -- NULL when the list API did not say
    deletions        BIGINT,
    changed_files    BIGINT,
    commits          BIGINT,
    source           VARCHAR NOT NULL,      -- 'github'
    url              VARCHAR,               -- the API URL the object came from
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (repo, number)
);

CREATE TABLE pr_events (                    -- timeline events: ready_for_review, convert_to_draft,
    repo             VARCHAR NOT NULL,      -- review_requested, labeled, closed, reopened, ...
    number           BIGINT NOT NULL,
    id               VARCHAR NOT NULL,      -- the event's id (node id when there is no number)
    event            VARCHAR NOT NULL,
    actor            VARCHAR,
    actor_is_bot     BOOLEAN,
    "at"             TIMESTAMPTZ NOT NULL,
    detail           VARCHAR,               -- requested reviewer, label name, ...
    source           VARCHAR NOT NULL,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (repo, id)
);

CREATE TABLE reviews (
    repo             VARCHAR NOT NULL,
    number           BIGINT NOT NULL,       -- the pull request
    id               BIGINT NOT NULL,
    reviewer         VARCHAR,               -- login; NULL for a deleted account
    reviewer_is_bot  BOOLEAN,
    state            VARCHAR NOT NULL,      -- APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    submitted_at     TIMESTAMPTZ,           -- NULL while PENDING
    commit_id        VARCHAR,               -- the head the review was of
    body             VARCHAR,
    source           VARCHAR NOT NULL,
    url              VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (repo, id)
);

CREATE TABLE comments (                     -- review comments (on the diff) and issue comments
    repo             VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,      -- 'review' | 'issue'
    id               BIGINT NOT NULL,
    number           BIGINT,                -- the pull request or issue
    author           VARCHAR,
    author_is_bot    BOOLEAN,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ,
    body             VARCHAR,
    source           VARCHAR NOT NULL,
    url              VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (repo, kind, id)
);

CREATE TABLE pr_commits (                   -- the commits of a pull request as the forge lists them
    repo             VARCHAR NOT NULL,
    number           BIGINT NOT NULL,
    sha              VARCHAR NOT NULL,
    author_name      VARCHAR,
    author_login     VARCHAR,
    author_time      TIMESTAMPTZ,
    committer_time   TIMESTAMPTZ,
    message          VARCHAR,
    source           VARCHAR NOT NULL,
    fetched_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (repo, number, sha)
);

CREATE TABLE builds (                       -- CI: check runs, workflow runs and their jobs
    repo             VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,      -- 'check_run' | 'workflow_run' | 'job'
    id               BIGINT NOT NULL,
    name             VARCHAR,
    head_sha         VARCHAR,
    head_branch      VARCHAR,
    event            VARCHAR,               -- push | pull_request | ... (workflow runs)
    status           VARCHAR,               -- queued | in_progress | completed
    conclusion       VARCHAR,               -- success | failure | cancelled | skipped | ...
    created_at       TIMESTAMPTZ,
    started_at       TIMESTAMPTZ,
    completed_at     TIMESTAMPTZ,
    source           VARCHAR NOT NULL,
    url              VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (repo, kind, id)
);

CREATE TABLE deployments (
    repo             VARCHAR NOT NULL,
    id               BIGINT NOT NULL,
    sha              VARCHAR NOT NULL,
    ref              VARCHAR,
    environment      VARCHAR,
    creator          VARCHAR,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ,
    source           VARCHAR NOT NULL,
    url              VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (repo, id)
);

CREATE TABLE deployment_statuses (
    repo             VARCHAR NOT NULL,
    deployment_id    BIGINT NOT NULL,
    id               BIGINT NOT NULL,
    state            VARCHAR NOT NULL,      -- success | failure | error | inactive | in_progress | ...
    environment      VARCHAR,
    created_at       TIMESTAMPTZ NOT NULL,
    source           VARCHAR NOT NULL,
    url              VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (repo, id)
);

CREATE TABLE releases (                     -- forge releases (git release tags stay in tags)
    repo             VARCHAR NOT NULL,
    id               BIGINT NOT NULL,
    tag_name         VARCHAR NOT NULL,
    name             VARCHAR,
    target_commitish VARCHAR,
    draft            BOOLEAN NOT NULL,
    prerelease       BOOLEAN NOT NULL,
    created_at       TIMESTAMPTZ,
    published_at     TIMESTAMPTZ,
    source           VARCHAR NOT NULL,
    url              VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (repo, id)
);

CREATE TABLE issues (                       -- for incidents now, specifications later
    repo             VARCHAR NOT NULL,
    number           BIGINT NOT NULL,
    title            VARCHAR,
    body             VARCHAR,
    author           VARCHAR,
    state            VARCHAR NOT NULL,
    labels           VARCHAR[],
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    closed_at        TIMESTAMPTZ,
    source           VARCHAR NOT NULL,
    url              VARCHAR,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON,
    PRIMARY KEY (repo, number)
);

CREATE TABLE skipped_objects (              -- objects a mapping could not read: logged, never silent
    repo             VARCHAR NOT NULL,
    source           VARCHAR NOT NULL,
    resource         VARCHAR NOT NULL,
    url              VARCHAR,
    reason           VARCHAR NOT NULL,
    fetched_at       TIMESTAMPTZ NOT NULL,
    raw              JSON
);
