ALTER TABLE persons DROP COLUMN region_code;
ALTER TABLE persons DROP COLUMN birth_date;
ALTER TABLE persons DROP COLUMN id_type;
