-- Line ages, derived from line_hunks by replaying each file's history (store/line_ages.py): what
-- rework needs, with no git call at report time. The age limit (rework's N days) is not stored, so
-- it can change per report without a re-derive.

CREATE TABLE line_changes (                 -- one row per commit with line history and hunks
    repo             VARCHAR NOT NULL,
    sha              VARCHAR NOT NULL,
    changed_lines    BIGINT NOT NULL,       -- Σ over hunks of max(old_count, new_count): each line touched once
    old_lines        BIGINT NOT NULL,       -- Σ old_count: old lines rewritten or deleted
    new_lines        BIGINT NOT NULL,       -- Σ new_count: lines written
    PRIMARY KEY (repo, sha)
);

CREATE TABLE rewritten_lines (              -- one row per commit and birth of the old lines it removed
    repo             VARCHAR NOT NULL,
    sha              VARCHAR NOT NULL,      -- the commit that rewrote or deleted the lines
    born_sha         VARCHAR,               -- the commit that added them; NULL: before the known history
    born_at          TIMESTAMPTZ,           -- its committer time; NULL when born_sha is
    lines            INTEGER NOT NULL       -- how many; per commit they add up to line_changes.old_lines
);
