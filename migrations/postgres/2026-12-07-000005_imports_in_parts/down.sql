DROP INDEX venues_unfinished_import;
ALTER TABLE venues DROP COLUMN unfinished_import;
