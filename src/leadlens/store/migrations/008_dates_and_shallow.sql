-- Figures people can trust (DESIGN.md, Unknown is not zero): dates git cannot give as a time,
-- implausible dates, and shallow clones.

-- A commit date git prints empty or beyond the year 9999 is unknown: NULL, flagged in date_flags
-- (author_malformed, committer_malformed), never a failed ingest.
ALTER TABLE commits ALTER COLUMN author_time DROP NOT NULL;
ALTER TABLE commits ALTER COLUMN committer_time DROP NOT NULL;

-- A milestone whose time comes from an implausible date (a commit flagged before 1990 or in the
-- future): kept, but left out of flow and time-series figures, and counted.
ALTER TABLE milestones ADD COLUMN flagged BOOLEAN NOT NULL DEFAULT FALSE;

-- Flag the git milestones derived before this column existed (the next derive recomputes them).
UPDATE milestones AS m SET flagged = TRUE
WHERE m.source = 'git' AND m.name IN ('work_started', 'ready_for_review', 'merged') AND EXISTS (
    SELECT 1 FROM change_commits cc JOIN commits c ON c.repo = cc.repo AND c.sha = cc.sha
    WHERE cc.repo = m.repo AND cc.change_id = m.change_id AND (
        (m.name <> 'merged' AND c.author_time = m."at"
         AND list_has_any(c.date_flags, ['author_before_1990', 'author_in_future']))
        OR (m.name = 'merged' AND c.committer_time = m."at"
            AND list_has_any(c.date_flags, ['committer_before_1990', 'committer_in_future']))));

-- A shallow clone's boundary: the commits whose parents the clone does not have (git's
-- .git/shallow); git shows them without parents, so the graph alone cannot tell.
ALTER TABLE repos ADD COLUMN shallow_commits VARCHAR[];

-- A change whose commits reach that boundary: its history is cut (which commits it really has is
-- unknown), so figures leave it out and say how many.
ALTER TABLE changes ADD COLUMN shallow_cut BOOLEAN NOT NULL DEFAULT FALSE;
