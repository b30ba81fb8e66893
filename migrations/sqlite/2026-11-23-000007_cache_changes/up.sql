-- What changed, for every node's caches: written in the transaction of the change, read by each
-- node a few times a second (services/cache_sync.rs). Kept for an hour.
CREATE TABLE cache_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    key TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
CREATE INDEX cache_changes_time ON cache_changes (changed_at);
