UPDATE persons SET birth_date = (SELECT MIN(c.birth_date) FROM companions c WHERE c.person_id = persons.id);
ALTER TABLE companions DROP COLUMN accepted_at;
ALTER TABLE companions DROP COLUMN birth_date;
DROP TABLE staff_sessions;
