DROP TABLE cache_changes;
