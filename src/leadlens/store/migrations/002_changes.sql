-- Derived tables, rebuilt by the derive step from the stored commit graph (reports never call git).

CREATE TABLE mainline (                     -- the default branch's first-parent chain
    repo             VARCHAR NOT NULL,
    sha              VARCHAR NOT NULL,
    position         BIGINT NOT NULL,       -- 0 = the oldest commit
    PRIMARY KEY (repo, sha)
);

CREATE TABLE changes (                      -- the unit of delivery (DESIGN.md, Change)
    repo             VARCHAR NOT NULL,
    id               VARCHAR NOT NULL,      -- OWNER/REPO#N, else OWNER/REPO@<sha>
    number           BIGINT,                -- PR/MR number when known
    merge_sha        VARCHAR NOT NULL,      -- the landing commit
    title            VARCHAR,
    author           VARCHAR,
    is_merge         BOOLEAN NOT NULL,
    commits          INTEGER NOT NULL,
    lines_added      BIGINT,
    lines_deleted    BIGINT,
    files            INTEGER,               -- distinct paths changed
    release          VARCHAR,               -- earliest release (tag) containing it
    PRIMARY KEY (repo, id)
);

CREATE TABLE change_commits (
    repo             VARCHAR NOT NULL,
    change_id        VARCHAR NOT NULL,
    sha              VARCHAR NOT NULL
);

CREATE TABLE milestones (                   -- one row per change and milestone that is known
    repo             VARCHAR NOT NULL,
    change_id        VARCHAR NOT NULL,
    name             VARCHAR NOT NULL,      -- item_created ... released (DESIGN.md, Milestones)
    "at"             TIMESTAMPTZ NOT NULL,
    source           VARCHAR NOT NULL,      -- git, github, ...
    proxy            BOOLEAN NOT NULL,      -- a stand-in (git-only ready_for_review)
    PRIMARY KEY (repo, change_id, name)
);
