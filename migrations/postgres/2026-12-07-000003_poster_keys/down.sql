ALTER TABLE entrances DROP COLUMN code_key_id;
