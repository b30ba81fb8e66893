-- Back to four levels: the villages go.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE regions_rebuilt (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    level SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 4),
    parent_code TEXT REFERENCES regions (code)
);
INSERT INTO regions_rebuilt (code, name, level, parent_code)
SELECT code, name, level, parent_code FROM regions WHERE level <= 4;
DROP TABLE regions;
ALTER TABLE regions_rebuilt RENAME TO regions;
CREATE INDEX regions_parent_code ON regions (parent_code);
COMMIT;
DELETE FROM reference_data WHERE name LIKE 'villages:%';
PRAGMA foreign_keys = ON;
