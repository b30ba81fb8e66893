-- Villages and communities (level 5) join the divisions, loaded after start-up per province.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE regions_rebuilt (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    level SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 5),
    parent_code TEXT REFERENCES regions (code)
);
INSERT INTO regions_rebuilt (code, name, level, parent_code)
SELECT code, name, level, parent_code FROM regions;
DROP TABLE regions;
ALTER TABLE regions_rebuilt RENAME TO regions;
CREATE INDEX regions_parent_code ON regions (parent_code);
COMMIT;
PRAGMA foreign_keys = ON;
