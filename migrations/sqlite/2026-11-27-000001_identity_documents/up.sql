-- What a person is known by: an identity document of one of these kinds, or, for someone
-- registered by hand without a document, their mobile number ('mobile'). The lookup hash of a
-- resident ID stays the hash of its number alone; the others hash 'kind:number'.
ALTER TABLE persons ADD COLUMN id_type TEXT NOT NULL DEFAULT 'resident_id'
    CHECK (id_type IN ('resident_id', 'passport', 'hk_macao_permit', 'taiwan_permit',
                       'foreign_permanent_resident', 'mobile'));
-- The birth date given beside a document whose number carries none (companions' ages).
ALTER TABLE persons ADD COLUMN birth_date DATE;
-- The region of the official who first named a person whose document names no home region
-- (every document but the resident ID): with their stays, what ties them to a region.
ALTER TABLE persons ADD COLUMN region_code TEXT;
