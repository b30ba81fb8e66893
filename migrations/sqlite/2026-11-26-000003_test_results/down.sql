ALTER TABLE venues DROP COLUMN test_required_hours;
DROP TABLE vaccinations;
DROP TABLE test_results;
