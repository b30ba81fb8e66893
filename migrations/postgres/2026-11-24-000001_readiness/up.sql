-- The row every readiness check rewrites: a write that proves the database takes writes
-- (a read-only server or a full disk refuses it).
CREATE TABLE readiness (
    id INTEGER PRIMARY KEY,
    checked_at TIMESTAMP NOT NULL
);
