-- On PostgreSQL check_ins is partitioned by day here; SQLite keeps one table (a single node's
-- database), deleted by date like the rest.
SELECT 1;
