-- Each audit entry names the personal-data key its hashes were made under (entries of before were
-- all made under the single key, whose id is `default`). `venuecode keys reseal` moves an entry to
-- the current key without touching the chain: it checks the entry under its old key, then writes
-- `rekeyed_hash`, the current key's hash of the entry and of the hash it was chained by.
ALTER TABLE audit_log ADD COLUMN key_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE audit_log ADD COLUMN rekeyed_hash TEXT;
