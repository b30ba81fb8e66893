-- A registrar's import is written in parts, so that scans and other writers are never kept
-- waiting behind it. Until its last part is written, its venues carry the import's number here
-- and no one sees them; the last step clears it for all of them at once. Venues of an import
-- that never finished (its node stopped) are deleted by the retention purge.
ALTER TABLE venues ADD COLUMN unfinished_import BIGINT;
CREATE INDEX venues_unfinished_import ON venues (unfinished_import) WHERE unfinished_import IS NOT NULL;
