-- The kind of the manager's identity document (the number's lookup hash follows persons': the
-- resident ID's number alone, 'kind:number' for the others).
ALTER TABLE venues ADD COLUMN manager_id_type TEXT NOT NULL DEFAULT 'resident_id'
    CHECK (manager_id_type IN ('resident_id', 'passport', 'hk_macao_permit', 'taiwan_permit',
                               'foreign_permanent_resident'));
