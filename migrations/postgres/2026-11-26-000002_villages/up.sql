-- Villages and communities (level 5) join the divisions, loaded after start-up per province.
ALTER TABLE regions DROP CONSTRAINT regions_level_check;
ALTER TABLE regions ADD CONSTRAINT regions_level_check CHECK (level BETWEEN 1 AND 5);
