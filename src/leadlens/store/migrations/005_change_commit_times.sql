-- Activity times on change_commits, so the report finds who acted when without joining commits
-- (10 million rows on a large store): the author and committer time of each commit of a change.
ALTER TABLE change_commits ADD COLUMN author_time TIMESTAMPTZ;
ALTER TABLE change_commits ADD COLUMN committer_time TIMESTAMPTZ;

-- Fill them for changes derived before these columns existed.
UPDATE change_commits AS cc SET author_time = c.author_time, committer_time = c.committer_time
FROM commits c
WHERE c.repo = cc.repo AND c.sha = cc.sha;
