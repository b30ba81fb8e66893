DELETE FROM regions WHERE level = 5;
DELETE FROM reference_data WHERE name LIKE 'villages:%';
ALTER TABLE regions DROP CONSTRAINT regions_level_check;
ALTER TABLE regions ADD CONSTRAINT regions_level_check CHECK (level BETWEEN 1 AND 4);
