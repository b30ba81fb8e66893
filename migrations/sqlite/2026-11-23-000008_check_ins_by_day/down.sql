-- Partitioning cannot be undone in place: restore from a backup instead.
SELECT 1;
