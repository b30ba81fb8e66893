-- The id of the venue-code key an entrance's poster was last downloaded under by its venue (NULL:
-- never downloaded): after a rotation, reviewers see which posters still carry a key that is to
-- be removed. Posters of before carry the key that was the only one.
ALTER TABLE entrances ADD COLUMN code_key_id TEXT;
UPDATE entrances SET code_key_id = 'default';
