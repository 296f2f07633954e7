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
