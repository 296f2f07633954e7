-- The distinct author names of a change's commits (its work commits for a merge): bots and AI
-- agents are recognised from these at report time, so changing the patterns needs no re-derive.
ALTER TABLE changes ADD COLUMN authors VARCHAR[];

-- Fill it for changes derived before this column existed (as derive does: the landing commit
-- counts only when the change has no other commit).
UPDATE changes AS ch SET authors = a.authors
FROM (
    SELECT cc.repo, cc.change_id,
           list_sort(list_distinct(list(coalesce(c.author_name, '')))) AS authors
    FROM change_commits cc
    JOIN changes x ON x.repo = cc.repo AND x.id = cc.change_id
    JOIN commits c ON c.repo = cc.repo AND c.sha = cc.sha
    WHERE cc.sha <> x.merge_sha OR x.commits = 1
    GROUP BY cc.repo, cc.change_id
) AS a
WHERE a.repo = ch.repo AND a.change_id = ch.id;
