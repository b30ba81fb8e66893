-- The id of the venue-code key the entrance's poster was last downloaded under: after a rotation,
-- reviewers see which posters still carry a key that is to be removed.
ALTER TABLE entrances ADD COLUMN code_key_id TEXT NOT NULL DEFAULT 'default';
