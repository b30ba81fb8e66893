ALTER TABLE audit_log DROP COLUMN rekeyed_hash;
ALTER TABLE audit_log DROP COLUMN key_id;
