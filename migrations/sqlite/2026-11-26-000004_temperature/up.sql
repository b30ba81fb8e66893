-- The temperature taken at the door with a hand registration, in tenths of a degree Celsius.
ALTER TABLE check_ins ADD COLUMN temperature_dc SMALLINT CHECK (temperature_dc BETWEEN 300 AND 450);
