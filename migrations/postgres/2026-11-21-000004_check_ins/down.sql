DROP TABLE alerts;
DROP TABLE check_ins;
DROP TABLE companions;
DROP TABLE health_code_changes;
DROP TABLE health_codes;
ALTER TABLE persons DROP COLUMN phone_hash;
ALTER TABLE persons DROP COLUMN phone_sealed;
