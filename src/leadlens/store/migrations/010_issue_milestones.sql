-- A GitHub issue's milestone (its title), so `leadlens forecast --scope milestone:NAME` can name
-- the work of a milestone. Issues stored before this column existed carry it in their payload.

ALTER TABLE issues ADD COLUMN milestone VARCHAR;

UPDATE issues SET milestone = json_extract_string(raw, '$.milestone.title') WHERE raw IS NOT NULL;
