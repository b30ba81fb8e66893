-- The row every readiness check rewrites: a write that proves the database takes writes
-- (a full disk or a read-only file refuses it).
CREATE TABLE readiness (
    id INTEGER PRIMARY KEY NOT NULL,
    checked_at TIMESTAMP NOT NULL
);
