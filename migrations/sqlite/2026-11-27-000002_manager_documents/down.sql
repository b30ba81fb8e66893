ALTER TABLE venues DROP COLUMN manager_id_type;
