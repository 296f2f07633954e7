-- What the changes step last derived from, written in the transaction of its output, so the next
-- derive after an ingest that only appended to the mainline derives just the new changes
-- (derive/incremental.py): the mainline tip and length, the shallow boundary, and every tag as it
-- was, with where each release tag sat on the mainline.
CREATE TABLE derive_base (
    repo             VARCHAR NOT NULL PRIMARY KEY,
    tip_sha          VARCHAR,               -- the mainline's newest commit (NULL: no mainline)
    positions        BIGINT NOT NULL,       -- mainline commits
    shallow_commits  VARCHAR[],             -- repos.shallow_commits as derived
    root_cut         BOOLEAN NOT NULL       -- the mainline's oldest commit's ancestry is cut
);

CREATE TABLE derive_tags (
    repo             VARCHAR NOT NULL,
    name             VARCHAR NOT NULL,
    target_sha       VARCHAR,
    tag_time         TIMESTAMPTZ,
    release          BOOLEAN NOT NULL,      -- a usable release tag (pattern, plausible date, stored)
    fork_pos         BIGINT,                -- the last mainline position it contains (releases)
    PRIMARY KEY (repo, name)
);

-- What the line_ages step last replayed: so many reachable commits in replay order, and a digest of
-- that order (with which of them had line history); an ingest that only added commits after them
-- replays just the files those touch.
CREATE TABLE derive_line_base (
    repo             VARCHAR NOT NULL PRIMARY KEY,
    replayed         BIGINT NOT NULL,
    digest           VARCHAR NOT NULL
);
