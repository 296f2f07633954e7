-- Activity times on change_commits, so the report finds who acted when without joining commits
-- (10 million rows on a large store): the author and committer time of each commit of a change.
ALTER TABLE change_commits ADD COLUMN author_time TIMESTAMPTZ;
ALTER TABLE change_commits ADD COLUMN committer_time TIMESTAMPTZ;
