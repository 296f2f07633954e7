-- Git history: repositories, refs, tags, commits and the files they change.
-- Keys come from the source's ids (repo + sha, repo + ref name), so re-ingesting never duplicates.

CREATE TABLE repos (
    repo             VARCHAR PRIMARY KEY,   -- OWNER/REPO from the origin URL, else the directory name
    path             VARCHAR,               -- where it was last ingested from
    remote_url       VARCHAR,
    default_branch   VARCHAR,               -- full ref name of the mainline; NULL when unknown
    head_sha         VARCHAR,
    head_detached    BOOLEAN,
    is_bare          BOOLEAN,
    is_shallow       BOOLEAN,
    shallow_before   TIMESTAMPTZ,           -- history before this is missing (shallow clones)
    first_ingested_at TIMESTAMPTZ,
    last_ingested_at TIMESTAMPTZ
);

CREATE TABLE ingest_runs (                  -- provenance of every git row (STYLE.md)
    run_id           BIGINT PRIMARY KEY,
    repo             VARCHAR NOT NULL,
    source           VARCHAR NOT NULL,      -- 'git'
    origin           VARCHAR NOT NULL,      -- the path that was read
    connector_version VARCHAR NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,           -- NULL: interrupted (its committed batches are kept)
    commits_added    BIGINT,
    commits_unreachable BIGINT
);

CREATE TABLE refs (
    repo             VARCHAR NOT NULL,
    name             VARCHAR NOT NULL,      -- refs/heads/main, refs/tags/v1.0, ...
    sha              VARCHAR NOT NULL,
    object_type      VARCHAR NOT NULL,      -- commit | tag | tree | blob
    PRIMARY KEY (repo, name)
);

CREATE TABLE tags (
    repo             VARCHAR NOT NULL,
    name             VARCHAR NOT NULL,      -- without refs/tags/
    target_sha       VARCHAR,               -- the commit; NULL when the tag points elsewhere
    tag_object_sha   VARCHAR,               -- NULL for lightweight tags
    is_annotated     BOOLEAN NOT NULL,
    tagger_name      VARCHAR,
    tagger_email     VARCHAR,
    tag_time         TIMESTAMPTZ,           -- tagger date, or the commit's committer date
    tag_tz_offset_min SMALLINT,
    message          VARCHAR,
    PRIMARY KEY (repo, name)
);

CREATE TABLE commits (
    repo             VARCHAR NOT NULL,
    sha              VARCHAR NOT NULL,
    parents          VARCHAR[] NOT NULL,
    author_name      VARCHAR,
    author_email     VARCHAR,
    author_time      TIMESTAMPTZ NOT NULL,  -- UTC
    author_tz_offset_min SMALLINT,          -- the author's original UTC offset
    committer_name   VARCHAR,
    committer_email  VARCHAR,
    committer_time   TIMESTAMPTZ NOT NULL,
    committer_tz_offset_min SMALLINT,
    subject          VARCHAR,
    body             VARCHAR,
    trailers         STRUCT(key VARCHAR, value VARCHAR)[],
    is_merge         BOOLEAN NOT NULL,
    pr_number        BIGINT,                -- PR/MR number the subject or body names
    revert_of        VARCHAR,               -- "This reverts commit <sha>"
    review_evidence  STRUCT(kind VARCHAR, person VARCHAR)[],
    date_flags       VARCHAR[],             -- author_before_1990, committer_in_future, ...
    files_changed    INTEGER,
    lines_added      BIGINT,
    lines_deleted    BIGINT,
    run_id           BIGINT NOT NULL,       -- ingest_runs.run_id that stored it
    reachable        BOOLEAN NOT NULL DEFAULT TRUE,  -- FALSE once no ref reaches it (force-push)
    line_history     BOOLEAN NOT NULL DEFAULT FALSE, -- its hunks are in line_hunks
    PRIMARY KEY (repo, sha)
);

CREATE TABLE commit_files (
    repo             VARCHAR NOT NULL,
    sha              VARCHAR NOT NULL,
    path             VARCHAR NOT NULL,
    old_path         VARCHAR,               -- set for renames
    added            INTEGER,               -- NULL for binary files
    deleted          INTEGER,
    is_binary        BOOLEAN NOT NULL
);

CREATE TABLE line_hunks (                   -- git log -p -U0 hunk ranges, one row per commit and file
    repo             VARCHAR NOT NULL,
    sha              VARCHAR NOT NULL,
    path             VARCHAR NOT NULL,
    old_start        INTEGER[] NOT NULL,
    old_count        INTEGER[] NOT NULL,
    new_start        INTEGER[] NOT NULL,
    new_count        INTEGER[] NOT NULL
);

CREATE TABLE sync_state (                   -- one cursor per repository, source and resource
    repo             VARCHAR NOT NULL,
    source           VARCHAR NOT NULL,
    resource         VARCHAR NOT NULL,
    cursor           VARCHAR,               -- JSON
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (repo, source, resource)
);
