ALTER TABLE check_ins DROP COLUMN temperature_dc;
