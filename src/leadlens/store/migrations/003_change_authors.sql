-- The distinct author names of a change's commits (its work commits for a merge): bots and AI
-- agents are recognised from these at report time, so changing the patterns needs no re-derive.
ALTER TABLE changes ADD COLUMN authors VARCHAR[];
