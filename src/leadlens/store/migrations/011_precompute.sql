-- What derive's precompute step stores once so reports need not work it out on every run
-- (derive/precompute.py): the AI attribution of every commit, by the rules in force.

CREATE TABLE commit_ai (
    repo             VARCHAR NOT NULL,
    sha              VARCHAR NOT NULL,      -- an AI-assisted commit (others have no row)
    evidence         STRUCT(rule VARCHAR, text VARCHAR, tool VARCHAR)[] NOT NULL,
    PRIMARY KEY (repo, sha)
);

CREATE TABLE commit_ai_state (
    repo             VARCHAR PRIMARY KEY,
    rules            VARCHAR NOT NULL,      -- fingerprint of the attribution rules that classified
    through_run      BIGINT NOT NULL        -- commits of ingest runs up to this one are classified
);

-- Each change's git activity islands (derive/activity.py): its commits' author and committer
-- times, each active for the activity window after it, overlapping windows merged.
CREATE TABLE change_activity (
    repo             VARCHAR NOT NULL,
    change_id        VARCHAR NOT NULL,
    "start"          TIMESTAMPTZ NOT NULL,
    "end"            TIMESTAMPTZ NOT NULL       -- the last event of the island plus the window
);

CREATE TABLE change_activity_keys (            -- what each change's islands were computed from
    repo             VARCHAR NOT NULL,
    change_id        VARCHAR NOT NULL,
    n                BIGINT NOT NULL,           -- its commits
    fp               UBIGINT NOT NULL,          -- XOR of hash(sha, author_time, committer_time)
    PRIMARY KEY (repo, change_id)
);

CREATE TABLE activity_state (
    repo             VARCHAR PRIMARY KEY,
    window_ms        BIGINT NOT NULL,           -- the activity window the islands were made with
    changes_inputs   VARCHAR                    -- derive_state's inputs of the changes step then
);
