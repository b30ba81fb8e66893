-- Identity and authority cannot be undone without losing data: restore from a backup instead.
SELECT 1;
